// SPDX-License-Identifier: Apache-2.0
// The process exit codes of every dhub tool (dhub-kernel, dhub-broker, dhub-shm, dhub-keygen). One table, so
// a code means the same whichever tool returned it and scripts can branch on it; values never change.
#pragma once

#include <initializer_list>
#include <string>

namespace dhub {

enum class ExitCode : int {
    Ok = 0,
    InvalidInput = 1,   ///< what the command names is invalid, missing or refused (graph, key, channel)
    Usage = 2,          ///< the command line itself is wrong
    PluginError = 3,    ///< a plugin could not be loaded or lacks the component, or a component refused to start
    RuntimeError = 4,   ///< it failed while doing the work (error policy, channel or socket creation, OS call)
    Interrupted = 130,  ///< a second SIGINT/SIGTERM: exited at once, without cleaning up
};

constexpr int to_int(ExitCode code) noexcept {
    return static_cast<int>(code);
}

/// What the code means, in the words every tool's --help uses.
const char* meaning(ExitCode code) noexcept;

/// The "exit codes:" section of a tool's --help: one line per code the tool can return, in the order
/// given, each with meaning() and the tool's own example of it (may be empty).
struct ExitCodeUse {
    ExitCode code;
    const char* example;
};
std::string exit_codes_help(std::initializer_list<ExitCodeUse> uses);

}  // namespace dhub
