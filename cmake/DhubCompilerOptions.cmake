# SPDX-License-Identifier: Apache-2.0
# Warning and sanitizer flags shared by every dhub target: call dhub_target_defaults(<target>).

set(_dhub_allowed_sanitizers "" address undefined "address,undefined" thread)
if(NOT DHUB_SANITIZE IN_LIST _dhub_allowed_sanitizers)
    message(FATAL_ERROR "DHUB_SANITIZE='${DHUB_SANITIZE}' is not one of: address, undefined, address,undefined, thread")
endif()

if(DHUB_SANITIZE)
    # Sanitizers apply to everything built here, including the test and benchmark programs.
    add_compile_options(-fsanitize=${DHUB_SANITIZE} -fno-omit-frame-pointer -g)
    add_link_options(-fsanitize=${DHUB_SANITIZE})
    if(DHUB_SANITIZE STREQUAL "thread")
        # TSan does not model std::atomic_thread_fence (GCC warns with -Wtsan). dhub uses fences only in
        # its seqlocks (latest-only slots, flex zone), whose reads are validated afterwards; see
        # docs/shm-layout.md. Everything else synchronises through atomics TSan understands.
        add_compile_options(-Wno-tsan)
    endif()
    if(DHUB_SANITIZE MATCHES "undefined")
        add_compile_options(-fno-sanitize-recover=undefined)
    endif()
    if(DHUB_SANITIZE MATCHES "address|thread")
        # ASan and TSan bring their own allocator (mallopt does nothing) and terabytes of shadow address space
        # (no process starts under RLIMIT_AS): tests of either skip with this. GCC defines __SANITIZE_ADDRESS__,
        # Clang before 22 does not, so the build says it.
        add_compile_definitions(DHUB_SANITIZER_RUNTIME=1)
    endif()
endif()

function(dhub_target_defaults target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
       AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
        # GCC 12 at -O3 reports -Wrestrict inside libstdc++ for "literal" + std::string (GCC bug 105651, fixed in
        # 13): a false positive in the standard library, not in dhub, so it is off for GCC 12 only.
        target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    if(DHUB_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()
