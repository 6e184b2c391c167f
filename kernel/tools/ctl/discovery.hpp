// SPDX-License-Identifier: Apache-2.0
// Which kernel dhub-ctl talks to. Every running kernel publishes a counters page in /dev/shm, so the kernels of
// this host are found by listing those pages: with one alive, that one; with several, --kernel picks one by pid,
// graph name or segment prefix, and without it the caller lists them.
#pragma once

#include <string>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/counters/page_reader.hpp"

namespace dhub::ctl {

/// One page found in /dev/shm: its kernel's header facts, or why it cannot be read.
struct FoundKernel {
    std::string file;
    counters::KernelCounters counters;  ///< valid when error is empty
    std::string error;
};

/// Every counters page on this host, readable or not, in file order.
std::vector<FoundKernel> find_kernels();

/// Whether selector names the kernel: its pid, its graph's name, its segment prefix or its page's file name.
bool selects(const std::string& selector, const counters::KernelCounters& kernel);

/// The page of the one kernel meant: selector empty means "the only live one". The error says what was found
/// (none, several — listed — or none matching) and what to do.
Result<counters::PageReader> open_kernel(const std::string& selector);

}  // namespace dhub::ctl
