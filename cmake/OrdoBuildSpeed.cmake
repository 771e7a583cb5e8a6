# What keeps a build on a 2-core machine short (docs/building.md has the figures):
#  - ccache, when installed, so a second clone or a clean rebuild compiles nothing twice;
#  - precompiled headers: nlohmann/json is included by every file through the public headers
#    and costs seconds to parse each time; GoogleTest and cpp-httplib weigh as much in tests.

find_program(ORDO_CCACHE ccache)
if(ORDO_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # With precompiled headers ccache must not compare the headers' timestamps or the
  # compiler's __DATE__ (neither changes the output here).
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
    CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
    ${ORDO_CCACHE})
  message(STATUS "Compiling through ccache (${ORDO_CCACHE})")
endif()

option(ORDO_PCH "Precompile the heavy third-party headers" ON)

# The standard and third-party headers nearly every file of the library reads.
set(ORDO_PCH_LIBRARY
  <algorithm> <chrono> <cstdint> <functional> <map> <memory> <mutex> <optional> <string>
  <string_view> <unordered_map> <utility> <variant> <vector>
  <nlohmann/json.hpp>)

# ordo_use_pch(TARGET header...): precompile these headers for TARGET.
function(ordo_use_pch target)
  if(ORDO_PCH)
    target_precompile_headers(${target} PRIVATE ${ARGN})
  endif()
endfunction()

# Tests: what takes the time in a test file is generating code for GoogleTest's and
# nlohmann/json's templates, not running it. Test files are compiled without optimisation
# (the library they test keeps its own flags) and several to one unit, so each template is
# generated once per batch rather than once per file.
option(ORDO_TEST_UNITY "Compile test files in batches (unity build)" ON)
set(ORDO_PCH_TESTS <gtest/gtest.h> <nlohmann/json.hpp> <string> <vector> <map> <memory>
  <functional> <optional> <chrono> <thread> <filesystem> <fstream> <sstream>)

function(ordo_test_target target)
  target_compile_options(${target} PRIVATE $<$<CONFIG:RelWithDebInfo,Release>:-O0>)
  if(ORDO_TEST_UNITY)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  endif()
  ordo_use_pch(${target} ${ORDO_PCH_TESTS})
endfunction()
