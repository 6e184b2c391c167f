# SPDX-License-Identifier: Apache-2.0
# The directory is the level: a test under tests/<level>/... carries the ctest label <level>, computed here
# from the directory that declares it, never typed by hand. Extra labels (stress, broker, ...) go beside it.
#
#   dhub_discover_gtests(<target> [TEST_PREFIX p] [LABELS extra...] [TIMEOUT s] [DISCOVERY_TIMEOUT s])
#   dhub_add_test(<name> COMMAND ... [LABELS extra...] [TIMEOUT s])
#
# tests/unit/layout checks the result at test time (every test's label against its directory).
set(DHUB_TEST_LEVELS unit integration multiprocess system)
# Folders of tests/ that hold no tests: the support library and the test plugins.
set(DHUB_TEST_SUPPORT_DIRS support test_plugins)
set(DHUB_TESTS_DIR ${PROJECT_SOURCE_DIR}/tests)

# The level of the calling directory (the first folder under tests/); a test outside the levels is a
# configure error.
function(dhub_test_level out)
    file(RELATIVE_PATH relative ${DHUB_TESTS_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
    string(REGEX REPLACE "/.*" "" level "${relative}")
    if(NOT level IN_LIST DHUB_TEST_LEVELS)
        message(FATAL_ERROR "${CMAKE_CURRENT_SOURCE_DIR} declares tests but is not under tests/<level>/, "
                            "level one of: ${DHUB_TEST_LEVELS}")
    endif()
    set(${out} ${level} PARENT_SCOPE)
endfunction()

function(dhub_discover_gtests target)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "TEST_PREFIX;TIMEOUT;DISCOVERY_TIMEOUT" "LABELS")
    dhub_test_level(level)
    set(properties LABELS ${level})
    if(ARG_TIMEOUT)
        list(APPEND properties TIMEOUT ${ARG_TIMEOUT})
    endif()
    set(discovery_timeout 30)
    if(ARG_DISCOVERY_TIMEOUT)
        set(discovery_timeout ${ARG_DISCOVERY_TIMEOUT})
    endif()
    set(prefix)
    if(ARG_TEST_PREFIX)
        set(prefix TEST_PREFIX ${ARG_TEST_PREFIX})
    endif()
    gtest_discover_tests(${target} ${prefix} TEST_LIST ${target}_TESTS
        PROPERTIES ${properties} DISCOVERY_TIMEOUT ${discovery_timeout})
    if(ARG_LABELS)
        # PROPERTIES cannot carry a list through gtest_discover_tests' generated scripts (the ';' is lost),
        # so several labels are set by a script ctest runs after the discovered tests are defined.
        set(labels ${level} ${ARG_LABELS})
        set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
        file(WRITE ${script} "if(${target}_TESTS)\n"
                             "    set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${labels}\")\n"
                             "endif()\n")
        set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
    endif()
endfunction()

function(dhub_add_test name)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "TIMEOUT" "COMMAND;LABELS")
    dhub_test_level(level)
    add_test(NAME ${name} COMMAND ${ARG_COMMAND})
    set(labels ${level} ${ARG_LABELS})
    set(timeout 60)
    if(ARG_TIMEOUT)
        set(timeout ${ARG_TIMEOUT})
    endif()
    set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout})
endfunction()

# A message decoder's fuzz target in the suite, from SOURCE (which defines LLVMFuzzerTestOneInput): with Clang a
# libFuzzer binary TARGET and a short bounded run (run it longer by hand); otherwise TARGET_replay, the target driven
# by REPLAY_SOURCE through the shared replay driver (tests/support/fuzz_replay.hpp) from SEED, test NAME_replay.
function(dhub_add_fuzz_test name)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "TARGET;SOURCE;REPLAY_SOURCE;SEED" "LINK")
    if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        add_executable(${ARG_TARGET} ${ARG_SOURCE})
        target_link_libraries(${ARG_TARGET} PRIVATE ${ARG_LINK} dhub::test_support)
        target_compile_options(${ARG_TARGET} PRIVATE -fsanitize=fuzzer)
        target_link_options(${ARG_TARGET} PRIVATE -fsanitize=fuzzer)
        dhub_target_defaults(${ARG_TARGET})
        dhub_add_test(${name} COMMAND ${ARG_TARGET} -runs=200000 -seed=1 TIMEOUT 120)
    else()
        add_executable(${ARG_TARGET}_replay ${ARG_SOURCE} ${ARG_REPLAY_SOURCE})
        target_link_libraries(${ARG_TARGET}_replay PRIVATE ${ARG_LINK} dhub::test_support)
        dhub_target_defaults(${ARG_TARGET}_replay)
        dhub_add_test(${name}_replay COMMAND ${ARG_TARGET}_replay ${ARG_SEED} 1000000 TIMEOUT 120)
    endif()
endfunction()

# Under ThreadSanitizer (DHUB_SANITIZE=thread), the gtest-discovered tests of `target` run with
# tests/support/tsan_c11_threads.cpp preloaded: librdkafka starts its threads and takes its locks through C11
# <threads.h>, which glibc implements past TSan's interceptors (TSan crashes at such a thread's first allocation).
# Elsewhere: nothing.
function(dhub_tsan_preload_c11_threads target)
    if(NOT DHUB_SANITIZE STREQUAL "thread")
        return()
    endif()
    set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_tsan_preload.cmake)
    file(GENERATE OUTPUT ${script} CONTENT
        "if(${target}_TESTS)\n    set_tests_properties(\${${target}_TESTS} PROPERTIES ENVIRONMENT_MODIFICATION \"LD_PRELOAD=path_list_prepend:$<TARGET_FILE:dhub_tsan_c11_threads>\")\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
    add_dependencies(${target} dhub_tsan_c11_threads)
endfunction()
