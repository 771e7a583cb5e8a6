// Behaving as Camunda 7's own JUnit tests expect, over ../shared/corpus/camunda-bpm-platform
// (a peer engine's suite, not process-mining conformance: that is mining/).
//
// Each case below is one Camunda test method (or one branch of it): the BPMN file, the start
// variables, what the test then does (complete a user task or a Java-delegate service task,
// correlate a message, let time pass) and what it asserts afterwards: which tasks wait (by
// name, as the tests compare task.getName(), or by id where a task has no name), that the
// instance ended, or that the engine refused (an exception at run time is an incident here,
// a failed deployment is a file Ordo rejects at load). The expectations were read from the
// JUnit methods named in each case; the code was not copied.
//
// How Camunda 7 concepts are played here:
//   - a Java delegate (camunda:class / camunda:expression) is a job of that type; "complete:X"
//     stands for the delegate returning, "error:X:CODE" for it throwing BpmnError(CODE) (or a
//     Java exception Camunda maps to an error code by class name), "fail:X" for it throwing
//     any other exception (the job fails until its retries run out);
//   - a JavaBean start variable (ExclusiveGatewayTestOrder...) is a JSON object whose fields
//     are the bean's properties as its getters compute them;
//   - runtimeService.messageEventReceived(name, execution) and correlateMessage(name) are a
//     message correlated with an empty correlation key (Camunda 7 files have none);
//   - an executed timer job or a moved ClockUtil is the virtual clock advanced.
//
// Files Ordo rejects at load are skipped with the diagnostic, unless the Camunda test expects
// the deployment to fail too. Cases marked with a departure note rely on behaviour where
// Camunda departs from BPMN 2.0 (or Ordo deliberately follows Zeebe): they run and are
// reported, but do not fail.
#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "ordo/engine.h"
#include "ordo/loader.h"
#include "runtime/harness.h"

namespace ordo::testing {
namespace {

namespace fs = std::filesystem;

const fs::path kCamunda = fs::path(ORDO_CORPUS_DIR) / "camunda-bpm-platform";
// Where the BPMN files of the cases live, below the corpus folder.
const fs::path kResources =
    kCamunda / "engine/src/test/resources/org/camunda/bpm/engine/test/bpmn";

struct Case {
  std::string_view test;  // JUnit class.method, with /variant for one branch of a method
  std::string_view file;  // below kResources; several separated by ';' (call activities)
  std::string_view variables;  // start variables, a JSON object
  std::vector<std::string_view> steps;
  // After the steps: the waiting tasks, '|'-separated ("name*3": three of them; "" none), or
  // "ended" (completed or terminated), "incident", "rejected" (the file must not load).
  std::string_view expected;
  std::string_view departure = {};  // non-empty: documented departure, reported only
  std::string_view process = {};    // process to start when it is not the file's first
};

// Steps:
//   complete:NAME [{json}]  complete the open job of the task named (or with id) NAME
//   error:NAME:CODE         the job of NAME throws BPMN error CODE
//   fail:NAME               the job of NAME fails until it has no retries left
//   message:NAME            correlate message NAME (empty key); some instance must receive it
//   nomessage:NAME          correlate message NAME; nothing may receive it
//   advance:MS              advance the virtual clock MS milliseconds (runs due timers)
//   expect:WAITING          check the waiting tasks now, as in `expected`
const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      // ---- ExclusiveGatewayTest --------------------------------------------------------
      {"ExclusiveGatewayTest.testDivergingExclusiveGateway/1",
       "gateway/ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml", R"({"input":1})",
       {}, "Task 1"},
      {"ExclusiveGatewayTest.testDivergingExclusiveGateway/2",
       "gateway/ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml", R"({"input":2})",
       {}, "Task 2"},
      {"ExclusiveGatewayTest.testDivergingExclusiveGateway/3",
       "gateway/ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml", R"({"input":3})",
       {}, "Task 3"},
      {"ExclusiveGatewayTest.testUnknownVariableInExpression",
       "gateway/ExclusiveGatewayTest.testDivergingExclusiveGateway.bpmn20.xml",
       R"({"iinput":1})", {}, "incident"},
      {"ExclusiveGatewayTest.testMergingExclusiveGateway",
       "gateway/ExclusiveGatewayTest.testMergingExclusiveGateway.bpmn20.xml", "{}", {},
       "my task*3"},
      {"ExclusiveGatewayTest.testMultipleValidConditions",
       "gateway/ExclusiveGatewayTest.testMultipleValidConditions.bpmn20.xml", R"({"input":5})",
       {}, "Task 2"},
      {"ExclusiveGatewayTest.testNoSequenceFlowSelected",
       "gateway/ExclusiveGatewayTest.testNoSequenceFlowSelected.bpmn20.xml", R"({"input":4})",
       {}, "incident"},
      {"ExclusiveGatewayTest.testWhitespaceInExpression",
       "gateway/ExclusiveGatewayTest.testWhitespaceInExpression.bpmn20.xml", R"({"input":1})",
       {}, "Task 1"},
      {"ExclusiveGatewayTest.testDecideBasedOnBeanProperty",
       "gateway/ExclusiveGatewayTest.testDecideBasedOnBeanProperty.bpmn20.xml",
       R"({"order":{"price":150}})", {}, "Standard service"},
      {"ExclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans/list",
       "gateway/ExclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans.bpmn20.xml",
       R"({"orders":[{"price":50},{"price":300},{"price":175}]})", {}, "Gold Member service"},
      {"ExclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans/array",
       "gateway/ExclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans.bpmn20.xml",
       R"({"orders":[{"price":50},{"price":10},{"price":175}]})", {}, "Basic service"},
      {"ExclusiveGatewayTest.testDecideBasedOnBeanMethod",
       "gateway/ExclusiveGatewayTest.testDecideBasedOnBeanMethod.bpmn20.xml",
       R"({"order":{"price":300,"basic":false,"standard":false,"gold":true}})", {},
       "Gold Member service"},
      {"ExclusiveGatewayTest.testInvalidMethodExpression",
       "gateway/ExclusiveGatewayTest.testInvalidMethodExpression.bpmn20.xml",
       R"({"order":{"price":50}})", {}, "incident"},
      {"ExclusiveGatewayTest.testDefaultSequenceFlow/1",
       "gateway/ExclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml", R"({"input":1})", {},
       "Input is one"},
      {"ExclusiveGatewayTest.testDefaultSequenceFlow/5",
       "gateway/ExclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml", R"({"input":5})", {},
       "Default input"},
      {"ExclusiveGatewayTest.testNoIdOnSequenceFlow",
       "gateway/ExclusiveGatewayTest.testNoIdOnSequenceFlow.bpmn20.xml", R"({"input":3})", {},
       "Input is more than one"},

