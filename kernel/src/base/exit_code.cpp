// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/exit_code.hpp"

#include <cstdio>

namespace dhub {

const char* meaning(ExitCode code) noexcept {
    switch (code) {
        case ExitCode::Ok:
            return "success";
        case ExitCode::InvalidInput:
            return "invalid input: what the command names is malformed, missing or refused";
        case ExitCode::Usage:
            return "usage error: unknown option, missing or malformed argument";
        case ExitCode::PluginError:
            return "plugin error: a plugin could not be loaded or lacks the component, or a component refused to "
                   "start";
        case ExitCode::RuntimeError:
            return "runtime failure: the work itself failed";
        case ExitCode::Interrupted:
            return "interrupted: a second SIGINT/SIGTERM, exited at once";
    }
    return "unknown exit code";
}

std::string exit_codes_help(std::initializer_list<ExitCodeUse> uses) {
    std::string text = "\nexit codes:\n";
    for (const ExitCodeUse& use : uses) {
        char number[8];
        std::snprintf(number, sizeof number, "%-4d", to_int(use.code));
        text += std::string("  ") + number + " " + meaning(use.code);
        if (use.example != nullptr && *use.example != '\0') text += std::string(" (") + use.example + ")";
        text += "\n";
    }
    return text;
}

}  // namespace dhub
