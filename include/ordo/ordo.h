// Ordo: an embeddable BPMN 2.0 process engine. Include this header for the whole public API,
// or the individual headers for less.
#pragma once

#include "ordo/definition.h"
#include "ordo/diagnostic.h"
#include "ordo/inspect.h"
#include "ordo/loader.h"
#include "ordo/status.h"
#include "ordo/version.h"
