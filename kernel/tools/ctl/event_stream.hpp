// SPDX-License-Identifier: Apache-2.0
// dhub-ctl events [--follow]: a kernel's events, one JSON object per line, as its event log writes them. The
// recent ones come from the kernel's control endpoint ("events"); with --follow the new ones are pushed as
// they happen ("subscribe", renewed while it runs), until Ctrl-C or the kernel's end (docs/control.md).
#pragma once

#include <string>

#include "dhub/counters/page_reader.hpp"

namespace dhub::ctl {

/// Prints to stdout; returns the exit code. The page tells when the kernel has ended.
int stream_events(const counters::PageReader& page, const std::string& endpoint, bool follow);

}  // namespace dhub::ctl
