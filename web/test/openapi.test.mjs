// docs/openapi.json is a valid OpenAPI 3.0 document (checked against the specification's own
// schema by swagger-parser), and every operation has an operationId, so that client
// generators name their methods.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

import SwaggerParser from '@apidevtools/swagger-parser';

const file = join(resolve(dirname(fileURLToPath(import.meta.url)), '../..'), 'docs/openapi.json');

it('docs/openapi.json is valid OpenAPI 3.0 with an operationId on every operation', async () => {
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  assert.match(spec.openapi, /^3\.0\.\d+$/);
  await SwaggerParser.validate(structuredClone(spec));
  const ids = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      assert.ok(op.operationId, `${method.toUpperCase()} ${path} has no operationId`);
      ids.push(op.operationId);
    }
  }
  assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
});
