// SPDX-License-Identifier: Apache-2.0
// dhub.Consumer and the slots it hands out (dhub.ReadSlot, dhub.ReadBurst).
#pragma once
#include <pybind11/pybind11.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "dhub/shm/consumer.hpp"
#include "schema_argument.hpp"

namespace dhub::python {

/// A dhub.Consumer over an attached shm::Consumer. `expected`: the schema the caller reads as (checked here;
/// nullopt: whatever the channel stores). on_close runs once when the consumer closes (a broker
/// deregistration).
pybind11::object make_consumer(shm::Consumer consumer,
                               const std::optional<SchemaArgument>& expected,
                               std::function<void()> on_close);

void bind_consumer(pybind11::module_& module);

}  // namespace dhub::python
