// Builds the console into OUT (default web/dist): the bundle of src/ and bpmn-js with
// content hashes in their names, the page that loads them, and console_assets.S, which
// puts every file into the ordo program (server/console.cc reads its table). Nothing is
// downloaded: everything comes from node_modules (npm ci, scripts/install-deps).
//
//   node web/build.mjs build/server/console
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, 'dist'));
const files = join(out, 'files');
rmSync(files, { recursive: true, force: true });
mkdirSync(join(files, 'assets'), { recursive: true });

const built = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { console: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020'],
  outdir: join(files, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  loader: { '.svg': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file' },
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(built.metafile.outputs).map((p) => resolve(here, p));
const named = (ext) => {
  const found = outputs.find((p) => p.endsWith(ext) && !p.endsWith(`.LEGAL${ext}`));
  if (!found) throw new Error(`the bundle has no ${ext} file`);
  return '/' + relative(files, found);
};
const page = readFileSync(join(here, 'src/index.html'), 'utf8')
  .replace('%SCRIPT%', named('.js'))
  .replace('%STYLE%', named('.css'));
writeFileSync(join(files, 'index.html'), page);

// Every file, with the type it is served as.
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.eot': 'application/vnd.ms-fontobject',
  '.txt': 'text/plain; charset=utf-8',
};
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
const all = walk(files).sort();
const quoted = (s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
let asm = '# Written by web/build.mjs: the console\'s files, and their table (server/console.cc).\n';
all.forEach((file, i) => {
  asm += `  .section .rodata\n  .p2align 4\nordo_console_f${i}:\n  .incbin ${quoted(file)}\n`;
});
asm += '  .section .data.rel.ro,"aw"\n  .p2align 3\n  .globl ordo_console_assets\n' +
  '  .type ordo_console_assets, @object\nordo_console_assets:\n';
all.forEach((file, i) => {
  asm += `  .quad ordo_console_p${i}, ordo_console_f${i}, ${statSync(file).size}, ordo_console_t${i}\n`;
});
asm += '  .quad 0, 0, 0, 0\n  .section .rodata.str1.1,"aMS",@progbits,1\n';
all.forEach((file, i) => {
  const type = types[extname(file)] ?? 'application/octet-stream';
  asm += `ordo_console_p${i}:\n  .asciz ${quoted('/' + relative(files, file))}\n`;
  asm += `ordo_console_t${i}:\n  .asciz ${quoted(type)}\n`;
});
asm += '  .section .note.GNU-stack,"",@progbits\n';
writeFileSync(join(out, 'console_assets.S'), asm);
