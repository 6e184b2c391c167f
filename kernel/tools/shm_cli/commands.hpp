// SPDX-License-Identifier: Apache-2.0
// The sub-commands of dhub-shm, already parsed. Each writes its result to out, its errors (naming the
// channel) to err, and returns the process exit code.
#pragma once

#include <ostream>
#include <string_view>

#include "dhub/base/exit_code.hpp"

namespace dhub::tools {

struct Console {
    std::ostream& out;
    std::ostream& err;
};

/// One line per /dev/shm/dhub1.* segment; unreadable segments are listed with their error.
ExitCode list_channels(const Console& console);
/// Everything inspect_channel() reports, as text or as one JSON object.
ExitCode inspect(const Console& console, std::string_view channel, bool json);
/// Repairs what dead processes left (recover_channel); dry_run only reports.
ExitCode recover(const Console& console, std::string_view channel, bool dry_run);
/// Unlinks the segment; refuses while its producer or a consumer is alive unless force.
ExitCode remove(const Console& console, std::string_view channel, bool force);
/// Removes segments nobody alive uses (collect_garbage); dry_run only reports; force also removes corrupt ones.
ExitCode collect_garbage(const Console& console, bool dry_run, bool force);

}  // namespace dhub::tools
