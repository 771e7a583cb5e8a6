// libFuzzer target: any bytes a client sends, in any fragments, read as `ordo serve` reads
// them (Beast's request parser with the transport's limits, read_target, then the API's
// checks before and after the body) must end in a request the API answers well (a status
// from 200 to 599, a JSON body) or in a parse error the transport answers itself; never a
// crash, a hang or undefined behaviour. The input: one byte giving the size of the fragments
// the bytes arrive in (1: a client sending a byte at a time), then the bytes: request heads,
// Content-Length and chunked bodies, pipelined requests, garbage.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "api.h"
#include "http_server.h"
#include "ordo/loader.h"

namespace {

namespace http = boost::beast::http;

ordo::server::Api& api() {
  static std::unique_ptr<ordo::Engine> engine = [] {
    auto e = std::make_unique<ordo::Engine>();
    std::ifstream in(ORDO_SOURCE_DIR "/processes/order-acceptance.bpmn");
    std::stringstream xml;
    xml << in.rdbuf();
    ordo::LoadResult loaded = ordo::load_bpmn(xml.str());
    if (loaded.ok()) (void)e->deploy(loaded.document);
    return e;
  }();
  static ordo::server::Api instance(*engine, {});
  // Closed: a long poll answers at once instead of waiting per input.
  static const bool closed = (instance.close(), true);
  (void)closed;
  return instance;
}

void check(const ordo::server::Response& out) {
  if (out.status < 200 || out.status > 599) __builtin_trap();
  if (out.content_type == "application/json" &&
      nlohmann::json::parse(out.body, nullptr, false).is_discarded()) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t fragment = data[0] == 0 ? 1 : data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string pending;  // arrived and not yet taken by the parser
  // Up to four pipelined requests, as a keep-alive connection would carry them.
  for (int request = 0; request < 4; ++request) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(ordo::server::kMaxHeadBytes));
    parser.body_limit(4096);
    std::optional<ordo::server::Request> head;
    boost::beast::error_code ec;
    while (true) {
      if (!pending.empty()) {
        const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
        pending.erase(0, used);
        if (ec == http::error::need_more) {
          ec = {};
        } else if (ec) {
          return 0;  // answered by the transport (400, 413, 431) and closed
        }
      }
      if (parser.is_header_done() && !head) {
        head.emplace();
        head->method = std::string(parser.get().method_string());
        ordo::server::read_target(parser.get().target(), *head);
        for (const auto& field : parser.get()) {
          std::string name(field.name_string());
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          head->headers.emplace(std::move(name), std::string(field.value()));
        }
        if (std::optional<ordo::server::Response> refused = api().refuse_before_body(*head)) {
          check(*refused);
          return 0;  // refused before its body; the connection closes
        }
      }
      if (parser.is_done()) break;
      if (pending.empty() || ec) {
        if (in.empty()) return 0;  // the client stopped sending: the deadline closes it
        const std::string_view next = in.substr(0, fragment);
        in.remove_prefix(next.size());
        pending.append(next);
      } else if (in.empty()) {
        return 0;  // a part the parser cannot take yet, and nothing more comes
      } else {
        const std::string_view next = in.substr(0, fragment);
        in.remove_prefix(next.size());
        pending.append(next);
      }
    }
    head->body = std::move(parser.get().body());
    check(api().handle(*head));
    if (!parser.get().keep_alive()) return 0;
  }
  return 0;
}
