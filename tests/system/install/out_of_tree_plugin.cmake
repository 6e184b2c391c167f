# SPDX-License-Identifier: Apache-2.0
# Script test (cmake -P): install, build the example plugins out of tree, run them, check the run reports.
function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "failed (${result}): ${ARGN}\n${output}")
    endif()
endfunction()

# Every node of a --report handled at least 50 slots without an error.
function(check_report file)
    file(READ ${file} report)
    string(JSON node_count LENGTH "${report}" nodes)
    math(EXPR last "${node_count} - 1")
    foreach(index RANGE ${last})
        string(JSON id GET "${report}" nodes ${index} id)
        string(JSON handled GET "${report}" nodes ${index} handled)
        string(JSON errors GET "${report}" nodes ${index} errors)
        if(handled LESS 50 OR NOT errors EQUAL 0)
            message(FATAL_ERROR "node ${id}: ${handled} handled, ${errors} errors (expected >= 50 and 0)\n${report}")
        endif()
    endforeach()
    message(STATUS "out-of-tree plugin ran: ${report}")
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(plugin_build ${WORK_DIR}/plugin-build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
# Every tool the docs tell a user to run is installed.
foreach(installed include/dhub-1/dhub/sdk/abi.h include/dhub-1/dhub/sdk/version.h lib/cmake/dhub/dhubConfig.cmake
                  include/dhub-1/dhub/shm/producer.hpp include/dhub-1/dhub/shm/consumer.hpp
                  include/dhub-1/dhub/base/result.hpp lib/cmake/dhub/dhubShmTargets.cmake
                  bin/dhub-kernel bin/dhub-shm bin/dhub-broker bin/dhub-keygen)
    if(NOT EXISTS ${prefix}/${installed})
        message(FATAL_ERROR "the installation lacks ${installed}")
    endif()
endforeach()

# The example knows nothing of the build tree: only CMAKE_PREFIX_PATH leads it to the SDK.
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/device_plugin -B ${plugin_build} -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${plugin_build})
if(NOT EXISTS ${plugin_build}/dhub-acme_camera.so)
    message(FATAL_ERROR "the example did not produce dhub-acme_camera.so")
endif()

file(WRITE ${WORK_DIR}/graph.json [=[
{
  "schema_version": 1,
  "name": "out-of-tree",
  "channels": [{"name": "frames", "slot_bytes": 4096, "slot_count": 8}],
  "nodes": [
    {"id": "camera", "plugin": "acme_camera", "params": {"fps": 200}, "outputs": ["frames"]},
    {"id": "stats", "plugin": "stats", "params": {"interval_s": 0.5}, "inputs": ["frames"]}
  ]
}
]=])
# The installed kernel finds the built-in stats plugin in its install directory, the example by --plugin-path.
run(${prefix}/bin/dhub-kernel ${WORK_DIR}/graph.json --plugin-path ${plugin_build}
    --plugin-path ${prefix}/lib/dhub-1/plugins --duration 1.5 --report ${WORK_DIR}/report.json)
check_report(${WORK_DIR}/report.json)

# The realtime example (examples/realtime_device: a handler per slot) the same way.
set(realtime_build ${WORK_DIR}/realtime-build)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/realtime_device -B ${realtime_build} -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${realtime_build})
file(WRITE ${WORK_DIR}/realtime-graph.json [=[
{
  "schema_version": 1,
  "name": "out-of-tree-realtime",
  "channels": [{"name": "volts", "slot_bytes": 64, "slot_count": 64}],
  "nodes": [
    {"id": "voltmeter", "plugin": "acme_voltmeter", "params": {"rate_hz": 500}, "outputs": ["volts"]},
    {"id": "stats", "plugin": "stats", "params": {"interval_s": 0.5}, "inputs": ["volts"]}
  ]
}
]=])
run(${prefix}/bin/dhub-kernel ${WORK_DIR}/realtime-graph.json --plugin-path ${realtime_build}
    --plugin-path ${prefix}/lib/dhub-1/plugins --duration 1.5 --report ${WORK_DIR}/realtime-report.json)
check_report(${WORK_DIR}/realtime-report.json)

# The installed tools run: dhub-shm answers (exit 0, no channels needed), dhub-keygen writes a key pair.
run(${prefix}/bin/dhub-shm list)
file(MAKE_DIRECTORY ${WORK_DIR}/keys)
run(${prefix}/bin/dhub-keygen --dir ${WORK_DIR}/keys installed)
if(NOT EXISTS ${WORK_DIR}/keys/installed.pub OR NOT EXISTS ${WORK_DIR}/keys/installed.key)
    message(FATAL_ERROR "the installed dhub-keygen wrote no key pair")
endif()
run(${prefix}/bin/dhub-broker --help)

# find_package(dhub COMPONENTS shm): a program producing in one process and consuming in another through the
# installed DataBlock API (examples/datablock_api), built knowing only the install prefix.
set(shm_build ${WORK_DIR}/datablock-build)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/datablock_api -B ${shm_build} -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${shm_build})
run(${shm_build}/datablock_roundtrip)

# dhub::formats: the waveform frame and the recording format are public, installed API. A program that knows
# only the prefix builds against them and checks the layout constants it relies on.
set(formats_source ${WORK_DIR}/formats-src)
file(MAKE_DIRECTORY ${formats_source})
file(WRITE ${formats_source}/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.25)
project(formats_reader LANGUAGES CXX)
find_package(dhub 1 REQUIRED COMPONENTS formats)  # as the issue's users write it: a named component must be found
add_executable(formats_reader main.cpp)
target_link_libraries(formats_reader PRIVATE dhub::formats)
]=])
file(WRITE ${formats_source}/main.cpp [=[
#include <cstring>
#include "dhub/formats/recording.hpp"
#include "dhub/formats/waveform.hpp"
int main() {
    using namespace dhub::formats;
    const auto header = recording::make_data_header(19, 4096);
    const bool ok = sizeof(WaveformHeader) == 64 && std::strcmp(WAVEFORM_SCHEMA_ID, "dhub.waveform.f64@1") == 0 &&
                    header.format_version == recording::FORMAT_VERSION && waveform_frame_bytes(2, 8) == 64 + 16 * 8;
    return ok ? 0 : 1;
}
]=])
run(${CMAKE_COMMAND} -S ${formats_source} -B ${WORK_DIR}/formats-build -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/formats-build)
run(${WORK_DIR}/formats-build/formats_reader)

# The Python package as installed: the system interpreter imports it from the prefix alone (not the build tree)
# and moves a typed slot through a channel.
if(PYTHON_EXECUTABLE)
    file(WRITE ${WORK_DIR}/installed_package.py [=[
import os, sys
import dhub
assert dhub.__file__.startswith(sys.argv[1]), dhub.__file__
name = f"install-test.{os.getpid()}"
schema = {"name": "install.check", "version": 1, "fields": [{"name": "value", "dtype": "<f8"}]}
with dhub.Producer(name, schema=schema) as producer, dhub.Consumer(name) as consumer:
    with producer.write() as slot:
        slot.array["value"] = 2.5
    with consumer.read(timeout=1) as slot:
        assert float(slot.array["value"]) == 2.5
print("installed dhub package works")
]=])
    set(site ${prefix}/${PYTHON_INSTALL_DIR})
    execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${site} PYTHONDONTWRITEBYTECODE=1
                            ${PYTHON_EXECUTABLE} ${WORK_DIR}/installed_package.py ${site}
                    WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "the installed Python package (${site}) does not work:\n${output}")
    endif()
    message(STATUS "${output}")
endif()
