// SPDX-License-Identifier: Apache-2.0
// Needs a symbol that neither the kernel nor any library provides: loading fails with dlopen's message.
#include "dhub/sdk/abi.h"

extern "C" const dhub_plugin_descriptor* symbol_provided_by_nobody(void);

extern "C" DHUB_PLUGIN_EXPORT const dhub_plugin_descriptor* dhub_plugin_entry(void) {
    return symbol_provided_by_nobody();
}
