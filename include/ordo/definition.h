// ProcessDefinition: one executable BPMN process, loaded, resolved and validated.
//
// A definition is immutable once the loader hands it out (always as
// std::shared_ptr<const ProcessDefinition>), so any number of threads and instances may read
// it without locking. Elements and sequence flows live in flat vectors and refer to each other
// by index (ElementIndex / FlowIndex); the runtime never looks at XML or compares element type
// names again. Ids are kept for people and for the store.
//
// Read loader.h to see how a definition is made, and docs/bpmn-support.md for what each
// element does.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ordo {

using ElementIndex = std::uint32_t;
using FlowIndex = std::uint32_t;
inline constexpr std::uint32_t kNoIndex = std::numeric_limits<std::uint32_t>::max();

// Where something was written in its file: 1-based line and column (characters).
struct SourceLocation {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

// Every kind of flow node Ordo loads. A closed set: the runtime switches on it.
enum class ElementKind : unsigned char {
  kStartEvent,
  kEndEvent,
  kIntermediateCatchEvent,
  kIntermediateThrowEvent,
  kBoundaryEvent,
  kTask,  // a plain (abstract) task: passes through
  kServiceTask,
  kSendTask,
  kReceiveTask,
  kUserTask,
  kManualTask,
  kScriptTask,
  kBusinessRuleTask,
  kExclusiveGateway,
  kParallelGateway,
  kInclusiveGateway,
  kEventBasedGateway,
  kSubProcess,       // embedded subprocess
  kEventSubProcess,  // subProcess with triggeredByEvent="true"
  kCallActivity,
};

// The BPMN XML local name, e.g. "serviceTask"; "eventSubProcess" for kEventSubProcess.
std::string_view to_string(ElementKind kind) noexcept;
// A phrase for people, e.g. "service task".
std::string_view describe(ElementKind kind) noexcept;

bool is_activity(ElementKind kind) noexcept;  // tasks, subprocesses, call activities
bool is_gateway(ElementKind kind) noexcept;
bool is_event(ElementKind kind) noexcept;
// Activities whose work is done by a job (service, send, user, business rule tasks).
bool is_job_task(ElementKind kind) noexcept;

enum class EventType : unsigned char {
  kNone,
  kMessage,
  kTimer,
  kError,
  kSignal,
  kEscalation,
  kTerminate,
  kLink,
  kCompensation,
  kConditional,
  kCancel,
};
std::string_view to_string(EventType type) noexcept;  // "message", "timer", ...

// How an expression is written. The loader keeps the text, its dialect and where it stands,
// and compiles FEEL and JUEL once (a syntax error is a load diagnostic).
enum class ExpressionDialect : unsigned char {
  kStatic,  // a plain value, e.g. "PT30M" or "orderId"
  kFeel,    // written "=..." (Zeebe); `text` holds what follows the '='
  kJuel,    // written "${...}" or "#{...}" (Camunda 7); `text` holds the whole string
};
std::string_view to_string(ExpressionDialect dialect) noexcept;  // "static", "feel", "juel"

// The compiled form of an expression; opaque outside the engine.
class CompiledExpression;

struct Expression {
  ExpressionDialect dialect = ExpressionDialect::kStatic;
  std::string text;
  SourceLocation location;
  // Set by the loader for FEEL and JUEL expressions that compiled; null for static values.
  std::shared_ptr<const CompiledExpression> compiled;

  bool empty() const noexcept { return text.empty(); }
  // As the user wrote it: "=" + text for FEEL, text otherwise.
  std::string source() const;
};

enum class TimerType : unsigned char { kNone, kDate, kDuration, kCycle };
std::string_view to_string(TimerType type) noexcept;  // "date", "duration", "cycle"

// The event definition of an event (at most one: "multiple" events are rejected). Which
// fields are set depends on `type`; references are resolved, so the runtime needs no lookup.
struct EventDefinition {
  EventType type = EventType::kNone;
  SourceLocation location;
  std::string ref;  // messageRef / errorRef / signalRef / escalationRef as written

