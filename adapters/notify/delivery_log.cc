#include "delivery_log.h"

#include <sqlite3.h>

namespace ordo::notify {

using store::sqlite::Database;
using store::sqlite::Statement;

namespace {

constexpr std::int64_t kHourMs = 3'600'000;
constexpr std::string_view kColumns =
    "id, dedupe_key, message, order_id, customer, channel, locale, recipient, status, "
    "provider_id, error, provider_status, attempt, created_ms, updated_ms";

DeliveryRecord record_from(const Statement& st) {
  DeliveryRecord r;
  r.id = st.int64(0);
  r.dedupe_key = st.text(1);
  r.message = st.text(2);
  r.order_id = st.text(3);
  r.customer = st.text(4);
  r.channel = st.text(5);
  r.locale = st.text(6);
  r.recipient = st.text(7);
  r.status = st.text(8);
  r.provider_id = st.text(9);
  r.error = st.text(10);
  r.provider_status = st.text(11);
  r.attempt = static_cast<int>(st.int64(12));
  r.created_ms = st.int64(13);
  r.updated_ms = st.int64(14);
  return r;
}

}  // namespace

Result<std::unique_ptr<DeliveryLog>> DeliveryLog::open(const std::string& path) {
  // NORMAL in WAL mode: a commit survives the process being killed (the crashes that matter
  // here); only a power cut may lose the last ones. A FULL fsync per record would widen
  // the window in which an email is sent but not yet recorded as sent.
  store::sqlite::OpenOptions options;
  options.synchronous_full = false;
  Result<std::unique_ptr<Database>> db = Database::open(path, options);
  if (!db) return db.status();
  return std::unique_ptr<DeliveryLog>(new DeliveryLog(std::move(*db)));
}

Status DeliveryLog::insert(const Attempt& a, std::string_view status, std::string_view error,
                           std::int64_t* row) {
  Result<Statement> st = db_->prepare(
      "INSERT INTO deliveries (dedupe_key, message, order_id, customer, channel, locale, "
      "recipient, status, error, job_key, attempt, created_ms, updated_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)");
  if (!st) return st.status();
  st->bind(1, a.dedupe_key)
      .bind(2, a.message)
      .bind_text_or_null(3, a.order_id)
      .bind_text_or_null(4, a.customer)
      .bind(5, a.channel)
      .bind_text_or_null(6, a.locale)
      .bind_text_or_null(7, a.recipient)
      .bind(8, status)
      .bind_text_or_null(9, error)
      .bind_text_or_null(10, a.job_key)
      .bind(11, static_cast<std::int64_t>(a.attempt))
      .bind(12, a.now_ms);
  if (Status s = st->run(); !s) return s;
  if (row != nullptr) *row = sqlite3_last_insert_rowid(db_->handle());
  return Status::ok();
}

Result<Reservation> DeliveryLog::reserve(const Attempt& a, int cap_per_hour) {
  std::lock_guard lock(mu_);
  Reservation out;
  Status s = store::sqlite::in_transaction(*db_, [&]() -> Status {
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
      Result<Statement> recent = db_->prepare(
          "SELECT created_ms FROM deliveries WHERE customer = ?1 AND created_ms > ?2 AND "
          "status IN ('sending', 'sent') AND dedupe_key <> ?3 ORDER BY created_ms");
      if (!recent) return recent.status();
      recent->bind(1, a.customer).bind(2, a.now_ms - kHourMs).bind(3, a.dedupe_key);
      std::vector<std::int64_t> times;
      if (Status r = store::sqlite::each_row(*recent, [&] { times.push_back(recent->int64(0)); });
          !r) {
        return r;
      }
      if (static_cast<int>(times.size()) >= cap_per_hour) {
        out.gate = Reservation::Gate::kCapped;
        // When enough of them have left the hour for one more.
        out.retry_at_ms = times[times.size() - static_cast<std::size_t>(cap_per_hour)] + kHourMs;
        return insert(a, "deferred",
                      "the customer's cap of " + std::to_string(cap_per_hour) +
                          " messages an hour is reached",
                      nullptr);
      }
    }
    Result<Statement> interrupted = db_->prepare(
        "UPDATE deliveries SET status = 'failed', updated_ms = ?3, error = 'interrupted: "
        "stopped before the outcome was recorded; sent again under the same provider key' "
        "WHERE dedupe_key = ?1 AND channel = ?2 AND status = 'sending'");
    if (!interrupted) return interrupted.status();
    interrupted->bind(1, a.dedupe_key).bind(2, a.channel).bind(3, a.now_ms);
    if (Status r = interrupted->run(); !r) return r;
    return insert(a, "sending", {}, &out.row);
  });
  if (!s) return s;
  return out;
}

Result<std::optional<DeliveryRecord>> DeliveryLog::find_sent_locked(const std::string& dedupe_key) {
  Result<Statement> st = db_->prepare(
      "SELECT " + std::string(kColumns) +
      " FROM deliveries WHERE dedupe_key = ?1 AND status = 'sent' ORDER BY id LIMIT 1");
  if (!st) return st.status();
  st->bind(1, dedupe_key);
  std::optional<DeliveryRecord> out;
  if (Status s = store::sqlite::each_row(*st, [&] { out = record_from(*st); }); !s) return s;
  return out;
}

Result<std::optional<DeliveryRecord>> DeliveryLog::find_sent(const std::string& dedupe_key) {
  std::lock_guard lock(mu_);
  return find_sent_locked(dedupe_key);
}

