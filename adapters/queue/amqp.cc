// AMQP 0-9-1 over rabbitmq-c (see amqp.h).
#include "queue/amqp.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <sys/time.h>

#include <chrono>
#include <deque>
#include <map>
#include <set>

namespace ordo::adapters::amqp {

using nlohmann::json;

namespace {

std::string text(amqp_bytes_t b) {
  return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

amqp_bytes_t bytes(std::string_view s) {
  amqp_bytes_t b;
  b.len = s.size();
  b.bytes = const_cast<char*>(s.data());
  return b;
}

timeval timeval_of(std::int64_t ms) {
  if (ms < 0) ms = 0;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

json field_to_json(const amqp_field_value_t& v);

json table_to_json(const amqp_table_t& t) {
  json out = json::object();
  for (int i = 0; i < t.num_entries; ++i) {
    const amqp_table_entry_t& e = t.entries[i];
    out[text(e.key)] = field_to_json(e.value);
  }
  return out;
}

json field_to_json(const amqp_field_value_t& v) {
  switch (v.kind) {
    case AMQP_FIELD_KIND_BOOLEAN:
      return v.value.boolean != 0;
    case AMQP_FIELD_KIND_I8:
      return v.value.i8;
    case AMQP_FIELD_KIND_U8:
      return v.value.u8;
    case AMQP_FIELD_KIND_I16:
      return v.value.i16;
    case AMQP_FIELD_KIND_U16:
      return v.value.u16;
    case AMQP_FIELD_KIND_I32:
      return v.value.i32;
    case AMQP_FIELD_KIND_U32:
      return v.value.u32;
    case AMQP_FIELD_KIND_I64:
      return v.value.i64;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP:
      return v.value.u64;
    case AMQP_FIELD_KIND_F32:
      return static_cast<double>(v.value.f32);
    case AMQP_FIELD_KIND_F64:
      return v.value.f64;
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES:
      return text(v.value.bytes);
    case AMQP_FIELD_KIND_ARRAY: {
      json a = json::array();
      for (int i = 0; i < v.value.array.num_entries; ++i) {
        a.push_back(field_to_json(v.value.array.entries[i]));
      }
      return a;
    }
    case AMQP_FIELD_KIND_TABLE:
      return table_to_json(v.value.table);
    case AMQP_FIELD_KIND_DECIMAL: {
      double d = static_cast<double>(v.value.decimal.value);
      for (int i = 0; i < v.value.decimal.decimals; ++i) d /= 10;
      return d;
    }
    default:
      return nullptr;
  }
}

// A flat AMQP table built from a JSON object: strings, whole numbers, numbers and booleans
// as themselves; anything else as its JSON text. Owns the memory the table points into.
class TableBuilder {
 public:
  explicit TableBuilder(const json& object) {
    if (!object.is_object()) return;
    for (const auto& [key, value] : object.items()) {
      amqp_table_entry_t e{};
      e.key = bytes(keep(key));
      if (value.is_string()) {
        e.value.kind = AMQP_FIELD_KIND_UTF8;
        e.value.value.bytes = bytes(keep(value.get<std::string>()));
      } else if (value.is_boolean()) {
        e.value.kind = AMQP_FIELD_KIND_BOOLEAN;
        e.value.value.boolean = value.get<bool>() ? 1 : 0;
      } else if (value.is_number_integer()) {
        e.value.kind = AMQP_FIELD_KIND_I64;
        e.value.value.i64 = value.get<std::int64_t>();
      } else if (value.is_number()) {
        e.value.kind = AMQP_FIELD_KIND_F64;
        e.value.value.f64 = value.get<double>();
      } else {
        e.value.kind = AMQP_FIELD_KIND_UTF8;
        e.value.value.bytes = bytes(keep(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      }
      entries_.push_back(e);
    }
  }
  amqp_table_t table() {
    amqp_table_t t;
    t.num_entries = static_cast<int>(entries_.size());
    t.entries = entries_.empty() ? nullptr : entries_.data();
    return t;
  }

 private:
  std::string_view keep(std::string s) { return strings_.emplace_back(std::move(s)); }
  std::deque<std::string> strings_;  // stable addresses
  std::vector<amqp_table_entry_t> entries_;
};

// What a method that ends a channel, a connection or a consumer says (the broker closed or
// cancelled it); empty for any other method.
std::string closing_text(const amqp_method_t& method) {
  switch (method.id) {
    case AMQP_CONNECTION_CLOSE_METHOD: {
      const auto* m = static_cast<const amqp_connection_close_t*>(method.decoded);
      return "the broker closed the connection: " + std::to_string(m->reply_code) + " " +
             text(m->reply_text);
    }
    case AMQP_CHANNEL_CLOSE_METHOD: {
      const auto* m = static_cast<const amqp_channel_close_t*>(method.decoded);
      return "the broker closed the channel: " + std::to_string(m->reply_code) + " " +
             text(m->reply_text);
    }
    case AMQP_BASIC_CANCEL_METHOD:
      return "the broker cancelled the consumer (was its queue deleted?)";
    default:
      return {};
  }
}

std::string reply_text(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply from the broker";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (std::string closed = closing_text(r.reply); !closed.empty()) return closed;
      return "the broker answered method " + std::to_string(r.reply.id);
  }
  return "unknown reply";
}

bool channel_not_found(const amqp_rpc_reply_t& r) {
  if (r.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || r.reply.id != AMQP_CHANNEL_CLOSE_METHOD) {
    return false;
  }
  return static_cast<const amqp_channel_close_t*>(r.reply.decoded)->reply_code == 404;
}

}  // namespace

struct Connection::State {
  amqp_connection_state_t conn = nullptr;
  struct Confirms {
    std::uint64_t published = 0;
    std::set<std::uint64_t> outstanding;
    std::string refused;  // a nack or a return since the last wait
  };
  std::map<std::uint16_t, Confirms> confirms;
};

Connection::Connection(std::unique_ptr<State> state) : state_(std::move(state)) {}

Connection::~Connection() {
  if (state_ == nullptr || state_->conn == nullptr) return;
  if (!broken_) (void)amqp_connection_close(state_->conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(state_->conn);
}

std::string Connection::redacted(const std::string& url) {
  const std::size_t scheme = url.find("://");
  const std::size_t at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const std::size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& url, std::string_view name,
                                                     std::int64_t timeout_ms) {
  std::string copy = url;
  amqp_connection_info info{};
  amqp_default_connection_info(&info);
  if (amqp_parse_url(copy.data(), &info) != AMQP_STATUS_OK) {
    return Status::invalid_argument("'" + redacted(url) +
                                    "' is not an AMQP URL (amqp://user:password@host:port/vhost)");
  }
  if (info.ssl != 0) {
    return Status::invalid_argument("'" + redacted(url) +
                                    "': amqps:// is not supported by this build; use amqp://");
  }
  auto state = std::make_unique<State>();
  state->conn = amqp_new_connection();
  if (state->conn == nullptr) return Status::internal("cannot allocate an AMQP connection");
  std::unique_ptr<Connection> c(new Connection(std::move(state)));
  amqp_connection_state_t conn = c->state_->conn;
  amqp_socket_t* socket = amqp_tcp_socket_new(conn);
  if (socket == nullptr) {
    c->broken_ = true;
    return Status::internal("cannot make a socket for AMQP");
  }
  timeval tv = timeval_of(timeout_ms);
  const std::string where = info.host + std::string(":") + std::to_string(info.port);
  if (int rc = amqp_socket_open_noblock(socket, info.host, info.port, &tv); rc != AMQP_STATUS_OK) {
    c->broken_ = true;
    return Status(StatusCode::kAdapterError, "cannot connect to the AMQP broker at " + where +
                                                 ": " + amqp_error_string2(rc));
  }
  (void)amqp_set_rpc_timeout(conn, &tv);
  const std::string connection_name(name);
  // consumer_cancel_notify: the broker tells a consumer whose queue is deleted (rabbitmq-c
  // does not ask for it by itself).
  amqp_table_entry_t capability{};
  capability.key = amqp_cstring_bytes("consumer_cancel_notify");
  capability.value.kind = AMQP_FIELD_KIND_BOOLEAN;
  capability.value.value.boolean = 1;
  amqp_table_entry_t entries[2] = {};
  entries[0].key = amqp_cstring_bytes("connection_name");
  entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
  entries[0].value.value.bytes = bytes(connection_name);
  entries[1].key = amqp_cstring_bytes("capabilities");
  entries[1].value.kind = AMQP_FIELD_KIND_TABLE;
  entries[1].value.value.table.num_entries = 1;
  entries[1].value.value.table.entries = &capability;
  amqp_table_t properties;
  properties.num_entries = 2;
  properties.entries = entries;
  amqp_rpc_reply_t r = amqp_login_with_properties(conn, info.vhost, 0, 131072, 15, &properties,
                                                  AMQP_SASL_METHOD_PLAIN, info.user, info.password);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    c->broken_ = true;
    return Status(StatusCode::kAdapterError,
                  "the AMQP broker at " + where + " refused the login of user '" +
                      std::string(info.user) + "' to vhost '" + std::string(info.vhost) +
                      "': " + reply_text(r));
  }
  return c;
}

Status Connection::lost(Status s) {
  broken_ = true;
  return s;
}

Status Connection::rpc_status(const char* what) {
  amqp_rpc_reply_t r = amqp_get_rpc_reply(state_->conn);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) return Status::ok();
  const std::string why = std::string(what) + ": " + reply_text(r);
  // A closed channel could be opened again, but a connection whose channel the broker closed
  // is simplest made anew; callers reconnect after any failure.
  if (channel_not_found(r)) {
    broken_ = true;
    return Status::not_found(why);
  }
  return lost(Status(StatusCode::kAdapterError, why));
}

Status Connection::open_channel(std::uint16_t channel) {
  amqp_channel_open(state_->conn, channel);
  return rpc_status("opening channel");
}

Status Connection::qos(std::uint16_t channel, std::uint16_t prefetch) {
  amqp_basic_qos(state_->conn, channel, 0, prefetch, 0);
  return rpc_status("setting the prefetch");
}

Status Connection::declare_exchange(std::uint16_t channel, const std::string& name,
                                    const std::string& type) {
  amqp_exchange_declare(state_->conn, channel, bytes(name), bytes(type), 0, 1, 0, 0,
                        amqp_empty_table);
  return rpc_status(("declaring exchange '" + name + "'").c_str());
}

Status Connection::declare_queue(std::uint16_t channel, const std::string& name,
                                 const QueueOptions& options) {
  TableBuilder arguments(options.arguments);
  amqp_queue_declare(state_->conn, channel, bytes(name), 0, options.durable ? 1 : 0, 0, 0,
                     arguments.table());
  return rpc_status(("declaring queue '" + name + "'").c_str());
}

Status Connection::bind_queue(std::uint16_t channel, const std::string& queue,
                              const std::string& exchange, const std::string& routing_key) {
  amqp_queue_bind(state_->conn, channel, bytes(queue), bytes(exchange), bytes(routing_key),
                  amqp_empty_table);
  return rpc_status(("binding queue '" + queue + "' to exchange '" + exchange + "'").c_str());
}

Result<std::uint32_t> Connection::ready_messages(std::uint16_t channel, const std::string& queue) {
  amqp_queue_declare_ok_t* ok =
      amqp_queue_declare(state_->conn, channel, bytes(queue), 1, 0, 0, 0, amqp_empty_table);
  if (Status s = rpc_status(("looking at queue '" + queue + "'").c_str()); !s) return s;
  const std::uint32_t count = ok == nullptr ? 0u : ok->message_count;
  amqp_maybe_release_buffers(state_->conn);
  return count;
}

Status Connection::delete_queue(std::uint16_t channel, const std::string& queue) {
  amqp_queue_delete(state_->conn, channel, bytes(queue), 0, 0);
  return rpc_status(("deleting queue '" + queue + "'").c_str());
}

Status Connection::consume(std::uint16_t channel, const std::string& queue) {
  amqp_basic_consume(state_->conn, channel, bytes(queue), amqp_empty_bytes, 0, 0, 0,
                     amqp_empty_table);
  return rpc_status(("consuming queue '" + queue + "'").c_str());
}

Result<std::optional<Delivery>> Connection::next(std::int64_t timeout_ms) {
  amqp_maybe_release_buffers(state_->conn);
  amqp_envelope_t envelope{};
  timeval tv = timeval_of(timeout_ms);
  amqp_rpc_reply_t r = amqp_consume_message(state_->conn, &envelope, &tv, 0);
  if (r.reply_type == AMQP_RESPONSE_NORMAL) {
    Delivery d;
    d.tag = envelope.delivery_tag;
    d.redelivered = envelope.redelivered != 0;
    d.exchange = text(envelope.exchange);
    d.routing_key = text(envelope.routing_key);
    d.body = text(envelope.message.body);
    const amqp_basic_properties_t& p = envelope.message.properties;
    if ((p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) != 0) d.properties.content_type = text(p.content_type);
    if ((p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0) d.properties.message_id = text(p.message_id);
    if ((p._flags & AMQP_BASIC_CORRELATION_ID_FLAG) != 0) {
      d.properties.correlation_id = text(p.correlation_id);
    }
    if ((p._flags & AMQP_BASIC_TYPE_FLAG) != 0) d.properties.type = text(p.type);
    if ((p._flags & AMQP_BASIC_APP_ID_FLAG) != 0) d.properties.app_id = text(p.app_id);
    if ((p._flags & AMQP_BASIC_TIMESTAMP_FLAG) != 0) {
      d.properties.timestamp = static_cast<std::int64_t>(p.timestamp);
    }
    d.properties.persistent =
        (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 && p.delivery_mode == 2;
    if ((p._flags & AMQP_BASIC_HEADERS_FLAG) != 0) d.properties.headers = table_to_json(p.headers);
    amqp_destroy_envelope(&envelope);
    return std::optional<Delivery>(std::move(d));
  }
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
    return std::optional<Delivery>();
  }
  if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
      r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
    // Something other than a delivery: read it.
    amqp_frame_t frame{};
    timeval none = timeval_of(0);
    const int rc = amqp_simple_wait_frame_noblock(state_->conn, &frame, &none);
    if (rc == AMQP_STATUS_TIMEOUT) return std::optional<Delivery>();
    if (rc != AMQP_STATUS_OK) {
      return lost(Status(StatusCode::kAdapterError,
                         std::string("reading from the broker: ") + amqp_error_string2(rc)));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) return std::optional<Delivery>();
    if (std::string closed = closing_text(frame.payload.method); !closed.empty()) {
      return lost(Status(StatusCode::kAdapterError, closed));
    }
    return std::optional<Delivery>();
  }
  return lost(Status(StatusCode::kAdapterError, "consuming: " + reply_text(r)));
}

Status Connection::keep_alive() {
  // Reading lets rabbitmq-c answer the broker's heartbeats and send its own.
  amqp_frame_t frame{};
  timeval none = timeval_of(0);
  const int rc = amqp_simple_wait_frame_noblock(state_->conn, &frame, &none);
  if (rc == AMQP_STATUS_TIMEOUT) return Status::ok();
  if (rc != AMQP_STATUS_OK) {
    return lost(Status(StatusCode::kAdapterError,
                       std::string("reading from the broker: ") + amqp_error_string2(rc)));
  }
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    if (std::string closed = closing_text(frame.payload.method); !closed.empty()) {
      return lost(Status(StatusCode::kAdapterError, closed));
    }
  }
  amqp_maybe_release_buffers(state_->conn);
  return Status::ok();
}

Status Connection::ack(std::uint16_t channel, std::uint64_t tag, bool multiple) {
  if (int rc = amqp_basic_ack(state_->conn, channel, tag, multiple ? 1 : 0); rc != AMQP_STATUS_OK) {
    return lost(Status(StatusCode::kAdapterError,
                       std::string("acknowledging a delivery: ") + amqp_error_string2(rc)));
  }
  return Status::ok();
}

Status Connection::reject(std::uint16_t channel, std::uint64_t tag, bool requeue) {
  if (int rc = amqp_basic_reject(state_->conn, channel, tag, requeue ? 1 : 0);
      rc != AMQP_STATUS_OK) {
    return lost(Status(StatusCode::kAdapterError,
                       std::string("rejecting a delivery: ") + amqp_error_string2(rc)));
  }
  return Status::ok();
}

Status Connection::nack(std::uint16_t channel, std::uint64_t tag, bool multiple, bool requeue) {
  if (int rc = amqp_basic_nack(state_->conn, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0);
      rc != AMQP_STATUS_OK) {
    return lost(Status(StatusCode::kAdapterError,
                       std::string("returning deliveries: ") + amqp_error_string2(rc)));
  }
  return Status::ok();
}

Status Connection::confirm_select(std::uint16_t channel) {
  amqp_confirm_select(state_->conn, channel);
  if (Status s = rpc_status("turning publisher confirms on"); !s) return s;
  state_->confirms[channel] = {};
  return Status::ok();
}

Status Connection::publish(std::uint16_t channel, const std::string& exchange,
                           const std::string& routing_key, std::string_view body,
                           const Properties& properties, bool mandatory) {
  amqp_basic_properties_t p{};
  p._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
  p.delivery_mode = properties.persistent ? 2 : 1;
  if (!properties.content_type.empty()) {
    p._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
    p.content_type = bytes(properties.content_type);
  }
  if (!properties.message_id.empty()) {
    p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
    p.message_id = bytes(properties.message_id);
  }
  if (!properties.correlation_id.empty()) {
    p._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
    p.correlation_id = bytes(properties.correlation_id);
  }
  if (!properties.type.empty()) {
    p._flags |= AMQP_BASIC_TYPE_FLAG;
    p.type = bytes(properties.type);
  }
  if (!properties.app_id.empty()) {
    p._flags |= AMQP_BASIC_APP_ID_FLAG;
    p.app_id = bytes(properties.app_id);
  }
  if (properties.timestamp > 0) {
    p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
    p.timestamp = static_cast<std::uint64_t>(properties.timestamp);
  }
  TableBuilder headers(properties.headers);
  if (properties.headers.is_object() && !properties.headers.empty()) {
    p._flags |= AMQP_BASIC_HEADERS_FLAG;
    p.headers = headers.table();
  }
  const int rc = amqp_basic_publish(state_->conn, channel, bytes(exchange), bytes(routing_key),
                                    mandatory ? 1 : 0, 0, &p, bytes(body));
  if (rc != AMQP_STATUS_OK) {
    return lost(Status(StatusCode::kAdapterError, "publishing to exchange '" + exchange +
                                                      "': " + amqp_error_string2(rc)));
  }
  if (auto c = state_->confirms.find(channel); c != state_->confirms.end()) {
    c->second.outstanding.insert(++c->second.published);
  }
  return Status::ok();
}

Status Connection::wait_for_confirms(std::uint16_t channel, std::int64_t timeout_ms) {
  auto found = state_->confirms.find(channel);
  if (found == state_->confirms.end()) return Status::internal("confirms are not on");
  State::Confirms& c = found->second;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!c.outstanding.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      return lost(Status(StatusCode::kAdapterError,
                         "the broker did not confirm " + std::to_string(c.outstanding.size()) +
                             " published messages within " + std::to_string(timeout_ms) + " ms"));
    }
    amqp_frame_t frame{};
    timeval tv = timeval_of(left);
    const int rc = amqp_simple_wait_frame_noblock(state_->conn, &frame, &tv);
    if (rc == AMQP_STATUS_TIMEOUT) continue;
    if (rc != AMQP_STATUS_OK) {
      return lost(Status(StatusCode::kAdapterError,
                         std::string("waiting for confirms: ") + amqp_error_string2(rc)));
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        const auto* m = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
        if (m->multiple != 0) {
          c.outstanding.erase(c.outstanding.begin(), c.outstanding.upper_bound(m->delivery_tag));
        } else {
          c.outstanding.erase(m->delivery_tag);
        }
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* m = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
        if (m->multiple != 0) {
          c.outstanding.erase(c.outstanding.begin(), c.outstanding.upper_bound(m->delivery_tag));
        } else {
          c.outstanding.erase(m->delivery_tag);
        }
        c.refused = "the broker refused a published message (basic.nack)";
        break;
      }
      case AMQP_BASIC_RETURN_METHOD: {
        const auto* m = static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
        c.refused = "exchange '" + text(m->exchange) + "' routes key '" + text(m->routing_key) +
                    "' to no queue (" + text(m->reply_text) + ")";
        amqp_message_t returned{};
        amqp_rpc_reply_t r = amqp_read_message(state_->conn, frame.channel, &returned, 0);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
          return lost(Status(StatusCode::kAdapterError,
                             "reading a returned message: " + reply_text(r)));
        }
        amqp_destroy_message(&returned);
        break;
      }
      default:
        if (std::string closed = closing_text(frame.payload.method); !closed.empty()) {
          return lost(Status(StatusCode::kAdapterError, closed));
        }
        break;
    }
  }
  amqp_maybe_release_buffers(state_->conn);
  if (!c.refused.empty()) {
    std::string why = std::move(c.refused);
    c.refused.clear();
    return Status(StatusCode::kAdapterError, why);
  }
  return Status::ok();
}

}  // namespace ordo::adapters::amqp
