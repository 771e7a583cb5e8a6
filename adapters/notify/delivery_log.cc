#include "delivery_log.h"

#include <algorithm>
#include <limits>

namespace ordo::notify {

namespace {
// Where a delivery ends: nothing later changes it.
bool is_final_status(std::string_view s) {
  return s == "delivered" || s == "failed" || s == "bounced" || s == "read" ||
         s == "opened" || s == "clicked" || s == "rejected" || s == "canceled";
}
}  // namespace

namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::string_view kColumns =
    "id, dedupe_key, message, order_id, customer, channel, locale, recipient, status, "
    "provider_id, error, provider_status, attempt, created_ms, updated_ms, segment, experiment, "
    "variant";

std::string select_deliveries(std::string_view where) {
  return "SELECT " + std::string(kColumns) + " FROM deliveries " + std::string(where);
}

DeliveryRecord record_from(const store::SqlRows& rows, int i) {
  DeliveryRecord r;
  r.id = rows.integer(i, 0);
  r.dedupe_key = rows.text(i, 1);
  r.message = rows.text(i, 2);
  r.order_id = rows.text(i, 3);
  r.customer = rows.text(i, 4);
  r.channel = rows.text(i, 5);
  r.locale = rows.text(i, 6);
  r.recipient = rows.text(i, 7);
  r.status = rows.text(i, 8);
  r.provider_id = rows.text(i, 9);
  r.error = rows.text(i, 10);
  r.provider_status = rows.text(i, 11);
  r.attempt = static_cast<int>(rows.integer(i, 12));
  r.created_ms = rows.integer(i, 13);
  r.updated_ms = rows.integer(i, 14);
  r.segment = rows.text(i, 15);
  r.experiment = rows.text(i, 16);
  r.variant = rows.text(i, 17);
  return r;
}

// NULL for "", as the log stores absent fields.
store::SqlValue text_or_null(std::string_view text) {
  return text.empty() ? store::SqlValue() : store::SqlValue(text);
}

}  // namespace

Result<std::unique_ptr<DeliveryLog>> DeliveryLog::open(const std::string& location) {
  Result<std::unique_ptr<store::SqlDb>> db = store::SqlDb::open(location);
  if (!db) return db.status();
  return std::unique_ptr<DeliveryLog>(new DeliveryLog(std::move(*db)));
}

template <class F>
Status DeliveryLog::in_transaction(F&& body) {
  if (Status s = db_->begin(); !s) return s;
  Status s = body();
  if (s) s = db_->commit();
  if (!s) db_->rollback();
  return s;
}

Status DeliveryLog::insert(const Attempt& a, std::string_view status, std::string_view error,
                           std::int64_t* row) {
  Result<store::SqlRows> r = db_->query(
      "INSERT INTO deliveries (dedupe_key, message, order_id, customer, channel, locale, "
      "recipient, status, error, job_key, attempt, created_ms, updated_ms, segment, experiment, "
      "variant) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15) RETURNING id",
      {a.dedupe_key, a.message, text_or_null(a.order_id), text_or_null(a.customer), a.channel,
       text_or_null(a.locale), text_or_null(a.recipient), status, text_or_null(error),
       text_or_null(a.job_key), std::int64_t{a.attempt}, a.now_ms, text_or_null(a.segment),
       text_or_null(a.experiment), text_or_null(a.variant)});
  if (!r) return r.status();
  if (row != nullptr) *row = r->integer(0, 0);
  return Status::ok();
}

