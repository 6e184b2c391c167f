// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace dhub::broker {
namespace {

std::shared_ptr<spdlog::logger> named(const char* name) {
    // Another part of the process (the kernel, a test) may have registered the logger already.
    if (auto existing = spdlog::get(name)) return existing;
    try {
        return spdlog::stderr_color_mt(name);
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::get(name);  // registered concurrently by another thread
    }
}

}  // namespace

spdlog::logger& broker_log() {
    static const std::shared_ptr<spdlog::logger> logger = named("dhub.broker");
    return *logger;
}

spdlog::logger& client_log() {
    static const std::shared_ptr<spdlog::logger> logger = named("dhub.broker_client");
    return *logger;
}

}  // namespace dhub::broker
