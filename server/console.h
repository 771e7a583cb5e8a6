// The web console (web/): its files are built into the program by web/build.mjs and served
// by `ordo serve` at /, with their types, caching and security headers. Everything it shows
// it reads from the /v1 API with the token the user gives it; the files themselves hold no
// data and need no token.
#pragma once

#include <optional>
#include <string_view>

#include "api.h"

namespace ordo::server {

// Whether `path` is the console's: "/", "/index.html" or under "/assets/".
bool is_console_path(std::string_view path) noexcept;

// The answer to a GET of the console's `path`: the file, or 404 (also when this program was
// built without the console, saying how to build it).
Response console_file(std::string_view path);

// Whether the console was built into this program.
bool console_built() noexcept;

}  // namespace ordo::server
