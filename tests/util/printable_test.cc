// util::escape_control: text from outside, safe to print (engine/util/printable.cc).
#include <gtest/gtest.h>

#include <string>

#include "util/printable.h"

namespace ordo::util {
namespace {

TEST(EscapeControl, ControlCharactersBecomeEscapesAndTheRestStays) {
  EXPECT_EQ(escape_control("A-1\x1b[2J\x07\n\r\tx\x7f"), "A-1\\x1b[2J\\x07\\n\\r\\tx\\x7f");
  EXPECT_EQ(escape_control(std::string("a\0b", 3)), "a\\x00b");
  // UTF-8 stays, the backslash too; C1 controls (U+009B is a CSI to some terminals) and
  // bytes that are not UTF-8 do not.
  EXPECT_EQ(escape_control("Müller 東京 🚚 C:\\orders"), "Müller 東京 🚚 C:\\orders");
  EXPECT_EQ(escape_control("\xc2\x9b"
                           "31m"),
            "\\u009b31m");
  EXPECT_EQ(escape_control("caf\xe9 \xff\xc3"), "caf\\xe9 \\xff\\xc3");
  EXPECT_EQ(escape_control("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a surrogate is no UTF-8";
}

TEST(EscapeControl, NeedsEscapingSaysWhetherAnythingWouldChange) {
  EXPECT_FALSE(needs_escaping("plain text, Müller"));
  EXPECT_FALSE(needs_escaping(""));
  EXPECT_TRUE(needs_escaping("two\nlines"));
  EXPECT_TRUE(needs_escaping("\xff"));
}

}  // namespace
}  // namespace ordo::util
