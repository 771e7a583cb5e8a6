// Ordo: an embeddable BPMN 2.0 process engine. This header is the engine (target ordo::ordo):
// loading, validating and running processes, durably or in memory. The other components
// have headers of their own, under their own folder:
//   ordo/adapters/  ordo::adapters  ERP, payment, notifications, the generic HTTP adapter
//   ordo/sim/       ordo::sim       ordo run's simulated orders, replay, order history files
//   ordo/mining/    ordo::mining    conformance of event logs against a process
#pragma once

#include "ordo/clock.h"
#include "ordo/decision.h"
#include "ordo/definition.h"
#include "ordo/diagnostic.h"
#include "ordo/engine.h"
#include "ordo/history.h"
#include "ordo/inspect.h"
#include "ordo/lifecycle.h"
#include "ordo/loader.h"
#include "ordo/observer.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"
#include "ordo/version.h"
