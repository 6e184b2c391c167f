// SPDX-License-Identifier: Apache-2.0
#include "discovery.hpp"

namespace dhub::ctl {

std::vector<FoundKernel> find_kernels() {
    std::vector<FoundKernel> found;
    for (const std::string& file : counters::list_pages()) {
        FoundKernel& kernel = found.emplace_back();
        kernel.file = file;
        auto reader = counters::PageReader::open(file);
        if (reader) {
            kernel.counters = reader.value().read();
        } else {
            kernel.error = reader.error().message;
        }
    }
    return found;
}

bool selects(const std::string& selector, const counters::KernelCounters& kernel) {
    return selector == std::to_string(kernel.pid) || selector == kernel.graph || selector == kernel.segment_prefix ||
           selector == kernel.file;
}

Result<counters::PageReader> open_kernel(const std::string& selector) {
    std::vector<const FoundKernel*> candidates;
    const std::vector<FoundKernel> found = find_kernels();
    for (const FoundKernel& kernel : found) {
        if (!kernel.error.empty() || !kernel.counters.alive) continue;
        if (selector.empty() || selects(selector, kernel.counters)) candidates.push_back(&kernel);
    }
    if (candidates.size() == 1) return counters::PageReader::open(candidates.front()->file);
    if (candidates.empty()) {
        if (selector.empty()) {
            return Error{ErrorCode::NotFound,
                         "no dhub kernel runs on this host as this user (no /dev/shm/dhubctr1.* page of a live "
                         "kernel; a kernel started with --no-counters publishes none)"};
        }
        return Error{ErrorCode::NotFound, "no running kernel matches '" + selector +
                                              "' (a pid, graph name or segment prefix); `dhub-ctl kernels` lists them"};
    }
    std::string list;
    for (const FoundKernel* kernel : candidates)
        list += "\n  pid " + std::to_string(kernel->counters.pid) + "  graph " + kernel->counters.graph + "  prefix " +
                kernel->counters.segment_prefix;
    return Error{ErrorCode::InvalidArgument,
                 std::to_string(candidates.size()) + " kernels match; pick one with --kernel PID|GRAPH|PREFIX:" + list};
}

}  // namespace dhub::ctl
