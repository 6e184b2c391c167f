// SPDX-License-Identifier: Apache-2.0
// A plugin that claims to be built for the next SDK major: the kernel must refuse it by version alone.
#include "dhub/sdk/abi.h"

namespace {
const dhub_plugin_descriptor DESCRIPTOR = {sizeof(dhub_plugin_descriptor),
                                           DHUB_SDK_VERSION_MAJOR + 1,
                                           0,
                                           "test_abi_major",
                                           "1.0.0",
                                           "Apache-2.0",
                                           "built for SDK 2.0",
                                           0,
                                           nullptr,
                                           nullptr,
                                           nullptr};
}

extern "C" DHUB_PLUGIN_EXPORT const dhub_plugin_descriptor* dhub_plugin_entry(void) {
    return &DESCRIPTOR;
}