Status DeliveryLog::mark_forwarded(std::int64_t delivery, const std::string& status,
                                   std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  Result<Statement> st = db_->prepare(
      "UPDATE delivery_events SET forwarded_ms = ?3 WHERE delivery = ?1 AND status = ?2");
  if (!st) return st.status();
  st->bind(1, delivery).bind(2, status).bind(3, now_ms);
  return st->run();
}

Status DeliveryLog::finish(std::int64_t row, std::string_view status, std::string_view provider_id,
                           std::string_view error, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  Result<Statement> st = db_->prepare(
      "UPDATE deliveries SET status = ?2, provider_id = ?3, error = ?4, updated_ms = ?5 "
      "WHERE id = ?1");
  if (!st) return st.status();
  st->bind(1, row)
      .bind(2, status)
      .bind_text_or_null(3, provider_id)
      .bind_text_or_null(4, error)
      .bind(5, now_ms);
  return st->run();
}

Status DeliveryLog::note(const Attempt& a, std::string_view status, std::string_view error) {
  std::lock_guard lock(mu_);
  return insert(a, status, error, nullptr);
}

Result<std::vector<std::string>> DeliveryLog::rejected_channels(const std::string& dedupe_key) {
  std::lock_guard lock(mu_);
  Result<Statement> st = db_->prepare(
      "SELECT DISTINCT channel FROM deliveries WHERE dedupe_key = ?1 AND status = 'rejected'");
  if (!st) return st.status();
  st->bind(1, dedupe_key);
  std::vector<std::string> out;
  if (Status s = store::sqlite::each_row(*st, [&] { out.push_back(st->text(0)); }); !s) return s;
  return out;
}

Result<std::vector<DeliveryRecord>> DeliveryLog::list(std::string_view order_id) {
  std::lock_guard lock(mu_);
  Result<Statement> st = db_->prepare(
      "SELECT " + std::string(kColumns) + " FROM deliveries" +
      (order_id.empty() ? std::string(" ORDER BY id") : " WHERE order_id = ?1 ORDER BY id"));
  if (!st) return st.status();
  if (!order_id.empty()) st->bind(1, order_id);
  std::vector<DeliveryRecord> out;
  if (Status s = store::sqlite::each_row(*st, [&] { out.push_back(record_from(*st)); }); !s) {
    return s;
  }
  return out;
}

Result<std::vector<Notifier::Count>> DeliveryLog::counts() {
  std::lock_guard lock(mu_);
  Result<Statement> st =
      db_->prepare("SELECT channel, status, count(*) FROM deliveries GROUP BY channel, status");
  if (!st) return st.status();
  std::vector<Notifier::Count> out;
  Status s = store::sqlite::each_row(*st, [&] {
    out.push_back({st->text(0), st->text(1), st->int64(2)});
  });
  if (!s) return s;
  return out;
}

Result<std::optional<DeliveryRecord>> DeliveryLog::record_status(const DeliveryStatus& status) {
  std::lock_guard lock(mu_);
  std::optional<DeliveryRecord> delivery;
  bool fresh = false;
  Status s = store::sqlite::in_transaction(*db_, [&]() -> Status {
    Result<Statement> find =
        db_->prepare("SELECT " + std::string(kColumns) +
                     " FROM deliveries WHERE channel = ?1 AND provider_id = ?2 AND status = 'sent' "
                     "ORDER BY id DESC LIMIT 1");
    if (!find) return find.status();
    find->bind(1, status.channel).bind(2, status.provider_id);
    if (Status r = store::sqlite::each_row(*find, [&] { delivery = record_from(*find); }); !r) {
      return r;
    }
    if (!delivery) {
      return Status::not_found("no " + status.channel + " delivery with provider id '" +
                               status.provider_id + "' in the delivery log");
    }
    Result<Statement> add = db_->prepare(
        "INSERT INTO delivery_events (delivery, status, at_ms, detail) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT DO NOTHING");
    if (!add) return add.status();
    add->bind(1, delivery->id)
        .bind(2, status.status)
        .bind(3, status.at_ms)
        .bind(4, status.detail.dump());
    if (Status r = add->run(); !r) return r;
    fresh = sqlite3_changes(db_->handle()) == 1;
    if (!fresh) {
      // Seen before: again only if it never reached the CRM.
      Result<Statement> pending = db_->prepare(
          "SELECT 1 FROM delivery_events WHERE delivery = ?1 AND status = ?2 AND "
          "forwarded_ms IS NULL");
      if (!pending) return pending.status();
      pending->bind(1, delivery->id).bind(2, status.status);
      return store::sqlite::each_row(*pending, [&] { fresh = true; });
    }
    // The latest by the provider's time, so callbacks arriving out of order do not move the
    // status backwards.
    Result<Statement> latest = db_->prepare(
        "UPDATE deliveries SET provider_status = (SELECT status FROM delivery_events WHERE "
        "delivery = ?1 ORDER BY at_ms DESC, rowid DESC LIMIT 1) WHERE id = ?1");
    if (!latest) return latest.status();
    latest->bind(1, delivery->id);
    if (Status r = latest->run(); !r) return r;
    delivery->provider_status = status.status;
    return Status::ok();
  });
  if (!s) return s;
  if (!fresh) return std::optional<DeliveryRecord>();
  return delivery;
}

}  // namespace ordo::notify