      // ---- ParallelGatewayTest ---------------------------------------------------------
      {"ParallelGatewayTest.testSplitMergeNoWaitstates",
       "gateway/ParallelGatewayTest.testSplitMergeNoWaitstates.bpmn20.xml", "{}", {}, "ended"},
      {"ParallelGatewayTest.testUnstructuredConcurrencyTwoForks",
       "gateway/ParallelGatewayTest.testUnstructuredConcurrencyTwoForks.bpmn20.xml", "{}", {},
       "ended"},
      {"ParallelGatewayTest.testUnstructuredConcurrencyTwoJoins",
       "gateway/ParallelGatewayTest.testUnstructuredConcurrencyTwoJoins.bpmn20.xml", "{}", {},
       "ended"},
      {"ParallelGatewayTest.testForkFollowedByOnlyEndEvents",
       "gateway/ParallelGatewayTest.testForkFollowedByOnlyEndEvents.bpmn20.xml", "{}", {},
       "ended"},
      {"ParallelGatewayTest.testNestedForksFollowedByEndEvents",
       "gateway/ParallelGatewayTest.testNestedForksFollowedByEndEvents.bpmn20.xml", "{}", {},
       "ended"},
      {"ParallelGatewayTest.testNestedForkJoin",
       "gateway/ParallelGatewayTest.testNestedForkJoin.bpmn20.xml",
       "{}",
       {"expect:Task 0", "complete:Task 0", "expect:Task A|Task B", "complete:Task A",
        "expect:Task B", "complete:Task B", "expect:Task B1|Task B2", "complete:Task B1",
        "complete:Task B2"},
       "Task C"},
      {"ParallelGatewayTest.testForkJoin", "gateway/ParallelGatewayTest.testForkJoin.bpmn20.xml",
       "{}",
       {"expect:Receive Payment|Ship Order", "complete:Receive Payment",
        "complete:Ship Order"},
       "Archive Order"},
      {"ParallelGatewayTest.testUnbalancedForkJoin",
       "gateway/ParallelGatewayTest.testUnbalancedForkJoin.bpmn20.xml", "{}",
       {"expect:Task 1|Task 2|Task 3", "complete:Task 1", "expect:Task 2|Task 3",
        "complete:Task 2", "expect:Task 3|Task 4", "complete:Task 3", "complete:Task 4"},
       "ended"},
      {"ParallelGatewayTest.testCompletingJoin",
       "gateway/ParallelGatewayTest.testCompletingJoin.bpmn", "{}", {}, "ended"},
      {"ParallelGatewayTest.testCompletingJoinInSubProcess",
       "gateway/ParallelGatewayTest.testCompletingJoinInSubProcess.bpmn", "{}", {}, "ended"},
      {"ParallelGatewayTest.testAsyncParallelGateway",
       "gateway/ParallelGatewayTest.testAsyncParallelGateway.bpmn", "{}", {"advance:0"},
       "ended"},
      {"ParallelGatewayTest.testAsyncParallelGatewayAfterScopeTask",
       "gateway/ParallelGatewayTest.testAsyncParallelGatewayAfterScopeTask.bpmn20.xml", "{}",
       {"complete:scopeTask", "advance:0"}, "ended"},
      {"ParallelGatewayTest.testParallelGatewayBeforeAndInSubProcess",
       "gateway/ParallelGatewayTest.testParallelGatewayBeforeAndInSubProcess.bpmn", "{}", {},
       "Inner User Task 1|Inner User Task 2|Outer User Task"},
      {"ParallelGatewayTest.testReceyclingExecutionWithCallActivity",
       "gateway/ParallelGatewayTest.testReceyclingExecutionWithCallActivity.bpmn20.xml", "{}",
       {"expect:Another task|Some Task", "complete:Some Task", "expect:Another task",
        "complete:Another task"},
       "ended", {}, "parent-process"},
      {"ParallelGatewayTest.testImplicitParallelGatewayAfterSignalBehavior",
       "gateway/ParallelGatewayTest.testImplicitParallelGatewayAfterSignalBehavior.bpmn20.xml",
       "{}", {"complete:service"}, "Task 1|Task 2|Task 3"},
      {"ParallelGatewayTest.testExplicitParallelGatewayAfterSignalBehavior",
       "gateway/ParallelGatewayTest.testExplicitParallelGatewayAfterSignalBehavior.bpmn20.xml",
       "{}", {"complete:service"}, "Task 1|Task 2|Task 3"},

