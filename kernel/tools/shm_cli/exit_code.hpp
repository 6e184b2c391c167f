// SPDX-License-Identifier: Apache-2.0
// The process exit codes of dhub-shm; scripts branch on them, so their values never change.
#pragma once

namespace dhub::tools {

enum class ExitCode : int {
    Ok = 0,      ///< the command did what was asked
    Failed = 1,  ///< the operation failed or was refused (channel not found, live owner, ...)
    Usage = 2,   ///< the command line is wrong
};

}  // namespace dhub::tools