  // kMessage: the message's name and the subscription's correlation key.
  Expression message_name;
  Expression correlation_key;
  // kError / kEscalation: the code to throw or catch. For a catch event, no code (and no
  // reference) catches every error or escalation.
  std::string code;
  std::string ref_name;  // name of the referenced error/escalation/signal
  // kTimer
  TimerType timer_type = TimerType::kNone;
  Expression timer;
  // kLink
  std::string link_name;
  // kConditional
  Expression condition;
  // kCompensation
  std::string activity_ref;
  bool wait_for_completion = true;
};

// An input or output mapping (zeebe:ioMapping, camunda:inputOutput).
struct IoMapping {
  Expression source;
  std::string target;
};

struct TaskHeader {
  std::string key;
  std::string value;
};

// Where a job task's type came from.
enum class TaskTypeOrigin : unsigned char {
  kNone,
  kZeebe,              // zeebe:taskDefinition type
  kCamundaExternal,    // camunda:type="external" camunda:topic
  kCamundaClass,       // camunda:class (a Java delegate; the class name becomes the type)
  kCamundaExpression,  // camunda:expression / camunda:delegateExpression
  kUnsupported,        // an implementation Ordo cannot run (DMN, connectors); already an error
};

struct TaskDefinition {
  Expression type;           // the job type handlers register for
  Expression retries;        // empty: the engine default (3)
  Expression retry_backoff;  // an ISO 8601 cycle such as R3/PT10S (camunda:failedJobRetryTimeCycle)
  TaskTypeOrigin origin = TaskTypeOrigin::kNone;
};

struct MultiInstance {
  bool present = false;
  bool sequential = false;
  SourceLocation location;
  Expression input_collection;  // zeebe inputCollection / camunda:collection
  std::string input_element;    // zeebe inputElement / camunda:elementVariable
  std::string output_collection;
  Expression output_element;
  Expression loop_cardinality;
  Expression completion_condition;
  // standardLoopCharacteristics: the activity runs again while loop_condition holds, one
  // run at a time (it is a sequential multi-instance of unknown length).
  bool standard = false;
  Expression loop_condition;   // evaluated after each run; also before the first if test_before
  bool test_before = false;
  std::int64_t loop_maximum = -1;  // at most this many runs (-1: none)
};

// How a Camunda 7 business rule task stores its decision's result (camunda:mapDecisionResult).
enum class DecisionResultMapping : unsigned char {
  kWhole,          // Zeebe: the decision's result as it is
  kSingleEntry,    // the one output of the one matching rule: a value
  kSingleResult,   // the outputs of the one matching rule: a context
  kCollectEntries, // the one output of each matching rule: a list of values
  kResultList,     // the outputs of each matching rule: a list of contexts (Camunda's default)
};

// A business rule task that evaluates a DMN decision (zeebe:calledDecision,
// camunda:decisionRef) instead of creating a job.
struct CalledDecision {
  Expression decision_id;  // the decision's id; empty: the task is a job or refused
  std::string result_variable;
  DecisionResultMapping mapping = DecisionResultMapping::kWhole;
};

struct CalledElement {
  Expression process_id;  // zeebe:calledElement processId / calledElement attribute
  bool propagate_all_child_variables = true;
  bool propagate_all_parent_variables = true;
};

// One flow node. Fields that do not apply to its kind are left empty.
struct Element {
  std::string id;
  std::string name;
  std::string documentation;
  ElementKind kind = ElementKind::kTask;
  SourceLocation location;
  ElementIndex scope = kNoIndex;  // enclosing (event) subprocess; kNoIndex: the process itself

  std::vector<FlowIndex> incoming;  // in document order
  std::vector<FlowIndex> outgoing;  // in document order
  FlowIndex default_flow = kNoIndex;

  EventDefinition event;                      // events (and event subprocess start events)
  ElementIndex attached_to = kNoIndex;        // boundary events
  bool cancel_activity = true;                // boundary events: interrupting?
  bool interrupting = true;                   // start events of event subprocesses
  std::vector<ElementIndex> boundary_events;  // activities: events attached to them

