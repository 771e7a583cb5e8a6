// AMQP 0-9-1 over rabbitmq-c (Debian librabbitmq-dev), the little of it Ordo uses: a
// connection from an amqp:// URL, durable topology, consuming with manual acknowledgement
// and a prefetch, and publishing with publisher confirms (internal: not part of the public
// API).
//
// One Connection belongs to one thread at a time. Every call that fails returns a Status
// that says what the broker or the socket said; after a failure of the connection itself
// (broken(): a closed socket, a channel or connection the broker closed, a heartbeat
// missed) the Connection is of no further use: make a new one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/status.h"

namespace ordo::adapters::amqp {

// The AMQP basic properties Ordo reads and writes.
struct Properties {
  std::string content_type;
  std::string message_id;
  std::string correlation_id;
  std::string type;
  std::string app_id;
  std::int64_t timestamp = 0;  // seconds since the epoch; 0: none
  bool persistent = true;      // delivery mode 2
  // The headers table as JSON: strings, numbers, booleans, nested tables and arrays.
  nlohmann::json headers = nlohmann::json::object();
};

struct Delivery {
  std::uint64_t tag = 0;
  bool redelivered = false;
  std::string exchange;
  std::string routing_key;
  std::string body;
  Properties properties;
};

struct QueueOptions {
  bool durable = true;
  // Arguments such as x-dead-letter-exchange (strings and whole numbers).
  nlohmann::json arguments = nlohmann::json::object();
};

class Connection {
 public:
  // Connects and logs in (`url`: amqp://user:password@host:port/vhost, the vhost
  // URL-encoded: %2f for "/"). `name` is shown in the broker's connection list.
  static Result<std::unique_ptr<Connection>> open(const std::string& url, std::string_view name,
                                                  std::int64_t timeout_ms = 5000);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The URL without its password, for messages.
  static std::string redacted(const std::string& url);

  bool broken() const noexcept { return broken_; }

  Status open_channel(std::uint16_t channel);
  Status qos(std::uint16_t channel, std::uint16_t prefetch);
  Status declare_exchange(std::uint16_t channel, const std::string& name, const std::string& type);
  Status declare_queue(std::uint16_t channel, const std::string& name, const QueueOptions& options);
  Status bind_queue(std::uint16_t channel, const std::string& queue, const std::string& exchange,
                    const std::string& routing_key);
  // The number of messages ready in `queue` (a passive declare). A queue that does not exist
  // is kNotFound, and closes the channel: open it again before using it.
  Result<std::uint32_t> ready_messages(std::uint16_t channel, const std::string& queue);
  // Deletes a queue (tests).
  Status delete_queue(std::uint16_t channel, const std::string& queue);

  // Consumes `queue` with manual acknowledgement.
  Status consume(std::uint16_t channel, const std::string& queue);
  // The next delivery, waiting up to `timeout_ms` (0: only what has arrived); nullopt when
  // none came. A consumer the broker cancelled (its queue deleted) is an error.
  Result<std::optional<Delivery>> next(std::int64_t timeout_ms);
  Status ack(std::uint16_t channel, std::uint64_t tag, bool multiple);
  Status reject(std::uint16_t channel, std::uint64_t tag, bool requeue);
  Status nack(std::uint16_t channel, std::uint64_t tag, bool multiple, bool requeue);

  // Publisher confirms on `channel`: publish() numbers each message from 1, and
  // wait_for_confirms() returns once the broker has taken all of them so far.
  Status confirm_select(std::uint16_t channel);
  // `mandatory`: a message no queue takes comes back, and wait_for_confirms() says so.
  Status publish(std::uint16_t channel, const std::string& exchange, const std::string& routing_key,
                 std::string_view body, const Properties& properties, bool mandatory);
  Status wait_for_confirms(std::uint16_t channel, std::int64_t timeout_ms);
  // While idle: reads what the broker sent, so that heartbeats flow both ways (rabbitmq-c
  // handles them only inside its calls); an error when the broker closed the connection.
  Status keep_alive();

 private:
  struct State;
  explicit Connection(std::unique_ptr<State> state);
  Status rpc_status(const char* what);
  Status lost(Status s);

  std::unique_ptr<State> state_;
  bool broken_ = false;
};

}  // namespace ordo::adapters::amqp