      // ---- InclusiveGatewayTest --------------------------------------------------------
      {"InclusiveGatewayTest.testDivergingInclusiveGateway/1",
       "gateway/InclusiveGatewayTest.testDivergingInclusiveGateway.bpmn20.xml", R"({"input":1})",
       {}, "Task 1|Task 2|Task 3"},
      {"InclusiveGatewayTest.testDivergingInclusiveGateway/2",
       "gateway/InclusiveGatewayTest.testDivergingInclusiveGateway.bpmn20.xml", R"({"input":2})",
       {}, "Task 2|Task 3"},
      {"InclusiveGatewayTest.testDivergingInclusiveGateway/3",
       "gateway/InclusiveGatewayTest.testDivergingInclusiveGateway.bpmn20.xml", R"({"input":3})",
       {}, "Task 3"},
      {"InclusiveGatewayTest.testUnknownVariableInExpression",
       "gateway/InclusiveGatewayTest.testDivergingInclusiveGateway.bpmn20.xml",
       R"({"iinput":1})", {}, "incident"},
      {"InclusiveGatewayTest.testMergingInclusiveGateway",
       "gateway/InclusiveGatewayTest.testMergingInclusiveGateway.bpmn20.xml", R"({"input":2})",
       {}, "my task"},
      {"InclusiveGatewayTest.testMergingInclusiveGatewayAsync",
       "gateway/InclusiveGatewayTest.testMergingInclusiveGatewayAsync.bpmn20.xml",
       R"({"input":2})", {"advance:0"}, "my task"},
      {"InclusiveGatewayTest.testPartialMergingInclusiveGateway",
       "gateway/InclusiveGatewayTest.testPartialMergingInclusiveGateway.bpmn20.xml",
       R"({"input":2})", {"expect:my partial task", "complete:my partial task"}, "my task"},
      {"InclusiveGatewayTest.testNoSequenceFlowSelected",
       "gateway/InclusiveGatewayTest.testNoSequenceFlowSelected.bpmn20.xml", R"({"input":4})",
       {}, "incident"},
      {"InclusiveGatewayTest.testParentActivationOnNonJoiningEnd",
       "gateway/InclusiveGatewayTest.testParentActivationOnNonJoiningEnd.bpmn20.xml", "{}",
       {"expect:First check asset1|First check asset2", "complete:First check asset1",
        "complete:First check asset2", "expect:Second check asset1|Second check asset2",
        "complete:Second check asset1", "expect:Second check asset2",
        "complete:Second check asset2"},
       "ended"},
      {"InclusiveGatewayTest.testWhitespaceInExpression",
       "gateway/InclusiveGatewayTest.testWhitespaceInExpression.bpmn20.xml", R"({"input":1})",
       {}, "Task 1"},
      {"InclusiveGatewayTest.testDecideBasedOnBeanProperty",
       "gateway/InclusiveGatewayTest.testDecideBasedOnBeanProperty.bpmn20.xml",
       R"({"order":{"price":150}})", {}, "Gold Member service|Standard service"},
      {"InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans/300",
       "gateway/InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans.bpmn20.xml",
       R"({"orders":[{"price":50},{"price":300},{"price":175}]})", {}, "incident"},
      {"InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans/175",
       "gateway/InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans.bpmn20.xml",
       R"({"orders":[{"price":50},{"price":175},{"price":175}]})", {}, "Gold Member service"},
      {"InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans/125",
       "gateway/InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans.bpmn20.xml",
       R"({"orders":[{"price":50},{"price":125},{"price":175}]})", {},
       "Gold Member service|Standard service"},
      {"InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans/10",
       "gateway/InclusiveGatewayTest.testDecideBasedOnListOrArrayOfBeans.bpmn20.xml",
       R"({"orders":[{"price":50},{"price":10},{"price":175}]})", {},
       "Basic service|Gold Member service|Standard service"},
      {"InclusiveGatewayTest.testDecideBasedOnBeanMethod/200",
       "gateway/InclusiveGatewayTest.testDecideBasedOnBeanMethod.bpmn20.xml",
       R"({"order":{"price":200,"basic":false,"standard":false,"gold":true}})", {},
       "Gold Member service"},
      {"InclusiveGatewayTest.testDecideBasedOnBeanMethod/125",
       "gateway/InclusiveGatewayTest.testDecideBasedOnBeanMethod.bpmn20.xml",
       R"({"order":{"price":125,"basic":false,"standard":true,"gold":true}})", {},
       "Gold Member service|Standard service"},
      {"InclusiveGatewayTest.testDecideBasedOnBeanMethod/300",
       "gateway/InclusiveGatewayTest.testDecideBasedOnBeanMethod.bpmn20.xml",
       R"({"order":{"price":300,"basic":false,"standard":false,"gold":false}})", {},
       "incident"},
      {"InclusiveGatewayTest.testInvalidMethodExpression",
       "gateway/InclusiveGatewayTest.testInvalidMethodExpression.bpmn20.xml",
       R"({"order":{"price":50}})", {}, "incident"},
      {"InclusiveGatewayTest.testDefaultSequenceFlow/1",
       "gateway/InclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml", R"({"input":1})", {},
       "Input is one|Input is three or one"},
      {"InclusiveGatewayTest.testDefaultSequenceFlow/3",
       "gateway/InclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml", R"({"input":3})", {},
       "Input is three or one"},
      {"InclusiveGatewayTest.testDefaultSequenceFlow/5",
       "gateway/InclusiveGatewayTest.testDefaultSequenceFlow.bpmn20.xml", R"({"input":5})", {},
       "Default input"},
      {"InclusiveGatewayTest.testSplitMergeSplit",
       "gateway/InclusiveGatewayTest.testSplitMergeSplit.bpmn20.xml", R"({"input":1})",
       {"expect:Task 1|Task 2", "complete:Task 1", "complete:Task 2"}, "Task 3"},
      {"InclusiveGatewayTest.testNoIdOnSequenceFlow/3",
       "gateway/InclusiveGatewayTest.testNoIdOnSequenceFlow.bpmn20.xml", R"({"input":3})", {},
       "Input is more than one"},
      {"InclusiveGatewayTest.testNoIdOnSequenceFlow/1",
       "gateway/InclusiveGatewayTest.testNoIdOnSequenceFlow.bpmn20.xml", R"({"input":1})", {},
       "Input is more than one|Input is one"},
      {"InclusiveGatewayTest.testJoinAfterSubprocesses/a1b1",
       "gateway/InclusiveGatewayTest.testJoinAfterSubprocesses.bpmn20.xml",
       R"({"a":1,"b":1})",
       {"expect:Task1|Task2", "complete:Task1", "expect:Task2", "complete:Task2",
        "expect:Task3", "complete:Task3"},
       "ended"},
      {"InclusiveGatewayTest.testJoinAfterSubprocesses/a1b2",
       "gateway/InclusiveGatewayTest.testJoinAfterSubprocesses.bpmn20.xml",
       R"({"a":1,"b":2})", {"expect:Task1", "complete:Task1", "expect:Task3", "complete:Task3"},
       "ended"},
      {"InclusiveGatewayTest.testJoinAfterSubprocesses/a2b2",
       "gateway/InclusiveGatewayTest.testJoinAfterSubprocesses.bpmn20.xml",
       R"({"a":2,"b":2})", {}, "incident"},
      {"InclusiveGatewayTest.testJoinAfterCall",
       "gateway/InclusiveGatewayTest.testJoinAfterCall.bpmn20.xml;"
       "gateway/InclusiveGatewayTest.testJoinAfterCallSubProcess.bpmn20.xml",
       "{}",
       {"expect:Task A|Task B|Task C", "complete:Task A", "expect:Task B|Task C",
        "complete:Task B", "expect:Task C", "complete:Task C", "expect:Task D",
        "complete:Task D"},
       "ended"},
      {"InclusiveGatewayTest.testDecisionFunctionality/1",
       "gateway/InclusiveGatewayTest.testDecisionFunctionality.bpmn20.xml", R"({"input":1})", {},
       "Task 1|Task 2|Task 3"},
      {"InclusiveGatewayTest.testDecisionFunctionality/2",
       "gateway/InclusiveGatewayTest.testDecisionFunctionality.bpmn20.xml", R"({"input":2})", {},
       "Task 2|Task 3"},
      {"InclusiveGatewayTest.testDecisionFunctionality/3",
       "gateway/InclusiveGatewayTest.testDecisionFunctionality.bpmn20.xml", R"({"input":3})", {},
       "Task 3"},
      {"InclusiveGatewayTest.testDecisionFunctionality/4",
       "gateway/InclusiveGatewayTest.testDecisionFunctionality.bpmn20.xml", R"({"input":4})", {},
       "incident"},
      // Despite its name the file's loop has no isSequential, so (BPMN default) it is parallel.
      {"InclusiveGatewayTest.testJoinAfterSequentialMultiInstanceSubProcess",
       "gateway/InclusiveGatewayTest.testJoinAfterSequentialMultiInstanceSubProcess.bpmn20.xml",
       "{}", {"complete:task"}, "innerTask*2"},
      {"InclusiveGatewayTest.testJoinAfterParallelMultiInstanceSubProcess",
       "gateway/InclusiveGatewayTest.testJoinAfterParallelMultiInstanceSubProcess.bpmn20.xml",
       "{}", {"complete:task"}, "innerTask*2"},
      {"InclusiveGatewayTest.testJoinAfterNestedScopes",
       "gateway/InclusiveGatewayTest.testJoinAfterNestedScopes.bpmn20.xml", "{}",
       {"complete:task"}, "innersubprocessTask"},
      {"InclusiveGatewayTest.testLoopingInclusiveGateways",
       "gateway/InclusiveGatewayTest.testLoopingInclusiveGateways.bpmn", "{}", {},
       "Task 1|Task 2"},
      {"InclusiveGatewayTest.testJoinAfterEventBasedGateway",
       "gateway/InclusiveGatewayTest.testJoinAfterEventBasedGateway.bpmn20.xml", "{}",
       {"complete:theTask", "expect:", "message:foo"}, "taskAfterJoin"},
      {"InclusiveGatewayTest.testJoinAfterEventBasedGatewayInSubProcess",
       "gateway/InclusiveGatewayTest.testJoinAfterEventBasedGatewayInSubProcess.bpmn20.xml", "{}",
       {"complete:theTask", "expect:", "message:foo"}, "taskAfterJoin"},
      {"InclusiveGatewayTest.testJoinAfterEventBasedGatewayContainedInSubProcess",
       "gateway/"
       "InclusiveGatewayTest.testJoinAfterEventBasedGatewayContainedInSubProcess.bpmn20.xml",
       "{}", {"complete:theTask", "expect:", "message:foo"}, "taskAfterJoin"},
      {"InclusiveGatewayTest.testLoop", "gateway/InclusiveGatewayTest.testLoop.bpmn20.xml",
       R"({"counter":1})", {"expect:task C", "complete:task C"}, "ended"},

