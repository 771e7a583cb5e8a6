// libFuzzer target: any request given to the HTTP API's handler (server/api.cc) must get a
// well-formed answer (a status from 200 to 599 and a JSON body), never a crash, a hang or
// undefined behaviour. The input: a method line, a path line (with ?query), then the body.
// The engine has the shipped order process deployed, so requests reach real instances.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>

#include "api.h"
#include "ordo/loader.h"

namespace {

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
  static ordo::server::ApiOptions options = [] {
    ordo::server::ApiOptions o;
    o.payment.secret = "fuzz-secret";
    return o;
  }();
  static ordo::server::Api instance(*engine, options);
  // Closed: a long poll (fetch-and-lock with requestTimeout) answers at once instead of
  // waiting up to a minute per input.
  static const bool closed = (instance.close(), true);
  (void)closed;
  return instance;
}

std::string_view line(std::string_view& in) {
  const std::size_t end = in.find('\n');
  std::string_view out = in.substr(0, end);
  in = end == std::string_view::npos ? std::string_view() : in.substr(end + 1);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ordo::server::Request r;
  r.method = std::string(line(in));
  std::string_view target = line(in);
  const std::size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      std::string_view pair = query.substr(0, query.find('&'));
      query = pair.size() < query.size() ? query.substr(pair.size() + 1) : std::string_view();
      const std::size_t eq = pair.find('=');
      r.query[std::string(pair.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1));
    }
  }
  r.body = std::string(in);
  ordo::server::Response out = api().handle(r);
  if (out.status < 200 || out.status > 599) __builtin_trap();
  if (out.content_type == "application/json" &&
      nlohmann::json::parse(out.body, nullptr, false).is_discarded()) {
    __builtin_trap();
  }
  return 0;
}
