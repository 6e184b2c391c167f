# SPDX-License-Identifier: Apache-2.0
# Script test (cmake -P): fails if GUIDE has a C++ code block without a `<!-- snippet: NAME -->` marker.
# Such a block would not be extracted and built, so it could rot unseen. Reads the guide at test time, so a
# block added since the last configure is caught too.
#   -DGUIDE=docs/sdk.md -DOUT_DIR=scratch directory for the extracted files
cmake_minimum_required(VERSION 3.25)  # policies of a current CMake in script mode too
include(${CMAKE_CURRENT_LIST_DIR}/markdown_snippets.cmake)
dhub_markdown_snippets(${GUIDE} ${OUT_DIR} names unmarked)
if(unmarked)
    string(REPLACE ";" ", " unmarked "${unmarked}")
    message(FATAL_ERROR "${GUIDE}: C++ block(s) without a snippet marker at ${unmarked}. Put "
                        "`<!-- snippet: NAME -->` on the line before each fence; the block must then compile "
                        "on its own (tests/system/sdk_snippets builds it).")
endif()
list(LENGTH names count)
string(REPLACE ";" ", " names "${names}")
message(STATUS "${GUIDE}: all ${count} C++ blocks are marked snippets: ${names}")
