// Text that came from outside (a database, a request, a file) made safe to print on a
// terminal or into a line-based log.
#pragma once

#include <string>
#include <string_view>

namespace ordo::util {

// `text` with everything a terminal could take as a command, or a log reader as a line
// break, written out as an escape: the C0 control characters (a newline as \n, a carriage
// return as \r, a tab as \t, the others as \x1b and so on), DEL as \x7f, the C1 controls
// (U+0080 to U+009F) as \u0080 to \u009f, and each byte that is not part of valid UTF-8 as
// \xNN. Everything else, including all other UTF-8 and the backslash, is kept as it is, so
// ordinary text (names, paths, messages) reads unchanged.
std::string escape_control(std::string_view text);

// Whether escape_control() would change `text`.
bool needs_escaping(std::string_view text);

}  // namespace ordo::util
