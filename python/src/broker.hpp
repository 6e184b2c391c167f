// SPDX-License-Identifier: Apache-2.0
// dhub.Broker: discovery through a dhub broker.
#pragma once
#include <pybind11/pybind11.h>

namespace dhub::python {

void bind_broker(pybind11::module_& module);

}  // namespace dhub::python