Status DeliveryLog::assign_variant_locked(const Attempt& a, std::string& variant) {
  // The delivery log is the record: a customer's deliveries in the experiment say their
  // variant (all the same one; the latest, should one have been re-picked). A customer who
  // changed segment (and so weights) since, or whose weights were edited, keeps it, as long
  // as it still exists; it costs a read, not a write.
  Result<store::SqlRows> kept = db_->query(
      "SELECT variant FROM deliveries WHERE customer = ?1 AND experiment = ?2 AND experiment IS "
      "NOT NULL AND variant IS NOT NULL ORDER BY id DESC LIMIT 1",
      {a.customer, a.experiment});
  if (!kept) return kept.status();
  if (kept->size() > 0) {
    const std::string& was = kept->text(0, 0);
    const bool exists = a.variants != nullptr &&
                        std::any_of(a.variants->begin(), a.variants->end(),
                                    [&](const Variant& v) { return v.name == was; });
    if (exists) {
      variant = was;
      return Status::ok();
    }
  }
  // A first delivery, or one whose variant was removed from the experiment: the hash's pick
  // (empty for a segment that takes no part).
  variant = a.variant;
  return Status::ok();
}

Result<Reservation> DeliveryLog::reserve(const Attempt& attempt, int cap_per_hour) {
  std::lock_guard lock(mu_);
  Reservation out;
  Attempt a = attempt;
  Status s = in_transaction([&]() -> Status {
    // Other machines writing the log wait here: for this message, then for this customer's
    // hour (always in this order, so two of them never wait for each other).
    if (Status l = db_->lock("ordo delivery " + a.dedupe_key); !l) return l;
    if (cap_per_hour > 0 && !a.customer.empty()) {
      if (Status l = db_->lock("ordo customer " + a.customer); !l) return l;
    }
    if (!a.experiment.empty() && !a.customer.empty()) {
      if (Status v = assign_variant_locked(a, a.variant); !v) return v;
    }
    if (a.variant.empty()) a.experiment.clear();  // not part of the experiment
    out.variant = a.variant;
    Result<std::optional<DeliveryRecord>> sent = find_sent_locked(a.dedupe_key);
    if (!sent) return sent.status();
    const bool found = sent->has_value();
    if (found) out.earlier = **sent;
    if (found) {
      out.gate = Reservation::Gate::kDuplicate;
      Attempt dup = a;
      dup.channel = out.earlier.channel;
      dup.recipient = out.earlier.recipient;
      return insert(dup, "duplicate",
                    "sent before (delivery " + std::to_string(out.earlier.id) + ")", nullptr);
    }
    if (cap_per_hour > 0 && !a.customer.empty()) {
      Result<store::SqlRows> recent = db_->query(
          "SELECT created_ms FROM deliveries WHERE customer = ?1 AND created_ms > ?2 AND "
          "created_ms <= ?4 AND status IN ('sending', 'sent') AND dedupe_key <> ?3 "
          "ORDER BY created_ms",
          {a.customer, a.now_ms - kHourMs, a.dedupe_key,
           count_only_earlier_ ? a.now_ms : std::numeric_limits<std::int64_t>::max()});
      if (!recent) return recent.status();
      if (recent->size() >= cap_per_hour) {
        out.gate = Reservation::Gate::kCapped;
        // When enough of them have left the hour for one more.
        out.retry_at_ms = recent->integer(recent->size() - cap_per_hour, 0) + kHourMs;
        return insert(a, "deferred",
                      "the customer's cap of " + std::to_string(cap_per_hour) +
                          " messages an hour is reached",
                      nullptr);
      }
    }
    Result<std::int64_t> interrupted = db_->exec(
        "UPDATE deliveries SET status = 'failed', updated_ms = ?3, error = 'interrupted: "
        "stopped before the outcome was recorded; sent again under the same provider key' "
        "WHERE dedupe_key = ?1 AND channel = ?2 AND status = 'sending'",
        {a.dedupe_key, a.channel, a.now_ms});
    if (!interrupted) return interrupted.status();
    return insert(a, "sending", {}, &out.row);
  });
  if (!s) return s;
  return out;
}

Result<std::optional<DeliveryRecord>> DeliveryLog::find_sent_locked(const std::string& dedupe_key) {
  Result<store::SqlRows> rows = db_->query(
      select_deliveries("WHERE dedupe_key = ?1 AND status = 'sent' ORDER BY id LIMIT 1"),
      {dedupe_key});
  if (!rows) return rows.status();
  if (rows->size() == 0) return std::optional<DeliveryRecord>();
  return std::optional<DeliveryRecord>(record_from(*rows, 0));
}

