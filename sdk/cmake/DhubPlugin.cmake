# SPDX-License-Identifier: Apache-2.0
# dhub_add_plugin(<name> SOURCES <files...>)
#
# Builds dhub-<name>.so: a MODULE library linking only dhub::sdk, with hidden visibility so that the one
# entry symbol (dhub_plugin_entry) is all it exports. In-tree and out-of-tree plugins use the same
# function; the plugin's DHUB_PLUGIN(...) name must be <name>.
function(dhub_add_plugin name)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIRECTORY" "SOURCES")
    if(NOT ARG_SOURCES)
        message(FATAL_ERROR "dhub_add_plugin(${name}): SOURCES is required")
    endif()
    set(target dhub-${name})
    add_library(${target} MODULE ${ARG_SOURCES})
    target_link_libraries(${target} PRIVATE dhub::sdk)
    set_target_properties(${target} PROPERTIES
        PREFIX ""
        OUTPUT_NAME dhub-${name}
        CXX_VISIBILITY_PRESET hidden
        C_VISIBILITY_PRESET hidden
        VISIBILITY_INLINES_HIDDEN ON
        CXX_STANDARD 20
        CXX_STANDARD_REQUIRED ON)
    if(ARG_OUTPUT_DIRECTORY)
        set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
    endif()
    # Export the entry symbol and nothing else (hidden visibility does not cover the std:: template
    # instantiations, which libstdc++ marks default-visible).
    set(version_script ${CMAKE_CURRENT_BINARY_DIR}/${target}.exports)
    file(WRITE ${version_script} "{ global: dhub_plugin_entry; local: *; };\n")
    if(NOT APPLE)
        target_link_options(${target} PRIVATE -Wl,--version-script=${version_script})
    endif()
    # Unresolved symbols are link errors here rather than load errors in the kernel.
    # (Not under sanitizers: their runtime symbols come from the executable that loads the plugin.)
    if(NOT APPLE AND NOT DHUB_SANITIZE)
        target_link_options(${target} PRIVATE -Wl,--no-undefined)
    endif()
endfunction()
