# SPDX-License-Identifier: Apache-2.0
# Script test (cmake -P): SOURCE must compile as is (so the flags are right) and fail with -D${OMIT}, the
# compiler output containing EXPECT (the static_assert's text) and no error from detail/trampolines.hpp
# (the static_assert must come first and alone). WILL_FAIL or PASS_REGULAR_EXPRESSION cannot check both the
# failure and the message, hence a script.
#   -DCXX=compiler -DSOURCE=file.cpp -DSDK_INCLUDE=dir -DSDK_GENERATED_INCLUDE=dir -DOMIT=macro -DEXPECT=text
cmake_minimum_required(VERSION 3.25)  # policies of a current CMake in script mode too
foreach(required CXX SOURCE SDK_INCLUDE SDK_GENERATED_INCLUDE OMIT EXPECT)
    if(NOT DEFINED ${required})
        message(FATAL_ERROR "expect_compile_error.cmake: -D${required}=... is required")
    endif()
endforeach()

set(compile ${CXX} -std=c++20 -fsyntax-only -I${SDK_INCLUDE} -I${SDK_GENERATED_INCLUDE})

execute_process(COMMAND ${compile} ${SOURCE} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "the complete component does not compile, so the test proves nothing:\n${output}")
endif()

execute_process(COMMAND ${compile} -D${OMIT} ${SOURCE}
    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0)
    message(FATAL_ERROR "compiled with -D${OMIT}, but a component without it must be refused")
endif()
string(FIND "${output}" "${EXPECT}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "with -D${OMIT} the compiler failed without saying\n  ${EXPECT}\nIt said:\n${output}")
endif()
get_filename_component(source_name ${SOURCE} NAME)
string(FIND "${output}" "${source_name}" at)
if(at EQUAL -1)
    message(FATAL_ERROR "the error does not point at the user's file ${source_name}:\n${output}")
endif()
if(output MATCHES "trampolines\\.hpp:[0-9]+:[0-9]+: error")
    message(FATAL_ERROR "with -D${OMIT} the static_assert is followed by errors inside the trampolines:\n${output}")
endif()
message(STATUS "refused as expected with -D${OMIT}: ${EXPECT}")