Result<std::optional<DeliveryRecord>> DeliveryLog::find_sent(const std::string& dedupe_key) {
  std::lock_guard lock(mu_);
  return find_sent_locked(dedupe_key);
}

Status DeliveryLog::mark_forwarded(std::int64_t delivery, const std::string& status,
                                   std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  return db_
      ->exec("UPDATE delivery_events SET forwarded_ms = ?3 WHERE delivery = ?1 AND status = ?2",
             {delivery, status, now_ms})
      .status();
}

Status DeliveryLog::finish(std::int64_t row, std::string_view status, std::string_view provider_id,
                           std::string_view error, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  return db_
      ->exec(
          "UPDATE deliveries SET status = ?2, provider_id = ?3, error = ?4, updated_ms = ?5 "
          "WHERE id = ?1",
          {row, status, text_or_null(provider_id), text_or_null(error), now_ms})
      .status();
}

Status DeliveryLog::note(const Attempt& a, std::string_view status, std::string_view error) {
  std::lock_guard lock(mu_);
  // Nothing was sent: no variant was shown (the assignment is made when one is).
  Attempt noted = a;
  noted.variant.clear();
  if (noted.variant.empty()) noted.experiment.clear();
  return insert(noted, status, error, nullptr);
}

Result<std::vector<std::string>> DeliveryLog::rejected_channels(const std::string& dedupe_key) {
  std::lock_guard lock(mu_);
  Result<store::SqlRows> rows = db_->query(
      "SELECT DISTINCT channel FROM deliveries WHERE dedupe_key = ?1 AND status = 'rejected'",
      {dedupe_key});
  if (!rows) return rows.status();
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(rows->text(i, 0));
  return out;
}

Result<std::vector<DeliveryRecord>> DeliveryLog::list(std::string_view order_id) {
  std::lock_guard lock(mu_);
  Result<store::SqlRows> rows =
      order_id.empty() ? db_->query(select_deliveries("ORDER BY id"), {})
                       : db_->query(select_deliveries("WHERE order_id = ?1 ORDER BY id"),
                                    {order_id});
  if (!rows) return rows.status();
  std::vector<DeliveryRecord> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) out.push_back(record_from(*rows, i));
  return out;
}

Result<std::vector<Notifier::Count>> DeliveryLog::counts() {
  std::lock_guard lock(mu_);
  Result<store::SqlRows> rows = db_->query(
      "SELECT channel, status, count(*) FROM deliveries GROUP BY channel, status", {});
  if (!rows) return rows.status();
  std::vector<Notifier::Count> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->text(i, 0), rows->text(i, 1), rows->integer(i, 2)});
  }
  return out;
}

Status DeliveryLog::add_event_locked(DeliveryRecord& delivery, const DeliveryStatus& status,
                                     bool& fresh) {
  // Callbacks of one delivery take turns across machines (the status recomputed below).
  if (Status l = db_->lock("ordo delivery events " + std::to_string(delivery.id)); !l) return l;
  const std::string detail = status.detail.dump();
  Result<std::int64_t> added = db_->exec(
      "INSERT INTO delivery_events (delivery, status, at_ms, detail) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT DO NOTHING",
      {delivery.id, status.status, status.at_ms, detail});
  if (!added) return added.status();
  fresh = *added == 1;
  if (!fresh) {
    // Seen before: again only if it never reached the CRM.
    Result<store::SqlRows> pending = db_->query(
        "SELECT 1 FROM delivery_events WHERE delivery = ?1 AND status = ?2 AND "
        "forwarded_ms IS NULL",
        {delivery.id, status.status});
    if (!pending) return pending.status();
    fresh = pending->size() > 0;
    return Status::ok();
  }
  // Without the provider's time, arrival order is all there is: a status that is not
  // final does not replace a final one that came first (Twilio's "sent" after
  // "delivered").
  if (status.no_provider_time && is_final_status(delivery.provider_status) &&
      !is_final_status(status.status)) {
    return Status::ok();
  }
  // The latest by the provider's time, so callbacks arriving out of order do not move the
  // status backwards.
  Result<std::int64_t> latest = db_->exec(
      "UPDATE deliveries SET provider_status = (SELECT status FROM delivery_events WHERE "
      "delivery = ?1 ORDER BY at_ms DESC, " +
          std::string(db_->arrival_column()) + " DESC LIMIT 1) WHERE id = ?1",
      {delivery.id});
  if (!latest) return latest.status();
  delivery.provider_status = status.status;
  return Status::ok();
}

