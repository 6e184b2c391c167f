// SPDX-License-Identifier: Apache-2.0
// A plugin built for a newer minor than the kernel's: it may use host functions the kernel lacks.
#include "dhub/sdk/abi.h"

namespace {
const dhub_plugin_descriptor DESCRIPTOR = {sizeof(dhub_plugin_descriptor),
                                           DHUB_SDK_VERSION_MAJOR,
                                           DHUB_SDK_VERSION_MINOR + 1,
                                           "test_abi_minor",
                                           "1.0.0",
                                           "Apache-2.0",
                                           "built for a newer minor",
                                           0,
                                           nullptr,
                                           nullptr,
                                           nullptr};
}

extern "C" DHUB_PLUGIN_EXPORT const dhub_plugin_descriptor* dhub_plugin_entry(void) {
    return &DESCRIPTOR;
}