  TaskDefinition task;  // job tasks
  std::vector<TaskHeader> headers;
  std::vector<IoMapping> inputs;
  std::vector<IoMapping> outputs;
  Expression script;              // script task (zeebe:script expression)
  std::string result_variable;    // script task
  CalledElement called;           // call activity
  CalledDecision decision;        // business rule task evaluating a DMN decision
  MultiInstance loop;             // any activity
  bool async_before = false;      // camunda:asyncBefore
  bool async_after = false;       // camunda:asyncAfter
  bool for_compensation = false;  // isForCompensation: a compensation handler
  bool transaction = false;       // a <transaction> (kind kSubProcess)
  // Activities with a compensation boundary event: the handler associated with it.
  ElementIndex compensation_handler = kNoIndex;
};

// Whether `e`'s work is done by a job: a job task (but a business rule task that calls a
// decision), or a script task given to a worker (zeebe:taskDefinition instead of a script).
bool runs_as_job(const Element& e) noexcept;

struct SequenceFlow {
  std::string id;
  std::string name;
  SourceLocation location;
  ElementIndex source = kNoIndex;
  ElementIndex target = kNoIndex;
  Expression condition;     // empty: unconditional
  bool is_default = false;  // the source's default flow
};

// Diagram interchange (BPMNDI), kept so a process can be drawn and a file round-trips.
struct Bounds {
  double x = 0, y = 0, width = 0, height = 0;
};
struct Point {
  double x = 0, y = 0;
};
struct DiagramShape {
  std::string element_id;
  Bounds bounds;
  std::optional<Bounds> label;
  std::optional<bool> expanded;  // subprocesses: isExpanded
};
struct DiagramEdge {
  std::string element_id;
  std::vector<Point> waypoints;
  std::optional<Bounds> label;
};
struct Diagram {
  std::string id;
  std::string plane_element;  // the process or collaboration the plane draws
  std::vector<DiagramShape> shapes;
  std::vector<DiagramEdge> edges;
};

class ProcessDefinition {
 public:
  std::string id;
  std::string name;
  std::string documentation;
  std::string file;  // as given to the loader
  SourceLocation location;
  std::vector<Element> elements;  // in document order (a scope's children follow it)
  std::vector<SequenceFlow> flows;
  // The diagrams of the file this process came from (shared with the document), or null.
  std::shared_ptr<const std::vector<Diagram>> diagrams;

  // The element or flow with that id, or null / kNoIndex. O(log n).
  const Element* find_element(std::string_view element_id) const noexcept;
  ElementIndex element_index(std::string_view element_id) const noexcept;
  FlowIndex flow_index(std::string_view flow_id) const noexcept;

  // Start events directly in `scope` (kNoIndex: the process level), in document order.
  std::vector<ElementIndex> start_events(ElementIndex scope = kNoIndex) const;
  // Elements directly in `scope`, in document order.
  std::vector<ElementIndex> children(ElementIndex scope = kNoIndex) const;

  // Builds the id lookup tables; the loader calls it once the vectors are final.
  void index();

 private:
  std::vector<ElementIndex> by_id_;  // element indices sorted by id
  std::vector<FlowIndex> flows_by_id_;
};

// Root elements of a BPMN file that processes refer to.
struct MessageDefinition {
  std::string id;
  Expression name;
  Expression correlation_key;  // zeebe:subscription, when given on the message
  SourceLocation location;
};
struct ErrorDefinition {
  std::string id;
  std::string name;
  std::string code;
  SourceLocation location;
};
struct SignalDefinition {
  std::string id;
  std::string name;
  SourceLocation location;
};
struct EscalationDefinition {
  std::string id;
  std::string name;
  std::string code;
  SourceLocation location;
};
struct Participant {
  std::string id;
  std::string name;
  std::string process_ref;
};
struct MessageFlow {
  std::string id;
  std::string name;
  std::string source_ref;
  std::string target_ref;
};

// Everything one BPMN file defines.
struct BpmnDocument {
  std::string file;
  std::string content_hash;  // of the XML text: deployments use it to version processes
  std::string xml;           // the XML text itself (durable deployments store it)
  bool task_type_defaults_to_id = false;  // the LoadOptions it was loaded with
  std::string target_namespace;
  std::string exporter;  // e.g. "Camunda Modeler", with exporter_version
  std::string exporter_version;
  // Executable processes only (isExecutable="false" processes are skipped with a warning).
  std::vector<std::shared_ptr<const ProcessDefinition>> processes;
  std::vector<MessageDefinition> messages;
  std::vector<ErrorDefinition> errors;
  std::vector<SignalDefinition> signals;
  std::vector<EscalationDefinition> escalations;
  std::vector<Participant> participants;
  std::vector<MessageFlow> message_flows;
  std::shared_ptr<const std::vector<Diagram>> diagrams;

  const ProcessDefinition* find_process(std::string_view process_id) const noexcept;
};

}  // namespace ordo