Result<std::optional<DeliveryRecord>> DeliveryLog::record_status(const DeliveryStatus& status) {
  std::lock_guard lock(mu_);
  std::optional<DeliveryRecord> delivery;
  bool fresh = false;
  Status s = in_transaction([&]() -> Status {
    Result<store::SqlRows> found = db_->query(
        select_deliveries("WHERE channel = ?1 AND provider_id = ?2 AND status = 'sent' "
                          "ORDER BY id DESC LIMIT 1"),
        {status.channel, status.provider_id});
    if (!found) return found.status();
    if (found->size() == 0) {
      return Status::not_found("no " + status.channel + " delivery with provider id '" +
                               status.provider_id + "' in the delivery log");
    }
    delivery = record_from(*found, 0);
    return add_event_locked(*delivery, status, fresh);
  });
  if (!s) return s;
  if (!fresh) return std::optional<DeliveryRecord>();
  return delivery;
}

Result<std::optional<DeliveryRecord>> DeliveryLog::record_engagement(const std::string& dedupe_key,
                                                                     const DeliveryStatus& status) {
  std::lock_guard lock(mu_);
  // Opened or clicked before, and forwarded: nothing to write (mail apps fetch the pixel
  // again and again; no write transaction for them).
  Result<store::SqlRows> seen = db_->query(
      "SELECT 1 FROM delivery_events e JOIN deliveries d ON d.id = e.delivery WHERE "
      "d.dedupe_key = ?1 AND d.channel = ?2 AND d.status = 'sent' AND e.status = ?3 AND "
      "e.forwarded_ms IS NOT NULL LIMIT 1",
      {dedupe_key, status.channel, status.status});
  if (!seen) return seen.status();
  if (seen->size() > 0) return std::optional<DeliveryRecord>();
  std::optional<DeliveryRecord> delivery;
  bool fresh = false;
  Status s = in_transaction([&]() -> Status {
    Result<store::SqlRows> found = db_->query(
        select_deliveries("WHERE dedupe_key = ?1 AND channel = ?2 AND status = 'sent' "
                          "ORDER BY id LIMIT 1"),
        {dedupe_key, status.channel});
    if (!found) return found.status();
    if (found->size() == 0) {
      return Status::not_found("no " + status.channel + " delivery of " + dedupe_key +
                               " was sent");
    }
    delivery = record_from(*found, 0);
    return add_event_locked(*delivery, status, fresh);
  });
  if (!s) return s;
  if (!fresh) return std::optional<DeliveryRecord>();
  return delivery;
}

Status DeliveryLog::forget_order(std::string_view order_id) {
  std::lock_guard lock(mu_);
  return in_transaction([&]() -> Status {
    for (const char* sql :
         {"DELETE FROM delivery_events WHERE delivery IN (SELECT id FROM deliveries WHERE "
          "order_id = ?1)",
          "DELETE FROM deliveries WHERE order_id = ?1",
          "DELETE FROM customer_orders WHERE order_id = ?1"}) {
      if (Result<std::int64_t> r = db_->exec(sql, {order_id}); !r) return r.status();
    }
    return Status::ok();
  });
}

