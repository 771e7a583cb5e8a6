#include "console.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace ordo::server {

namespace {

// One file of the console, as web/build.mjs lays out its table (console_assets.S): the path
// it is served at, its bytes, and its Content-Type. The table ends with a null path.
struct ConsoleAsset {
  const char* path;
  const unsigned char* data;
  std::uint64_t size;
  const char* type;
};

#ifdef ORDO_CONSOLE_BUILT
extern "C" const ConsoleAsset ordo_console_assets[];
const ConsoleAsset* assets() noexcept { return ordo_console_assets; }
#else
const ConsoleAsset kNone[] = {{nullptr, nullptr, 0, nullptr}};
const ConsoleAsset* assets() noexcept { return kNone; }
#endif

// The page loads only its own files and talks only to its own server: no inline script or
// style, nothing from another origin, never inside a frame.
constexpr const char* kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

}  // namespace

bool is_console_path(std::string_view path) noexcept {
  return path == "/" || path == "/index.html" || path.starts_with("/assets/");
}

bool console_built() noexcept { return assets()[0].path != nullptr; }

Response console_file(std::string_view path) {
  if (path == "/") path = "/index.html";
  for (const ConsoleAsset* a = assets(); a->path != nullptr; ++a) {
    if (path != a->path) continue;
    Response out;
    out.content_type = a->type;
    out.body.assign(reinterpret_cast<const char*>(a->data), a->size);
    // The page is asked for again each time (it names the current files); the files carry
    // a hash of their content in their names, so they never change under a name.
    const bool page = path == "/index.html";
    out.headers = {{"Cache-Control", page ? "no-cache" : "public, max-age=31536000, immutable"},
                   {"Content-Security-Policy", kPolicy},
                   {"X-Frame-Options", "DENY"},
                   {"Referrer-Policy", "no-referrer"}};
    return out;
  }
  Response missing;
  missing.status = 404;
  missing.content_type = "text/plain; charset=utf-8";
  missing.body = console_built()
                     ? "no such file of the console: " + std::string(path) + "\n"
                     : "this ordo was built without its web console: install Node.js, run "
                       "scripts/install-deps (it runs npm ci in web/), and build again\n";
  missing.headers = {{"Cache-Control", "no-cache"}};
  return missing;
}

}  // namespace ordo::server
