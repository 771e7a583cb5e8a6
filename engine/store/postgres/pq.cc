#include "store/postgres/pq.h"

#include <libpq-fe.h>

#include <charconv>

namespace ordo::store::pg {
namespace {

// What a failed statement means to the caller, from its SQLSTATE class
// (https://www.postgresql.org/docs/15/errcodes-appendix.html).
StatusCode code_of(std::string_view state) {
  if (state.size() != 5) return StatusCode::kIoError;  // no answer: the connection broke
  const std::string_view cls = state.substr(0, 2);
  if (cls == "08" || cls == "57" || cls == "53" || cls == "58") {
    return StatusCode::kIoError;  // connection, shutdown, resources (disk full), system
  }
  // A transaction that lost a race with another (serialization failure, deadlock victim):
  // done again, it goes through. A lock that could not be had at once: busy.
  if (state == "40001" || state == "40P01") return StatusCode::kConflict;
  if (state == "55P03") return StatusCode::kBusy;
  if (cls == "23") return StatusCode::kConflict;  // a constraint (a unique key taken)
  if (cls == "28") return StatusCode::kUnauthenticated;
  return StatusCode::kInternal;  // a statement of Ordo's the server refused: a bug
}

// libpq's messages end with a newline (several lines for some); one line for ours.
std::string one_line(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

bool is_url(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

namespace {

// libpq quotes parts of a URI it cannot parse (a password with a bare '%' in it, say), and
// may quote the URI: neither the URI nor its password goes out in a message.
std::string without_secrets(std::string message, std::string_view url) {
  auto cut = [&message](std::string_view secret) {
    if (secret.empty()) return;
    for (std::size_t at = message.find(secret); at != std::string::npos;
         at = message.find(secret, at + 3)) {
      message.replace(at, secret.size(), "***");
    }
  };
  cut(url);
  const std::size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t at = url.find('@', start);
    const std::size_t colon = url.find(':', start);
    if (at != std::string_view::npos && colon != std::string_view::npos && colon < at) {
      cut(url.substr(colon + 1, at - colon - 1));
    }
  }
  for (std::size_t at = url.find("password="); at != std::string_view::npos;
       at = url.find("password=", at + 1)) {
    const std::size_t value = at + 9;
    const std::size_t end = url.find('&', value);
    cut(url.substr(value, (end == std::string_view::npos ? url.size() : end) - value));
  }
  return message;
}

}  // namespace

std::string redacted(std::string_view url) {
  std::string out(url);
  // postgresql://user:password@host -> postgresql://user:***@host
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t at = out.find('@', start);
    const std::size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=secret&sslmode=... -> ...?password=***&sslmode=...
  for (std::size_t at = out.find("password="); at != std::string::npos;
       at = out.find("password=", at + 1)) {
    if (at > 0 && out[at - 1] != '?' && out[at - 1] != '&') continue;
    const std::size_t value = at + 9;
    const std::size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

SchemaInUrl take_schema(std::string_view url) {
  SchemaInUrl out{std::string(url), std::nullopt};
  const std::size_t query = out.url.find('?');
  if (query == std::string::npos) return out;
  std::size_t at = query + 1;
  while (at < out.url.size()) {
    std::size_t end = out.url.find('&', at);
    if (end == std::string::npos) end = out.url.size();
    if (std::string_view(out.url).substr(at, end - at).starts_with("schema=")) {
      out.schema = out.url.substr(at + 7, end - at - 7);
      // Drop the parameter with one of its separators ('&' after it, or the one before).
      if (end < out.url.size()) {
        out.url.erase(at, end + 1 - at);
      } else {
        out.url.erase(at - 1);
      }
      continue;
    }
    at = end + 1;
  }
  return out;
}

void Rows::Clear::operator()(pg_result* r) const noexcept { PQclear(r); }

int Rows::size() const noexcept { return r_ ? PQntuples(r_.get()) : 0; }
int Rows::columns() const noexcept { return r_ ? PQnfields(r_.get()) : 0; }

bool Rows::is_null(int row, int column) const noexcept {
  return PQgetisnull(r_.get(), row, column) != 0;
}

std::string_view Rows::text(int row, int column) const noexcept {
  return {PQgetvalue(r_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(r_.get(), row, column))};
}

std::optional<std::int64_t> Rows::integer(int row, int column) const noexcept {
  if (is_null(row, column)) return std::nullopt;
  const std::string_view t = text(row, column);
  std::int64_t v = 0;
  const auto [end, error] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (error != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

std::int64_t Rows::affected() const noexcept {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_.get());
  std::int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

void Connection::Finish::operator()(pg_conn* c) const noexcept { PQfinish(c); }

Result<Connection> Connection::open(const std::string& url, std::chrono::seconds timeout) {
  // connect_timeout first: the URI's own settings, expanded from dbname, override it.
  const std::string seconds = std::to_string(timeout.count());
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {seconds.c_str(), "ordo", url.c_str(), nullptr};
  pg_conn* c = PQconnectdbParams(keys, values, 1);
  if (c == nullptr) return Status::internal("libpq could not allocate a connection");
  std::unique_ptr<pg_conn, Finish> owned(c);
  if (PQstatus(c) != CONNECTION_OK) {
    return Status::io_error("cannot connect to PostgreSQL at " + redacted(url) + ": " +
                            without_secrets(one_line(PQerrorMessage(c)), url) +
                            " (check the host, port, database name, user and password)");
  }
  std::string where = std::string(PQhost(c)) + ":" + PQport(c) + "/" + PQdb(c);
  // Notices (e.g. "schema already exists, skipping") are not for the caller's stderr.
  PQsetNoticeProcessor(c, [](void*, const char*) {}, nullptr);
  return Connection(owned.release(), std::move(where));
}

Connection::~Connection() = default;

bool Connection::ok() const noexcept { return c_ && PQstatus(c_.get()) == CONNECTION_OK; }

int Connection::server_version() const noexcept { return c_ ? PQserverVersion(c_.get()) : 0; }

Result<Rows> Connection::check(pg_result* r, std::string_view what) {
  Rows rows(r);
  const ExecStatusType s = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return rows;
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string message =
      one_line(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c_.get()));
  if (message.empty()) message = one_line(PQerrorMessage(c_.get()));
  return Status(code_of(state != nullptr ? state : ""),
                "PostgreSQL at " + where_ + ", " + std::string(what) + ": " + message +
                    (state != nullptr ? " (SQLSTATE " + std::string(state) + ")" : ""));
}

Status Connection::exec(std::string_view sql) {
  const std::string text(sql);
  return check(PQexec(c_.get(), text.c_str()), "running SQL").status();
}

Status Connection::prepare(const std::string& name, const std::string& sql) {
  return check(PQprepare(c_.get(), name.c_str(), sql.c_str(), 0, nullptr),
               "preparing " + name)
      .status();
}

Result<Rows> Connection::run(const std::string& name, std::initializer_list<Param> params) {
  return check(PQexecPrepared(c_.get(), name.c_str(), static_cast<int>(params.size()),
                              params.begin(), nullptr, nullptr, 0),
               name);
}

Result<Rows> Connection::run(const std::string& name, const std::vector<Param>& params) {
  return check(PQexecPrepared(c_.get(), name.c_str(), static_cast<int>(params.size()),
                              params.data(), nullptr, nullptr, 0),
               name);
}

Status Connection::begin_pipeline() {
  sent_ = 0;
  if (PQenterPipelineMode(c_.get()) != 1) {
    return check(nullptr, "entering pipeline mode").status();
  }
  return Status::ok();
}

Status Connection::send(const std::string& name, std::initializer_list<Param> params) {
  return send(name, std::vector<Param>(params));
}

Status Connection::send(const std::string& name, const std::vector<Param>& params) {
  if (PQsendQueryPrepared(c_.get(), name.c_str(), static_cast<int>(params.size()),
                          params.data(), nullptr, nullptr, 0) != 1) {
    return check(nullptr, "sending " + name).status();
  }
  ++sent_;
  return Status::ok();
}

Status Connection::send_once(const std::string& sql, std::initializer_list<Param> params) {
  return send_once(sql, std::vector<Param>(params));
}

Status Connection::send_once(const std::string& sql, const std::vector<Param>& params) {
  if (PQsendQueryParams(c_.get(), sql.c_str(), static_cast<int>(params.size()), nullptr,
                        params.data(), nullptr, nullptr, 0) != 1) {
    return check(nullptr, "sending SQL").status();
  }
  ++sent_;
  return Status::ok();
}

Result<std::vector<Rows>> Connection::end_pipeline() {
  pg_conn* c = c_.get();
  Status failure;
  std::vector<Rows> out;
  out.reserve(sent_);
  bool readable = PQpipelineSync(c) == 1;
  if (!readable) failure = check(nullptr, "ending a pipeline").status();
  // Every answer is read, also after a failure: pipeline mode ends only when all are.
  for (std::size_t i = 0; i < sent_ && readable; ++i) {
    pg_result* r = PQgetResult(c);
    if (r == nullptr) {
      if (failure.is_ok()) failure = check(nullptr, "reading a pipeline's answers").status();
      readable = false;
      break;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
      out.emplace_back(r);  // skipped after an earlier failure, which is reported
    } else if (Result<Rows> rows = check(r, "a statement of a pipeline"); rows) {
      out.push_back(std::move(*rows));
    } else if (failure.is_ok()) {
      failure = rows.status();
    }
    // Each statement's results end with a null.
    while (pg_result* extra = PQgetResult(c)) PQclear(extra);
  }
  // The sync's own result, then out of pipeline mode (which needs every result read).
  if (readable) {
    while (pg_result* r = PQgetResult(c)) {
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
  }
  sent_ = 0;
  if (PQexitPipelineMode(c) != 1 && failure.is_ok()) {
    failure = check(nullptr, "leaving pipeline mode").status();
  }
  if (!failure.is_ok()) return failure;
  return out;
}

Result<Rows> Connection::run_once(const std::string& sql, std::initializer_list<Param> params) {
  return run_once(sql, std::vector<Param>(params));
}

Result<Rows> Connection::run_once(const std::string& sql, const std::vector<Param>& params) {
  return check(PQexecParams(c_.get(), sql.c_str(), static_cast<int>(params.size()), nullptr,
                            params.data(), nullptr, nullptr, 0),
               "running SQL");
}

}  // namespace ordo::store::pg
