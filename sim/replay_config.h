// The replay config (docs/simulation.md#the-replay-config), read once and compiled: how each
// task type's simulated adapter answers, how a record starts an order, and what to measure.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "expr/expr.h"
#include "ordo/status.h"
#include "sim/latency.h"

namespace ordo::sim {

// A value in the config: a FEEL expression ("=inStock = \"true\"") or a literal JSON value.
struct ConfigValue {
  std::shared_ptr<const CompiledExpression> expression;  // null: `literal`
  nlohmann::json literal;
  std::string where;  // "tasks.erp.ship.outputs.trackingNumber", for messages
  // Set when the expression is just `job.headers.NAME`: read the header, skip the evaluator.
  std::string header;
  // Set when the expression is just a name (`=orderId`): a text found under it is the value
  // as it is, without the evaluator (anything else still goes through it).
  std::string name;
};

struct NamedValue {
  std::string name;
  ConfigValue value;
};

struct PublishSpec {
  std::string message;
  ConfigValue correlation_key;
  std::vector<NamedValue> variables;
  std::optional<ConfigValue> when;  // published only when true
  Latency after;                    // from the moment the job is handed out
  std::string where;
};

struct OutcomeSpec {
  std::optional<ConfigValue> when;    // chosen when true (recorded outcomes)
  std::optional<double> probability;  // chosen with this probability (what-if runs)
  std::vector<NamedValue> outputs;
  std::string error_code;  // a BPMN error instead of completing
  std::optional<ConfigValue> error_message;
  std::optional<ConfigValue> fail;  // a retryable failure with this message
  std::vector<PublishSpec> publish;
  std::optional<Latency> latency;  // overrides the task's
  std::string where;
};

struct NotificationSpec {
  ConfigValue template_id;  // default: the task header "template"
  ConfigValue channel;      // default: the task header "channel"
  std::optional<ConfigValue> bounced;
};

struct TaskSpec {
  std::string type;
  Latency latency;  // default: no time at all
  std::vector<std::string> requires_fields;
  std::vector<OutcomeSpec> outcomes;  // the first that applies; none: complete, no variables
  std::optional<NotificationSpec> notification;
  bool uses_job = false;     // some expression reads `job` (built only then)
  std::uint64_t stream = 0;  // hash of the type: its own random numbers
};

struct SlaSpec {
  std::string name;
  std::string milestone;  // a milestone's name, or "end"
  std::int64_t within_ms = 0;
};

struct RateSpec {
  std::string name;
  std::string reached;  // element id: orders that reached it ...
  std::string of;       // ... out of orders that reached this one ("" : every order)
};

struct ReplayConfig {
  std::string source;  // the file name, for messages
  // Starting an order from its record.
  std::string time_field = "createdAt";
  std::string id_field = "orderId";
  std::string partition_field = "customerId";  // orders of one customer share a lane
  std::vector<NamedValue> start_variables;     // empty: the record as it is
  std::vector<std::string> requires_fields;    // every record must have these
  std::int64_t horizon_ms = 30LL * 24 * 3'600'000;
  std::int64_t message_ttl_ms = 24LL * 3'600'000;
  std::vector<std::pair<std::string, std::string>> milestones;  // name -> element id
  std::vector<RateSpec> rates;
  std::vector<SlaSpec> sla;
  std::map<std::string, TaskSpec, std::less<>> tasks;
  std::optional<TaskSpec> default_task;  // job types the config does not name
  // Every field the replay reads from a record (empty: all of them): the reader builds only
  // these.
  std::vector<std::string> record_fields;

  const TaskSpec* task(std::string_view type) const;
};

// A value as text: a string as it is, anything else as JSON ("42", "true").
std::string text_of(const nlohmann::json& value);

// "orders.csv:17: <message>": how every problem with a record is reported.
std::string at_line(const std::string& file, std::int64_t line, const std::string& message);

// A 64-bit hash of text that is the same everywhere (FNV-1a): random streams are keyed by it.
std::uint64_t stable_hash(std::string_view text) noexcept;

// Reads and compiles a config; every mistake names its key ("replay.json: tasks.payment.charge.
// outcomes[0].when: ...").
Result<ReplayConfig> read_replay_config(const nlohmann::json& config, const std::string& source);

// Where config expressions find names: `job` (when given), then the record's fields, then the
// variables the task sees.
class ReplayVariables final : public expr::Variables {
 public:
  ReplayVariables(const nlohmann::json* job, const nlohmann::json& record,
                  const expr::Variables* process)
      : job_(job), record_(record), process_(process) {}
  const nlohmann::json* find(std::string_view name) const override;

 private:
  const nlohmann::json* job_;
  const nlohmann::json& record_;
  const expr::Variables* process_;
};

// Evaluates a config value. Errors name the value's key.
Result<nlohmann::json> evaluate(const ConfigValue& value, const expr::Variables& variables,
                                std::int64_t now_ms);
Result<bool> evaluate_condition(const ConfigValue& value, const expr::Variables& variables,
                                std::int64_t now_ms);

}  // namespace ordo::sim