Result<OrderSegment> DeliveryLog::segment_order(
    const std::string& customer, const std::string& order_id, std::int64_t now_ms,
    std::int64_t window_ms, const std::function<Result<std::string>(const CustomerHistory&)>& decide) {
  std::lock_guard lock(mu_);
  OrderSegment out;
  Status s = in_transaction([&]() -> Status {
    if (Status l = db_->lock("ordo customer orders " + customer); !l) return l;
    Result<store::SqlRows> kept = db_->query(
        "SELECT segment, ordered_ms FROM customer_orders WHERE customer = ?1 AND order_id = ?2",
        {customer, order_id});
    if (!kept) return kept.status();
    const bool known = kept->size() > 0;
    // A retried job sees the history as it was when the order came.
    const std::int64_t at = known ? kept->integer(0, 1) : now_ms;
    Result<store::SqlRows> h = db_->query(
        "SELECT count(*), coalesce(min(ordered_ms), 0), "
        "coalesce(sum(CASE WHEN ordered_ms >= ?3 THEN 1 ELSE 0 END), 0) FROM customer_orders "
        "WHERE customer = ?1 AND order_id <> ?2 AND ordered_ms <= ?4",
        {customer, order_id, at - window_ms, at});
    if (!h) return h.status();
    out.history = {h->integer(0, 0), h->integer(0, 2), h->integer(0, 1)};
    out.ordered_ms = at;
    if (known) {
      out.segment = kept->text(0, 0);
      return Status::ok();
    }
    Result<std::string> segment = decide(out.history);
    if (!segment) return segment.status();
    out.segment = std::move(*segment);
    return db_
        ->exec("INSERT INTO customer_orders (customer, order_id, ordered_ms, segment) "
               "VALUES (?1, ?2, ?3, ?4)",
               {customer, order_id, now_ms, out.segment})
        .status();
  });
  if (!s) return s;
  return out;
}

namespace {
// 1 when the delivery d has a status callback among `statuses`, else 0.
std::string has_event(std::string_view statuses) {
  return "CASE WHEN EXISTS (SELECT 1 FROM delivery_events e WHERE e.delivery = d.id AND "
         "e.status IN (" + std::string(statuses) + ")) THEN 1 ELSE 0 END";
}
constexpr std::string_view kDelivered = "'delivered', 'read', 'opened', 'clicked'";
constexpr std::string_view kOpened = "'opened', 'clicked'";
constexpr std::string_view kClicked = "'clicked'";
}  // namespace

Result<std::vector<DeliveryLog::ExperimentDelivery>> DeliveryLog::experiment_deliveries() {
  std::lock_guard lock(mu_);
  Result<store::SqlRows> rows = db_->query(
      "SELECT experiment, variant, coalesce(segment, ''), coalesce(order_id, ''), created_ms, " +
          has_event(kDelivered) + ", " + has_event(kOpened) + ", " + has_event(kClicked) +
          " FROM deliveries d WHERE status = 'sent' AND experiment IS NOT NULL ORDER BY id",
      {});
  if (!rows) return rows.status();
  std::vector<ExperimentDelivery> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->text(i, 0), rows->text(i, 1), rows->text(i, 2), rows->text(i, 3),
                   rows->integer(i, 4), rows->integer(i, 5) != 0, rows->integer(i, 6) != 0,
                   rows->integer(i, 7) != 0});
  }
  return out;
}

Result<std::vector<EngagementCount>> DeliveryLog::engagement_counts(std::int64_t since_ms) {
  std::lock_guard lock(mu_);
  const auto has = [](std::string_view statuses) { return "sum(" + has_event(statuses) + ")"; };
  Result<store::SqlRows> rows = db_->query(
      "SELECT channel, coalesce(segment, ''), coalesce(experiment, ''), coalesce(variant, ''), "
      "count(*), " + has(kDelivered) + ", " + has(kOpened) + ", " + has(kClicked) +
          " FROM deliveries d WHERE status = 'sent' AND created_ms >= ?1 GROUP BY 1, 2, 3, 4 "
          "ORDER BY 1, 2, 3, 4",
      {since_ms});
  if (!rows) return rows.status();
  std::vector<EngagementCount> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->text(i, 0), rows->text(i, 1), rows->text(i, 2), rows->text(i, 3),
                   rows->integer(i, 4), rows->integer(i, 5), rows->integer(i, 6),
                   rows->integer(i, 7)});
  }
  return out;
}

}  // namespace ordo::notify
