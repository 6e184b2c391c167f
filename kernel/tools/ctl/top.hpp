// SPDX-License-Identifier: Apache-2.0
// dhub-ctl top: a live view of one kernel, redrawn every interval from its counters page (docs/counters.md):
// per node its state, slots and megabytes a second, errors, handler p99 and CPU; per channel its fill, its
// slowest reader's lag and what each latest-only reader missed. Plain ANSI on the terminal (no curses: a
// screenful of text redrawn in place needs none), fitted to the terminal's size, at least 80x24. It ends on q
// or Ctrl-C, leaving the terminal as it found it.
#pragma once

#include <chrono>

#include "dhub/counters/page_reader.hpp"

namespace dhub::ctl {

struct TopOptions {
    std::chrono::milliseconds interval{1000};
    /// Frames to draw before returning (0: until q or Ctrl-C). With stdout not a terminal, frames are printed one
    /// after the other, without escape codes.
    int frames = 0;
};

/// Runs the view on the kernel whose page reader has opened; returns the exit code (0 on q or Ctrl-C).
int run_top(const counters::PageReader& page, const TopOptions& options);

}  // namespace dhub::ctl
