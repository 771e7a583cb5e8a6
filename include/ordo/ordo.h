// Ordo: an embeddable BPMN 2.0 process engine. Include this header for the whole public API,
// or the individual headers for less.
#pragma once

#include "ordo/adapters.h"
#include "ordo/clock.h"
#include "ordo/conformance.h"
#include "ordo/definition.h"
#include "ordo/diagnostic.h"
#include "ordo/engine.h"
#include "ordo/history.h"
#include "ordo/history_file.h"
#include "ordo/history_gen.h"
#include "ordo/inspect.h"
#include "ordo/lifecycle.h"
#include "ordo/loader.h"
#include "ordo/notifications.h"
#include "ordo/observer.h"
#include "ordo/replay.h"
#include "ordo/simulation.h"
#include "ordo/status.h"
#include "ordo/task_handler.h"
#include "ordo/version.h"
