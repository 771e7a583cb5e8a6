// The delivery log: every attempt to send a notification, and the providers' status
// callbacks, in an Ordo database: an SQLite file (schema 2) or the PostgreSQL schema of
// several nodes. It is what makes "never twice" hold across crashes and machines: an attempt
// is reserved (a 'sending' row) in the same transaction that checks for an earlier delivery
// of the same message and the customer's hourly cap, taking turns per message and per
// customer with every other process that writes the log. The turn covers the reservation,
// not the sending: an attempt that finds another's 'sending' row (one cut short by a crash,
// or one still sending after its job's lock ran out) sends again under the same provider
// key, and only the provider's deduplication of that key keeps the customer from a copy.
//
// Thread-safe: one connection behind a mutex; several processes may share the database.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engagement.h"
#include "ordo/adapters/notifications.h"
#include "store/sql_db.h"

namespace ordo::notify {

struct Attempt {
  std::string dedupe_key;
  std::string message;
  std::string order_id;
  std::string customer;
  std::string channel;
  std::string locale;
  std::string recipient;
  std::string job_key;
  int attempt = 0;
  std::int64_t now_ms = 0;
  std::string segment;     // the instance's segment variable, when there is one
  std::string experiment;  // the message's experiment, if any
  // reserve(): the variant the hash picked for this segment, empty when the segment takes
  // no part; the customer's first assignment wins while its variant is still in
  // `variants` (the experiment's).
  std::string variant;
  const std::vector<Variant>* variants = nullptr;
};

// The orders a customer placed before this one, and the segment this one was given.
struct OrderSegment {
  std::string segment;
  CustomerHistory history;
  std::int64_t ordered_ms = 0;  // when the order was recorded (the first try of its job)
};

struct Reservation {
  enum class Gate { kGo, kDuplicate, kCapped } gate = Gate::kGo;
  std::int64_t row = 0;          // kGo: the 'sending' row to finish
  std::string variant;           // the customer's variant in the attempt's experiment, if any
  DeliveryRecord earlier;        // kDuplicate: the delivery that was sent
  std::int64_t retry_at_ms = 0;  // kCapped: when the oldest counted message leaves the hour
};

class DeliveryLog {
 public:
  // An SQLite file (created when missing) or a postgresql:// URL (store::SqlDb::open).
  static Result<std::unique_ptr<DeliveryLog>> open(const std::string& location);

  // In one transaction: the message was sent already -> kDuplicate (a 'duplicate' row
  // records the repeat); the customer has `cap_per_hour` messages sent or in flight in the
  // last hour -> kCapped (a 'deferred' row); else a 'sending' row (earlier 'sending' rows of
  // this message on this channel, cut short by a crash, are marked failed).
  Result<Reservation> reserve(const Attempt& attempt, int cap_per_hour);
  // The outcome of a reserved attempt: sent, failed or rejected.
  Status finish(std::int64_t row, std::string_view status, std::string_view provider_id,
                std::string_view error, std::int64_t now_ms);
  // A row for an attempt that sent nothing: skipped or deferred, with the reason.
  Status note(const Attempt& attempt, std::string_view status, std::string_view error);
  // The channels a provider refused for good for this message (not worth trying again).
  Result<std::vector<std::string>> rejected_channels(const std::string& dedupe_key);
  Result<std::vector<DeliveryRecord>> list(std::string_view order_id);
  // Forgets an order: its deliveries (and their events) and its customer_orders row.
  Status forget_order(std::string_view order_id);
  // The hourly cap counts only messages recorded at or before the attempt's time (a
  // rehearsal, which follows a customer's orders one after another, may have recorded
  // later ones). Otherwise a message another node recorded "later" by a clock ahead of
  // this one counts too: it was sent before.
  void count_only_earlier() noexcept { count_only_earlier_ = true; }
  Result<std::vector<Notifier::Count>> counts();
  // The delivery of this message that was sent, if any.
  Result<std::optional<DeliveryRecord>> find_sent(const std::string& dedupe_key);
  // Records a status callback: the delivery it belongs to, or nullopt when this status was
  // recorded and forwarded before (a status recorded but not forwarded is returned again,
  // so a repeated callback retries the forward). kNotFound for an unknown provider id.
  Result<std::optional<DeliveryRecord>> record_status(const DeliveryStatus& status);
  // The same for an open or a click of the sent delivery of `dedupe_key` on `channel`
  // (engagement tracking: the URL names the message, not the provider's id). kNotFound when
  // that message was not sent on that channel.
  Result<std::optional<DeliveryRecord>> record_engagement(const std::string& dedupe_key,
                                                          const DeliveryStatus& status);
  // The segment of order `order_id` of `customer`: the one it was given before (a retried
  // job), else `decide`'s for the customer's earlier orders, recorded in the same
  // transaction (orders of one customer take turns across machines).
  Result<OrderSegment> segment_order(
      const std::string& customer, const std::string& order_id, std::int64_t now_ms,
      std::int64_t window_ms,
      const std::function<Result<std::string>(const CustomerHistory&)>& decide);
  // Of the deliveries sent at or after `since_ms`.
  Result<std::vector<EngagementCount>> engagement_counts(std::int64_t since_ms);
  // Every sent delivery of an experiment, oldest first, with its engagement.
  struct ExperimentDelivery {
    std::string experiment, variant, segment, order_id;
    std::int64_t sent_ms = 0;
    bool delivered = false, opened = false, clicked = false;
  };
  Result<std::vector<ExperimentDelivery>> experiment_deliveries();
  Status mark_forwarded(std::int64_t delivery, const std::string& status, std::int64_t now_ms);

 private:
  explicit DeliveryLog(std::unique_ptr<store::SqlDb> db) : db_(std::move(db)) {}
  template <class F>
  Status in_transaction(F&& body);
  Status insert(const Attempt& a, std::string_view status, std::string_view error,
                std::int64_t* row);
  Result<std::optional<DeliveryRecord>> find_sent_locked(const std::string& dedupe_key);
  // Adds `status` to `delivery` (found in this transaction); `fresh` says whether it is
  // new, or was never forwarded.
  Status add_event_locked(DeliveryRecord& delivery, const DeliveryStatus& status, bool& fresh);
  Status assign_variant_locked(const Attempt& a, std::string& variant);
  bool count_only_earlier_ = false;
  std::mutex mu_;
  std::unique_ptr<store::SqlDb> db_;
};

}  // namespace ordo::notify
