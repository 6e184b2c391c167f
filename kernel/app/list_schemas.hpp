// SPDX-License-Identifier: Apache-2.0
// --list-schemas: the typed schemas a graph declares, with their fingerprints, fields and the channels that
// carry them.
#pragma once

#include <ostream>

#include "dhub/graph/graph_spec.hpp"

namespace dhub::kernel_app {

/// Prints every schema of the (valid) graph, then the opaque schema ids its channels carry.
void list_schemas(const graph::ValidatedGraph& graph, std::ostream& out);

}  // namespace dhub::kernel_app
