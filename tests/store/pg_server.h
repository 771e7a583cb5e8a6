// A real PostgreSQL server for the tests (peers/script_server.h).
#pragma once

#include "peers/script_server.h"
