// SPDX-License-Identifier: Apache-2.0
// The one Python interpreter of the process the python plugin runs in: started by the first node that needs
// it, never finalized, its lock (the GIL) free between calls so that several Python nodes (each on its own
// thread) take turns.
#pragma once

#include <string>

namespace dhub::plugins::python {

/// Starts the interpreter unless it runs already (thread-safe; the work is done once per process). Returns
/// why it cannot be used, empty when it can. Afterwards every call into Python takes the GIL
/// (pybind11::gil_scoped_acquire).
const std::string& ensure_interpreter();

}  // namespace dhub::plugins::python
