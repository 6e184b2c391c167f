// SPDX-License-Identifier: Apache-2.0
#include <span>

#include "dhub/graph/graph_spec.hpp"
#include "dhub/shm/checksum.hpp"

namespace dhub::graph {

shm::SchemaHash schema_hash(std::string_view schema_id) {
    // All zeros tells the DataBlock not to check the layout, which is right for "accepts anything".
    if (schema_id.empty() || schema_id == "*") return shm::SchemaHash{};
    return shm::blake2b_256(std::as_bytes(std::span(schema_id.data(), schema_id.size())));
}

}  // namespace dhub::graph
