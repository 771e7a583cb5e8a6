// Escaping text for XML (the XES event log, the XHTML report): one place for both.
#pragma once

#include <string>
#include <string_view>

namespace ordo::sim {

// Appends `text` escaped for XML text and attribute values: & < > " ' as entities, line
// breaks and tabs as character references (a parser would turn raw ones in attributes into
// spaces), and other control characters, which XML 1.0 does not allow, as spaces.
inline void append_xml_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
    }
  }
}

}  // namespace ordo::sim