      // ---- EventBasedGatewayTest -------------------------------------------------------
      {"EventBasedGatewayTest.testCatchTimerCancelsSignal",
       "gateway/EventBasedGatewayTest.testCatchAlertAndTimer.bpmn20.xml", "{}",
       {"advance:10000"}, "afterTimer"},
      {"EventBasedGatewayTest.testCatchSignalAndMessageAndTimer",
       "gateway/EventBasedGatewayTest.testCatchSignalAndMessageAndTimer.bpmn20.xml", "{}",
       {"message:newInvoice"}, "afterMessage"},
      {"EventBasedGatewayTest.testConnectedToActitiy",
       "gateway/EventBasedGatewayTest.testConnectedToActivity.bpmn20.xml", "{}", {},
       "rejected"},
      {"EventBasedGatewayTest.testInvalidSequenceFlow",
       "gateway/EventBasedGatewayTest.testEventInvalidSequenceFlow.bpmn20.xml", "{}", {},
       "rejected"},
      {"EventBasedGatewayTest.testTimeCycle",
       "gateway/EventBasedGatewayTest.testTimeCycle.bpmn20.xml", "{}",
       {"advance:300000", "complete:afterTimer"}, "ended"},

      // ---- BoundaryErrorEventTest ------------------------------------------------------
      {"BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocess",
       "event/error/BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocess.bpmn20.xml", "{}",
       {"expect:subprocessTask", "complete:subprocessTask"}, "task after catching the error"},
      {"BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocessWithEmptyErrorCode",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocessWithEmptyErrorCode.bpmn20.xml",
       "{}", {"expect:subprocessTask", "complete:subprocessTask"},
       "task after catching the error"},
      {"BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocessWithoutErrorCode",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorOnEmbeddedSubprocessWithoutErrorCode.bpmn20.xml",
       "{}", {"expect:subprocessTask", "complete:subprocessTask"},
       "task after catching the error"},
      {"BoundaryErrorEventTest.testCatchErrorOfInnerSubprocessOnOuterSubprocess",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorOfInnerSubprocessOnOuterSubprocess.bpmn20.xml",
       "{}",
       {"expect:Inner subprocess task 1|Inner subprocess task 2",
        "complete:Inner subprocess task 2"},
       "task outside subprocess"},
      {"BoundaryErrorEventTest.testCatchErrorInConcurrentEmbeddedSubprocesses/A",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorInConcurrentEmbeddedSubprocesses.bpmn20.xml",
       "{}", {"expect:task A|task B", "complete:task A", "expect:task D", "complete:task D"},
       "ended"},
      {"BoundaryErrorEventTest.testCatchErrorInConcurrentEmbeddedSubprocesses/B",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorInConcurrentEmbeddedSubprocesses.bpmn20.xml",
       "{}",
       {"expect:task A|task B", "complete:task B", "expect:task A|task C", "complete:task C",
        "expect:task A", "complete:task A"},
       "task D"},
      {"BoundaryErrorEventTest.testCatchErrorInConcurrentEmbeddedSubprocessesThrownByScriptTask",
       "event/error/"
       "BoundaryErrorEventTest."
       "testCatchErrorInConcurrentEmbeddedSubprocessesThrownByScriptTask.bpmn20.xml",
       "{}", {"complete:task A"}, "task D"},
      {"BoundaryErrorEventTest.testDeeplyNestedErrorThrown/1",
       "event/error/BoundaryErrorEventTest.testDeeplyNestedErrorThrown.bpmn20.xml", "{}",
       {"expect:Nested task", R"(complete:Nested task {"input":1})"}, "ended"},
      {"BoundaryErrorEventTest.testDeeplyNestedErrorThrown/2",
       "event/error/BoundaryErrorEventTest.testDeeplyNestedErrorThrown.bpmn20.xml", "{}",
       {"expect:Nested task", R"(complete:Nested task {"input":2})", "expect:task after catch",
        "complete:task after catch"},
       "ended"},
      {"BoundaryErrorEventTest.testDeeplyNestedErrorThrownOnlyAutomaticSteps",
       "event/error/BoundaryErrorEventTest.testDeeplyNestedErrorThrownOnlyAutomaticSteps.bpmn20.xml",
       R"({"input":1})", {}, "ended"},
      {"BoundaryErrorEventTest.testThrowErrorWithoutErrorCode",
       "event/error/BoundaryErrorEventTest.testThrowErrorWithoutErrorCode.bpmn20.xml", "{}", {},
       "rejected"},
      {"BoundaryErrorEventTest.testThrowErrorWithEmptyErrorCode",
       "event/error/BoundaryErrorEventTest.testThrowErrorWithEmptyErrorCode.bpmn20.xml", "{}", {},
       "rejected"},
      {"BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTask/error",
       "event/error/BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTask.bpmn20.xml",
       "{}", {"error:serviceTask:23"}, "Escalated Task"},
      {"BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTask/exception",
       "event/error/BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTask.bpmn20.xml",
       R"({"exceptionType":true})",
       {"error:serviceTask:org.camunda.bpm.engine.test.bpmn.event.error.MyBusinessException"},
       "Escalated Exception Task"},
      {"BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTaskNotCancelActivity",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTaskNotCancelActivity."
       "bpmn20.xml",
       "{}", {"error:serviceTask:23"}, "Escalated Task"},
      {"BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTaskWithErrorCode",
       "event/error/"
       "BoundaryErrorEventTest.testCatchErrorThrownByJavaDelegateOnServiceTaskWithErrorCode."
       "bpmn20.xml",
       "{}", {"error:serviceTask:23"}, "Escalated Task"},
      {"BoundaryErrorEventTest.testUncaughtBusinessExceptionWrongErrorCode",
       "event/error/BoundaryErrorEventTest.testUncaughtBusinessExceptionWrongErrorCode.bpmn20.xml",
       "{}", {"fail:serviceTask"}, "incident"},
      {"BoundaryErrorEventTest.testUncaughtRuntimeException",
       "event/error/BoundaryErrorEventTest.testUncaughtRuntimeException.bpmn20.xml", "{}",
       {"fail:serviceTask"}, "incident"},

