# Installs the built project into a scratch prefix, then configures, builds and runs
# examples/ against it with find_package(ordo), as another project would. Run by ctest.
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
# What an installed Ordo brings: stripped programs, the processes, the documentation.
foreach(file bin/ordo share/ordo/processes/order-acceptance.bpmn share/doc/ordo/index.md
             share/doc/ordo/examples/order_service.cc lib/cmake/ordo/ordoConfig.cmake)
  if(NOT EXISTS "${WORK_DIR}/prefix/${file}")
    message(FATAL_ERROR "the install has no ${file}")
  endif()
endforeach()
execute_process(COMMAND readelf -S "${WORK_DIR}/prefix/bin/ordo" OUTPUT_VARIABLE sections)
if(sections MATCHES "\\.debug_")
  message(FATAL_ERROR "bin/ordo was installed with its debug information")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/examples" -B "${WORK_DIR}/build"
                -G Ninja -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring examples/ against the install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building examples/ against the install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir "${WORK_DIR}/build" --output-on-failure
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc)
  message(FATAL_ERROR "the examples built against the install failed:\n${out}")
endif()
message(STATUS "${out}")
