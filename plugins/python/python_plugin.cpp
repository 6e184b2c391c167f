// SPDX-License-Identifier: Apache-2.0
// dhub-python.so: Python classes as graph components (docs/python-stages.md).
#include "components.hpp"

DHUB_PLUGIN("python",
            "1.0.0",
            "Apache-2.0",
            "Python classes as stages, sinks and sources (dhub.stage.python, dhub.sink.python, dhub.source.python)",
            dhub::sdk::component<dhub::plugins::python::PythonStage>(),
            dhub::sdk::component<dhub::plugins::python::PythonSink>(),
            dhub::sdk::component<dhub::plugins::python::PythonSource>())