      // ---- MessageBoundaryEventTest ----------------------------------------------------
      {"MessageBoundaryEventTest.testSingleBoundaryMessageEvent/message",
       "event/message/MessageBoundaryEventTest.testSingleBoundaryMessageEvent.bpmn20.xml", "{}",
       {"expect:task", "message:messageName", "expect:taskAfterMessage",
        "complete:taskAfterMessage"},
       "ended"},
      {"MessageBoundaryEventTest.testSingleBoundaryMessageEvent/complete",
       "event/message/MessageBoundaryEventTest.testSingleBoundaryMessageEvent.bpmn20.xml", "{}",
       {"complete:task", "nomessage:messageName", "expect:taskAfterTask",
        "complete:taskAfterTask"},
       "ended"},
      {"MessageBoundaryEventTest.testDoubleBoundaryMessageEvent/message",
       "event/message/MessageBoundaryEventTest.testDoubleBoundaryMessageEvent.bpmn20.xml", "{}",
       {"message:messageName_1", "nomessage:messageName_2", "expect:taskAfterMessage_1",
        "complete:taskAfterMessage_1"},
       "ended"},
      {"MessageBoundaryEventTest.testDoubleBoundaryMessageEvent/complete",
       "event/message/MessageBoundaryEventTest.testDoubleBoundaryMessageEvent.bpmn20.xml", "{}",
       {"complete:task", "nomessage:messageName_1", "nomessage:messageName_2",
        "expect:taskAfterTask", "complete:taskAfterTask"},
       "ended"},
      {"MessageBoundaryEventTest.testDoubleBoundaryMessageEventSameMessageId",
       "event/message/"
       "MessageBoundaryEventTest.testDoubleBoundaryMessageEventSameMessageId.bpmn20.xml",
       "{}", {}, "rejected",
       "Camunda cannot hold two subscriptions to one message on one scope and refuses the file; "
       "BPMN allows two boundary events that catch the same message"},
      {"MessageBoundaryEventTest.testDoubleBoundaryMessageEventMultiInstance/message",
       "event/message/"
       "MessageBoundaryEventTest.testDoubleBoundaryMessageEventMultiInstance.bpmn20.xml",
       "{}",
       {"expect:task*5", "message:messageName_1", "nomessage:messageName_2",
        "expect:taskAfterMessage_1", "complete:taskAfterMessage_1"},
       "ended"},
      {"MessageBoundaryEventTest.testDoubleBoundaryMessageEventMultiInstance/complete",
       "event/message/"
       "MessageBoundaryEventTest.testDoubleBoundaryMessageEventMultiInstance.bpmn20.xml",
       "{}",
       {"complete:task", "complete:task", "complete:task", "complete:task", "expect:task",
        "complete:task", "nomessage:messageName_1", "nomessage:messageName_2",
        "expect:taskAfterTask", "complete:taskAfterTask"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventInsideSubprocess/message",
       "event/message/MessageBoundaryEventTest.testBoundaryMessageEventInsideSubprocess.bpmn20.xml",
       "{}", {"message:messageName", "expect:taskAfterMessage", "complete:taskAfterMessage"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventInsideSubprocess/complete",
       "event/message/MessageBoundaryEventTest.testBoundaryMessageEventInsideSubprocess.bpmn20.xml",
       "{}",
       {"complete:task", "nomessage:messageName", "expect:taskAfterTask",
        "complete:taskAfterTask"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocess/complete",
       "event/message/"
       "MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocess."
       "bpmn20.xml",
       "{}",
       {"complete:task", "expect:taskAfterTask", "nomessage:messageName",
        "complete:taskAfterTask", "nomessage:messageName2", "expect:taskAfterSubprocess",
        "complete:taskAfterSubprocess"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocess/inner",
       "event/message/"
       "MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocess."
       "bpmn20.xml",
       "{}",
       {"message:messageName", "expect:taskAfterMessage", "nomessage:messageName",
        "complete:taskAfterMessage", "nomessage:messageName2"},
       "taskAfterSubprocess"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocess/outer",
       "event/message/"
       "MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocess."
       "bpmn20.xml",
       "{}",
       {"message:messageName2", "nomessage:messageName", "nomessage:messageName2",
        "expect:taskAfterOuterMessageBoundary", "complete:taskAfterOuterMessageBoundary"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocessMultiInstance",
       "event/message/"
       "MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessAndInsideSubprocessMultiInstance."
       "bpmn20.xml",
       "{}",
       {"expect:task*5", "message:messageName2", "nomessage:messageName",
        "expect:taskAfterOuterMessageBoundary", "complete:taskAfterOuterMessageBoundary"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess/one",
       "event/message/MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess.bpmn20.xml",
       "{}",
       {"expect:taskSubProcess", "message:messageName_one", "expect:taskAfterMessage_one",
        "complete:taskAfterMessage_one"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess/two",
       "event/message/MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess.bpmn20.xml",
       "{}",
       {"message:messageName_two", "expect:taskAfterMessage_two",
        "complete:taskAfterMessage_two"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess/complete",
       "event/message/MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocess.bpmn20.xml",
       "{}",
       {"complete:taskSubProcess", "nomessage:messageName_one", "nomessage:messageName_two",
        "expect:taskAfterSubProcess", "complete:taskAfterSubProcess"},
       "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessWithIntermediateMessageCatch",
       "event/message/"
       "MessageBoundaryEventTest.testBoundaryMessageEventOnSubprocessWithIntermediateMessageCatch."
       "bpmn",
       "{}", {"message:cancelMessage"}, "ended"},
      {"MessageBoundaryEventTest.testBoundaryMessageEventConcurrent",
       "event/message/MessageBoundaryEventTest.testBoundaryMessageEventConcurrent.bpmn20.xml",
       "{}",
       {"expect:task1|task2", "message:task1Message", "expect:task1AfterMessage|task2",
        "message:task2Message"},
       "task1AfterMessage|task2AfterMessage"},
      {"MessageBoundaryEventTest.testExpressionInBoundaryMessageEventName",
       "event/message/"
       "MessageBoundaryEventTest.testExpressionInBoundaryMessageEventName.bpmn20.xml",
       R"({"foo":"bar"})",
       {"message:messageName-bar", "expect:taskAfterMessage", "complete:taskAfterMessage"},
       "ended"},

      // ---- BoundaryTimerEventTest ------------------------------------------------------
      {"BoundaryTimerEventTest.testMultipleTimersOnUserTask",
       "event/timer/BoundaryTimerEventTest.testMultipleTimersOnUserTask.bpmn20.xml", "{}",
       {"expect:First Task", "advance:3605000"}, "Third Task"},
      {"BoundaryTimerEventTest.testInterruptingTimerDuration",
       "event/timer/BoundaryTimerEventTest.testInterruptingTimerDuration.bpmn20.xml", "{}",
       {"expect:First line support", "advance:300001"}, "Handle escalated issue"},
      {"BoundaryTimerEventTest.testExpressionOnTimer",
       "event/timer/BoundaryTimerEventTest.testExpressionOnTimer.bpmn20.xml",
       R"({"duration":"PT1H"})", {"expect:Task rigged with timer", "advance:3600001"}, "ended"},
      {"BoundaryTimerEventTest.testMultipleOutgoingSequenceFlows",
       "event/timer/BoundaryTimerEventTest.testMultipleOutgoingSequenceFlows.bpmn20.xml", "{}",
       {"expect:task", "advance:10000"}, "timerFiredTask1|timerFiredTask2"},
      {"BoundaryTimerEventTest.testMultipleOutgoingSequenceFlowsOnSubprocess",
       "event/timer/BoundaryTimerEventTest.testMultipleOutgoingSequenceFlowsOnSubprocess.bpmn20.xml",
       "{}", {"expect:innerTask1|innerTask2", "advance:10000"},
       "timerFiredTask1|timerFiredTask2"},
      {"BoundaryTimerEventTest.testMultipleOutgoingSequenceFlowsOnSubprocessMi",
       "event/timer/"
       "BoundaryTimerEventTest.testMultipleOutgoingSequenceFlowsOnSubprocessMi.bpmn20.xml",
       "{}", {"expect:innerTask1*4|innerTask2*4", "advance:10000"},
       "timerFiredTask1|timerFiredTask2"},
      {"BoundaryTimerEventTest.testTimerOnNestingOfSubprocesses",
       "event/timer/BoundaryTimerEventTest.testTimerOnNestingOfSubprocesses.bpmn20.xml", "{}",
       {"expect:Inner subprocess task 1|Inner subprocess task 2", "advance:7200001"},
       "task outside subprocess"},
      {"BoundaryTimerEventTest.testTimerInSingleTransactionProcess",
       "event/timer/BoundaryTimerEventTest.testTimerInSingleTransactionProcess.bpmn20.xml", "{}",
       {}, "ended"},

      // ---- BoundaryTimerNonInterruptingEventTest ---------------------------------------
      {"BoundaryTimerNonInterruptingEventTest.testMultipleTimersOnUserTask",
       "event/timer/BoundaryTimerNonInterruptingEventTest.testMultipleTimersOnUserTask.bpmn20.xml",
       "{}",
       {"expect:First Task", "advance:3605000", "expect:Escalation Task 1|First Task",
        "advance:3600000"},
       "Escalation Task 1|Escalation Task 2|First Task"},
      {"BoundaryTimerNonInterruptingEventTest.testJoin",
       "event/timer/BoundaryTimerNonInterruptingEventTest.testJoin.bpmn20.xml", "{}",
       {"expect:Main Task", "advance:3600001", "expect:Escalation Task|Main Task",
        "complete:Escalation Task", "expect:Main Task", "complete:Main Task"},
       "ended"},
      {"BoundaryTimerNonInterruptingEventTest.testMultipleOutgoingSequenceFlows",
       "event/timer/"
       "BoundaryTimerNonInterruptingEventTest.testMultipleOutgoingSequenceFlows.bpmn20.xml",
       "{}", {"advance:5000"}, "task|timerFiredTask1|timerFiredTask2"},
      {"BoundaryTimerNonInterruptingEventTest.testMultipleOutgoingSequenceFlowsOnSubprocess",
       "event/timer/"
       "BoundaryTimerNonInterruptingEventTest.testMultipleOutgoingSequenceFlowsOnSubprocess."
       "bpmn20.xml",
       "{}", {"advance:10000"}, "innerTask1|innerTask2|timerFiredTask1|timerFiredTask2"},

      // ---- SubProcessTest --------------------------------------------------------------
      {"SubProcessTest.testSimpleSubProcess",
       "subprocess/SubProcessTest.testSimpleSubProcess.bpmn20.xml", "{}",
       {"expect:Task in subprocess", "complete:Task in subprocess"}, "ended"},
      {"SubProcessTest.testSimpleAutomaticSubProcess",
       "subprocess/SubProcessTest.testSimpleAutomaticSubProcess.bpmn20.xml", "{}", {}, "ended"},
      {"SubProcessTest.testSimpleSubProcessWithTimer",
       "subprocess/SubProcessTest.testSimpleSubProcessWithTimer.bpmn20.xml", "{}",
       {"expect:Task in subprocess", "advance:7201000"}, "Fix escalated problem"},
      {"SubProcessTest.testSimpleSubProcessWithConcurrentTimer",
       "subprocess/SubProcessTest.testSimpleSubProcessWithConcurrentTimer.bpmn20.xml", "{}",
       {"expect:Task in subprocess", "advance:7201000",
        "expect:Task after timer 1|Task after timer 2", "complete:Task after timer 1",
        "complete:Task after timer 2"},
       "ended"},
      {"SubProcessTest.testNestedSimpleSubProcess",
       "subprocess/SubProcessTest.testNestedSimpleSubProcess.bpmn20.xml", "{}",
       {"expect:Task in subprocess", "complete:Task in subprocess",
        "expect:Task after subprocesses", "complete:Task after subprocesses"},
       "ended"},
      {"SubProcessTest.testNestedSimpleSubProcessWithoutEndEvent",
       "subprocess/SubProcessTest.testNestedSimpleSubProcessWithoutEndEvent.bpmn20.xml", "{}",
       {"expect:Task in subprocess", "complete:Task in subprocess",
        "expect:Task after subprocesses", "complete:Task after subprocesses"},
       "ended"},
      {"SubProcessTest.testNestedSimpleSubprocessWithTimerOnInnerSubProcess",
       "subprocess/SubProcessTest.testNestedSimpleSubprocessWithTimerOnInnerSubProcess.bpmn20.xml",
       "{}",
       {"expect:Task in subprocess", "advance:3601000", "expect:Escalated task",
        "complete:Escalated task"},
       "Task after subprocesses"},
      {"SubProcessTest.testDoubleNestedSimpleSubProcess",
       "subprocess/SubProcessTest.testDoubleNestedSimpleSubProcess.bpmn20.xml", "{}",
       {"expect:Task in subprocess", "complete:Task in subprocess"},
       "Task after subprocesses"},
      {"SubProcessTest.testSimpleParallelSubProcess",
       "subprocess/SubProcessTest.testSimpleParallelSubProcess.bpmn20.xml", "{}",
       {"expect:Task A|Task B", "complete:Task A", "expect:Task B", "complete:Task B"},
       "Task after sub process"},
      {"SubProcessTest.testSimpleParallelSubProcessWithTimer",
       "subprocess/SubProcessTest.testSimpleParallelSubProcessWithTimer.bpmn20.xml", "{}",
       {"expect:Task A|Task B", "advance:3600000", "expect:Task after timer",
        "complete:Task after timer"},
       "ended"},
      {"SubProcessTest.testTwoSubProcessInParallel",
       "subprocess/SubProcessTest.testTwoSubProcessInParallel.bpmn20.xml", "{}",
       {"expect:Task in subprocess A|Task in subprocess B", "complete:Task in subprocess A",
        "expect:Task after subprocess A|Task in subprocess B", "complete:Task in subprocess B",
        "expect:Task after subprocess A|Task after subprocess B",
        "complete:Task after subprocess A", "complete:Task after subprocess B"},
       "ended"},
      {"SubProcessTest.testTwoSubProcessInParallelWithinSubProcess",
       "subprocess/SubProcessTest.testTwoSubProcessInParallelWithinSubProcess.bpmn20.xml", "{}",
       {"expect:Task in subprocess A|Task in subprocess B", "complete:Task in subprocess A",
        "complete:Task in subprocess B", "expect:Task after subprocess",
        "complete:Task after subprocess"},
       "ended"},
      {"SubProcessTest.testTwoNestedSubProcessesInParallelWithTimer",
       "subprocess/SubProcessTest.testTwoNestedSubProcessesInParallelWithTimer.bpmn20.xml", "{}",
       {"expect:Task in subprocess A|Task in subprocess B", "advance:7200000",
        "expect:Task after timer", "complete:Task after timer"},
       "ended"},
      {"SubProcessTest.testConcurrencyInSubProcess",
       "subprocess/SubProcessTest.fixSystemFailureProcess.bpmn20.xml", "{}",
       {"expect:Investigate hardware|Investigate software", "complete:Investigate hardware",
        "complete:Investigate software"},
       "Write report"},
      {"SubProcessTest.testSimpleSubProcessWithoutEndEvent",
       "subprocess/SubProcessTest.testSimpleSubProcessWithoutEndEvent.bpmn20.xml", "{}", {},
       "ended"},
      {"SubProcessTest.testActivityInstanceTreeNestedCmd",
       "subprocess/SubProcessTest.testActivityInstanceTreeNestedCmd.bpmn", "{}",
       {"complete:ServiceTask_1"}, "ended"},

      // ---- TerminateEndEventTest -------------------------------------------------------
      {"TerminateEndEventTest.testProcessTerminate",
       "event/end/TerminateEndEventTest.testProcessTerminate.bpmn", "{}",
       {"expect:check before end|check before termination",
        "complete:check before termination"},
       "ended"},
      {"TerminateEndEventTest.testTerminateWithSubProcess",
       "event/end/TerminateEndEventTest.testTerminateWithSubProcess.bpmn", "{}",
       {"expect:check before end|check before termination",
        "complete:check before termination"},
       "ended"},
      {"TerminateEndEventTest.testTerminateInSubProcess",
       "event/end/TerminateEndEventTest.testTerminateInSubProcess.bpmn", "{}",
       {"expect:check before normal end", "complete:check before normal end"}, "ended"},
      {"TerminateEndEventTest.testTerminateInSubProcessConcurrent",
       "event/end/TerminateEndEventTest.testTerminateInSubProcessConcurrent.bpmn", "{}",
       {"expect:check before normal end", "complete:check before normal end"}, "ended"},
      {"TerminateEndEventTest.testTerminateInSubProcessMultiInstance",
       "event/end/TerminateEndEventTest.testTerminateInSubProcessMultiInstance.bpmn", "{}",
       {"expect:check before normal end", "complete:check before normal end"}, "ended"},
      {"TerminateEndEventTest.testTerminateInSubProcessShouldNotInvokeProcessEndListeners",
       "event/end/"
       "TerminateEndEventTest.testTerminateInSubProcessShouldNotInvokeProcessEndListeners."
       "bpmn20.xml",
       "{}", {"expect:outerTask", "complete:outerTask"}, "ended"},
      {"TerminateEndEventTest.testTerminateInSubProcessConcurrentShouldNotInvokeProcessEndListeners",
       "event/end/"
       "TerminateEndEventTest.testTerminateInSubProcessConcurrentShouldNotInvokeProcessEndListeners."
       "bpmn20.xml",
       "{}", {"expect:outerTask", "complete:outerTask"}, "ended"},

      // ---- LinkEventTest ---------------------------------------------------------------
      {"LinkEventTest.testValidEventLink", "event/link/LinkEventTest.testValidEventLink.bpmn20.xml",
       "{}", {}, "waitAfterLink1"},
      {"LinkEventTest.testEventLinkMultipleSources",
       "event/link/LinkEventTest.testEventLinkMultipleSources.bpmn20.xml", "{}", {},
       "WaitAfterLink*2"},
      {"LinkEventTest.testInvalidEventLinkMultipleTargets",
       "event/link/LinkEventTest.testInvalidEventLinkMultipleTargets.bpmn20.xml", "{}", {},
       "rejected"},
      {"LinkEventTest.testCatchLinkEventAfterEventBasedGatewayNotAllowed",
       "event/link/LinkEventTest.testCatchLinkEventAfterEventBasedGatewayNotAllowed.bpmn20.xml",
       "{}", {}, "rejected"},
  };
  return kCases;
}

// "a|b*2" -> sorted {a, b, b}; "" -> {}.
std::vector<std::string> parse_waiting(std::string_view spec) {
  std::vector<std::string> out;
  if (spec.empty()) return out;
  for (std::string item : split(spec, '|')) {
    int count = 1;
    if (std::size_t star = item.rfind('*'); star != std::string::npos) {
      count = std::stoi(item.substr(star + 1));
      item.resize(star);
    }
    for (int i = 0; i < count; ++i) out.push_back(item);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : "|") + s;
  return "[" + out + "]";
}

bool is_task(ElementKind kind) {
  switch (kind) {
    case ElementKind::kTask:
    case ElementKind::kServiceTask:
    case ElementKind::kSendTask:
    case ElementKind::kReceiveTask:
    case ElementKind::kUserTask:
    case ElementKind::kManualTask:
    case ElementKind::kScriptTask:
    case ElementKind::kBusinessRuleTask:
      return true;
    default:
      return false;
  }
}

// One run of a case: the documents it loaded, the engine and the root instance.
class Run {
 public:
  // Empty when every file loaded; else the first error diagnostic of the first bad file.
  std::string load(std::string_view files) {
    for (const std::string& file : split(files, ';')) {
      LoadResult r = load_bpmn_file((kResources / file).string());
      if (!r.ok()) {
        for (const Diagnostic& d : r.diagnostics) {
          if (d.severity == Severity::kError) return d.rule + ": " + d.message;
        }
        return "does not load";
      }
      for (const auto& p : r.document->processes) processes_[p->id] = p;
      documents_.push_back(r.document);
    }
    return {};
  }

  std::string deploy_and_start(std::string_view process, const nlohmann::json& vars) {
    for (const auto& doc : documents_) {
      auto d = h_.engine().deploy(doc);
      if (!d) return "does not deploy: " + d.status().to_string();
    }
    std::string id(process);
    if (id.empty()) {
      if (documents_.empty() || documents_.front()->processes.empty()) {
        return "no executable process in the file";
      }
      id = documents_.front()->processes.front()->id;
    }
    auto started = h_.engine().start(id, vars);
    if (!started) return "does not start: " + started.status().to_string();
    root_ = started->id;
    return {};
  }

  // The name of an element (its id when it has none).
  std::string label(const std::string& process_id, const std::string& element_id) const {
    auto it = processes_.find(process_id);
    if (it == processes_.end()) return element_id;
    const Element* e = it->second->find_element(element_id);
    return e == nullptr || e->name.empty() ? element_id : e->name;
  }

  // The root instance and every instance it called (found through their open jobs).
  std::vector<InstanceInfo> family() const {
    std::vector<InstanceInfo> out;
    std::vector<InstanceId> ids{root_};
    for (const JobInfo& j : must(h_.engine().open_jobs())) {
      if (std::find(ids.begin(), ids.end(), j.instance) != ids.end()) continue;
      for (InstanceId at = j.instance; at != 0;) {
        auto info = h_.engine().instance(at);
        if (!info) break;
        if (info->parent == root_) {
          ids.push_back(j.instance);
          break;
        }
        at = info->parent;
      }
    }
    for (InstanceId id : ids) {
      if (auto info = h_.engine().instance(id)) out.push_back(*info);
    }
    return out;
  }

  // Waiting tasks: job tasks (user, service, send, business rule) by their open jobs, so the
  // body of a multi-instance task is not counted with its instances; other tasks (receive,
  // manual, plain) by their element instances, leaving out multi-instance bodies.
  std::vector<std::string> waiting() const {
    std::vector<std::string> out;
    for (const InstanceInfo& info : family()) {
      for (const ElementInfo& e : info.elements) {
        if (!is_task(e.kind) || is_job_task(e.kind)) continue;
        auto it = processes_.find(info.process_id);
        const Element* def =
            it == processes_.end() ? nullptr : it->second->find_element(e.element_id);
        if (def != nullptr && def->loop.present) continue;
        out.push_back(label(info.process_id, e.element_id));
      }
      for (const JobInfo& j : must(h_.engine().open_jobs())) {
        if (j.instance == info.id) out.push_back(label(info.process_id, j.element_id));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string describe() const {
    auto info = h_.engine().instance(root_);
    if (!info) return "instance gone";
    std::string out = std::string("state ") + state_name(info->state) + ", waiting " +
                      join(waiting());
    for (const InstanceInfo& i : family()) {
      for (const IncidentInfo& inc : i.incidents) {
        out += ", incident at " + inc.element_id + " (" + std::string(to_string(inc.kind)) + ": " + inc.message + ")";
      }
    }
    return out;
  }

  // Empty when the outcome matches `expected`.
  std::string check(std::string_view expected) const {
    auto info = h_.engine().instance(root_);
    if (!info) return "instance " + std::to_string(root_) + " not found";
    const bool ended =
        info->state == InstanceState::kCompleted || info->state == InstanceState::kTerminated;
    bool has_incident = false;
    for (const InstanceInfo& i : family()) has_incident = has_incident || !i.incidents.empty();
    bool ok = false;
    if (expected == "ended") {
      ok = ended;
    } else if (expected == "incident") {
      ok = has_incident;
    } else {
      ok = !ended && !has_incident && waiting() == parse_waiting(expected);
    }
    if (ok) return {};
    return "expected " + (expected == "ended" || expected == "incident"
                              ? std::string(expected)
                              : join(parse_waiting(expected))) +
           ", got " + describe();
  }

  // The open job of the task named (or with id) `name`, or 0.
  JobKey job_of(std::string_view name) const {
    for (const JobInfo& j : must(h_.engine().open_jobs())) {
      auto info = h_.engine().instance(j.instance);
      const std::string process = info ? info->process_id : std::string();
      if (j.element_id == name || label(process, j.element_id) == name) return j.key;
    }
    return 0;
  }

  // Empty when the step ran as the case expects.
  std::string step(std::string_view s) {
    const std::size_t colon = s.find(':');
    const std::string_view verb = s.substr(0, colon);
    std::string arg(colon == std::string_view::npos ? std::string_view() : s.substr(colon + 1));
    Engine& e = h_.engine();
    if (verb == "expect") return check(arg);
    if (verb == "advance") {
      Status st = e.advance_clock(std::stoll(arg));
      return st ? std::string() : st.to_string();
    }
    if (verb == "message" || verb == "nomessage") {
      auto n = e.publish_message(arg, "");
      if (!n) return n.status().to_string();
      if (verb == "message" && n->instances.empty()) return "no instance received the message";
      if (verb == "nomessage" && !n->instances.empty()) return "an instance still received the message";
      return {};
    }
    nlohmann::json vars = nlohmann::json::object();
    if (verb == "complete") {
      if (std::size_t brace = arg.find(" {"); brace != std::string::npos) {
        vars = nlohmann::json::parse(arg.substr(brace + 1));
        arg.resize(brace);
      }
    }
    std::string code;
    if (verb == "error") {
      const std::size_t c = arg.find(':');
      code = arg.substr(c + 1);
      arg.resize(c);
    }
    const JobKey job = job_of(arg);
    if (job == 0) return "no open job for '" + arg + "' (" + describe() + ")";
    Status st;
    if (verb == "complete") {
      st = e.complete_job(job, vars);
    } else if (verb == "error") {
      st = e.throw_error(job, code, "thrown by the delegate");
    } else if (verb == "fail") {
      // Fail it until its retries run out (the job then stays with an incident).
      for (int i = 0; i < 20 && st.is_ok(); ++i) {
        st = e.fail_job(job, "delegate threw", 0);
        must(e.run_until_idle());
        bool retry = false;
        for (const JobInfo& j : must(e.open_jobs())) {
          retry = retry || (j.key == job && j.state != JobState::kIncident);
        }
        if (!retry) break;
      }
    } else {
      return "unknown step verb '" + std::string(verb) + "'";
    }
    return st ? std::string() : st.to_string();
  }

 private:
  static const char* state_name(InstanceState s) {
    switch (s) {
      case InstanceState::kActive: return "active";
      case InstanceState::kSuspended: return "suspended";
      case InstanceState::kCompleted: return "completed";
      case InstanceState::kTerminated: return "terminated";
      case InstanceState::kIncident: return "incident";
    }
    return "?";
  }

  // The cases fail jobs and expect the next attempt at once, as Camunda's tests do.
  mutable Harness h_{immediate_retries()};  // reading an Engine is const, but Harness only hands out a mutable one
  std::vector<std::shared_ptr<const BpmnDocument>> documents_;
  std::map<std::string, std::shared_ptr<const ProcessDefinition>> processes_;
  InstanceId root_ = 0;
};

enum class Verdict { kPass, kFail, kSkip };

Verdict run_case(const Case& c, std::string& why) {
  Run run;
  std::string load_error = run.load(c.file);
  if (c.expected == "rejected") {
    if (!load_error.empty()) return Verdict::kPass;
    why = "expected the file to be rejected at load, but it loads";
    return Verdict::kFail;
  }
  if (!load_error.empty()) {
    why = load_error;
    return Verdict::kSkip;
  }
  nlohmann::json vars = nlohmann::json::parse(c.variables, nullptr, false);
  if (vars.is_discarded()) {
    why = "bad variables in the table: " + std::string(c.variables);
    return Verdict::kFail;
  }
  if (std::string e = run.deploy_and_start(c.process, vars); !e.empty()) {
    why = e;
    return Verdict::kFail;
  }
  int n = 0;
  for (std::string_view s : c.steps) {
    ++n;
    if (std::string e = run.step(s); !e.empty()) {
      why = "step " + std::to_string(n) + " '" + std::string(s) + "': " + e;
      return Verdict::kFail;
    }
  }
  why = run.check(c.expected);
  return why.empty() ? Verdict::kPass : Verdict::kFail;
}

TEST(PeerEngines, CamundaBpmPlatform) {
  if (!fs::exists(kResources)) {
    GTEST_SKIP() << "corpus not found at " << kCamunda << "; conformance not checked";
  }
  int passed = 0;
  int failed = 0;
  std::vector<std::string> skipped;
  std::vector<std::string> departures;
  for (const Case& c : cases()) {
    std::string why;
    Verdict v = run_case(c, why);
    if (v == Verdict::kSkip) {
      skipped.push_back(std::string(c.test) + " (" + why + ")");
    } else if (!c.departure.empty()) {
      departures.push_back(std::string(c.test) + ": " + std::string(c.departure) +
                           (v == Verdict::kPass ? " [Ordo matches Camunda]"
                                                : " [Ordo differs: " + why + "]"));
    } else if (v == Verdict::kPass) {
      ++passed;
    } else {
      ++failed;
      ADD_FAILURE() << c.test << " (" << c.file << "): " << why;
    }
  }
  const std::size_t total = cases().size() - skipped.size() - departures.size();
  auto list = [](const std::vector<std::string>& items) {
    std::string out;
    for (const std::string& item : items) out += "\n    " + item;
    return out;
  };
  std::cout << "[conformance] camunda-bpm-platform: " << passed << " of " << total
            << " cases pass (" << skipped.size() << " skipped: " << list(skipped) << "\n  "
            << departures.size() << " documented departures, reported only:"
            << list(departures) << ")\n";
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace ordo::testing
