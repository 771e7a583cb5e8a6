// RabbitMQ in: queues whose messages start instances or are published to them, for
// `ordo serve` and for programs that embed the engine (docs/queues.md).
//
// The "queues" section of ordo.json:
//   {"url": "amqp://user:password@host:5672/%2f",        (${env:NAME} keeps it out of the file)
//    "consumers": [
//      {"queue": "orders",
//       "start": {"processId": "order-acceptance",        text or "=FEEL"
//                 "businessKey": "=body.orderId",          optional
//                 "variables": "=body"},                   default "=body"
//       "messageId": "=properties.messageId",              the default
//       "deadLetterExchange": "orders.dead",               required
//       "deadLetterRoutingKey": "orders",                  default: the queue's name
//       "prefetch": 256,                                   default 256 (1 to 65535)
//       "declare": true},                                  default false (see below)
//      {"queue": "payments",
//       "message": {"name": "=headers.event",              text or "=FEEL"
//                   "correlationKey": "=body.orderId",
//                   "variables": "=body.data",             default "=body"
//                   "timeToLive": "PT1H"},                 default none: not buffered
//       "deadLetterExchange": "payments.dead"}]}
// Expressions see `body` (the message body, which must be JSON), `headers` (the AMQP
// headers table) and `properties` (messageId, correlationId, type, appId, contentType,
// timestamp, routingKey, exchange, redelivered).
//
// What a delivery becomes, and when it is acknowledged:
// - deliveries are taken up to `prefetch` at a time and applied in one transaction
//   (Engine::start_many or publish_many); they are acknowledged only once it has committed.
//   The message id is the inbox: it is recorded in that transaction (StartRequest::
//   request_id, Message::message_id), so a redelivery after a crash between the commit and
//   the acknowledgement changes nothing.
// - a message that cannot apply (a body that is not JSON, no message id, a mapping that
//   fails or gives the wrong type, no such process) is published to the dead-letter exchange
//   with its body and properties and the reason in the header `x-ordo-error` (also
//   `x-ordo-queue`, `x-ordo-exchange`, `x-ordo-routing-key`), confirmed by the broker, and
//   only then acknowledged: never lost, never retried forever. A dead-letter exchange that
//   routes it nowhere keeps it unacknowledged on the queue and says so in the state.
// - when the database fails, nothing of the batch is acknowledged: it is returned to the
//   queue and taken again after a backoff.
// - a broker that goes away is reconnected to with backoff (0.2 s doubling to 10 s).
// `declare`: the consumer declares, before consuming, the dead-letter exchange (direct,
// durable), a durable queue "<queue>.dead" bound to it with the dead-letter routing key, and
// the queue itself, durable, with x-dead-letter-exchange and x-dead-letter-routing-key set
// to them (so messages the broker itself dead-letters, expired ones say, land there too).
// Without it the topology is the operator's; a queue that does not exist is an error in the
// consumer's state, retried with the backoff.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ordo/engine.h"
#include "ordo/log.h"
#include "ordo/status.h"

namespace ordo {

// What a consumer is doing, for /health/ready and /metrics.
struct QueueConsumerState {
  std::string queue;
  std::string state;       // "connecting", "consuming", "retrying" (after an error)
  std::string last_error;  // empty when the last attempt went well
  std::int64_t ready = -1;  // messages waiting in the queue when last looked (-1: unknown)
  std::uint64_t received = 0;       // deliveries taken (redeliveries included)
  std::uint64_t applied = 0;        // started or published, first time
  std::uint64_t duplicates = 0;     // message ids seen before (acknowledged, nothing done)
  std::uint64_t dead_lettered = 0;  // sent to the dead-letter exchange
  std::uint64_t returned = 0;       // given back to the queue (the database failed)
  std::uint64_t reconnects = 0;
};

class QueueConsumers {
 public:
  // Reads the section (`where` names it in errors, e.g. "ordo.json: queues"): every key is
  // checked, every expression compiled; nothing connects yet.
  static Result<std::unique_ptr<QueueConsumers>> create(const nlohmann::json& section,
                                                        const std::string& where,
                                                        LogFunction log = {});
  ~QueueConsumers();  // stops
  QueueConsumers(const QueueConsumers&) = delete;
  QueueConsumers& operator=(const QueueConsumers&) = delete;

  // Starts a thread per consumer, applying to `engine` (which must outlive stop()).
  void start(Engine& engine);
  // Stops taking deliveries, finishes the batch in hand and closes the connections.
  void stop();
  std::vector<QueueConsumerState> states() const;
  // The broker's URL without its password.
  std::string broker() const;

  struct Impl;

 private:
  explicit QueueConsumers(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// RabbitMQ out: process events published to an exchange, for the CRM, BI and the warehouse
// (docs/queues.md#events). The "events" key of the "queues" section:
//   {"exchange": "order-status",                         required
//    "exchangeType": "topic",                            default "topic" (with declare)
//    "declare": true,                                    default false: declare the exchange
//    "source": "urn:shop:ordo",                          CloudEvents source; default "ordo"
//    "reader": "order-status",                           the log position's name; default
//                                                        the exchange's
//    "lease": "PT10S",                                   nodes of one database: one
//                                                        publishes, the others stand by
//                                                        and take over this long after it
//                                                        stops
//    "node": "ordo-2",                                   this node's name for the lease;
//                                                        default the host's name (a node
//                                                        restarting takes it back at once)
//    "publish": [{"on": "instance-started"},             a history kind (history.h) or
//                                                        "instance-ended"
//                {"on": "element-activated", "elements": ["ship"],
//                 "routingKey": "=processId + \".shipping\""}]}
// routingKey: text or FEEL over the event (type, processId, instanceId, businessKey,
// elementId, detail); default "<processId>.<type>".
//
// The outbox is the engine's history (Engine::history_log): an event is written in the
// transaction of the step that caused it, and published after it, with publisher confirms;
// the reader's position moves (in the database) only once the broker has confirmed. After a
// crash the events since the position are published again with the same id and the same
// body: at least once, each id's content identical. The body is a CloudEvent (JSON,
// application/cloudevents+json) whose id is the event's number in the history.
struct EventPublisherState {
  std::string exchange;
  std::string state;  // "connecting", "publishing", "standby" (another node publishes),
                      // "retrying", "stopped"
  std::string last_error;
  std::uint64_t position = 0;   // the last history number handled
  std::uint64_t published = 0;  // since this process started
  std::uint64_t reconnects = 0;
};

class EventPublisher {
 public:
  // Reads section["events"] (and section["url"]); null when the section has no "events".
  static Result<std::unique_ptr<EventPublisher>> create(const nlohmann::json& section,
                                                        const std::string& where,
                                                        LogFunction log = {});
  ~EventPublisher();  // stops
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Publishes from a thread of its own (`engine` must be durable and outlive stop()).
  void start(Engine& engine);
  void stop();
  EventPublisherState state() const;

  struct Impl;

 private:
  explicit EventPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ordo
