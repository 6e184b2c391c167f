// SPDX-License-Identifier: Apache-2.0
// The named spdlog loggers of the control plane ("dhub.broker", "dhub.broker_client").
#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace dhub::broker {

spdlog::logger& broker_log();
spdlog::logger& client_log();

}  // namespace dhub::broker
