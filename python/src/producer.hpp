// SPDX-License-Identifier: Apache-2.0
// dhub.Producer and the slots it hands out (dhub.WriteSlot, dhub.WriteBurst).
#pragma once
#include <pybind11/pybind11.h>

namespace dhub::python {

void bind_producer(pybind11::module_& module);

}  // namespace dhub::python
