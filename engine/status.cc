#include "ordo/status.h"

namespace ordo {

std::string_view to_string(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kInvalidDefinition:
      return "invalid definition";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kAdapterError:
      return "adapter error";
    case StatusCode::kIoError:
      return "I/O error";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kInternal:
      return "internal error";
    case StatusCode::kBusy:
      return "busy";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(ordo::to_string(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace ordo
