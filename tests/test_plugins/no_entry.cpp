// SPDX-License-Identifier: Apache-2.0
// A shared library that is not a dhub plugin: it exports no dhub_plugin_entry.
extern "C" __attribute__((visibility("default"))) int some_other_library_function(void) {
    return 42;
}
