// SPDX-License-Identifier: Apache-2.0
// The `schema=` argument of dhub.Producer, dhub.Consumer and Broker.consumer: a schema document (a dict, its
// JSON text or the path of a .json file, as in configs/schemas/), or just an id ("lab.thermo@1"). And the
// check a consumer makes against what a channel's segment stores, with the evolution rule of docs/schemas.md.
#pragma once
#include <pybind11/pybind11.h>

#include <optional>
#include <string>
#include <string_view>

#include "dhub/schema/schema.hpp"
#include "dhub/shm/channel_config.hpp"

namespace dhub::python {

struct SchemaArgument {
    std::string id;        ///< "lab.thermo@1"
    std::string document;  ///< the document with its defaults filled in (schema::to_json); "" for an id alone
};

/// nullopt for None; raises dhub.InvalidArgument naming every problem of a document at its JSON path.
std::optional<SchemaArgument> schema_argument(pybind11::handle value);

/// Raises dhub.SchemaMismatch unless slots written as the channel stores them (its schema hash and typed
/// document, "" when it has none) may be read as `expected`: the same id, or a later version that only
/// appended fields (both documents needed). A channel with neither a schema hash nor a document accepts any.
void check_readable(const SchemaArgument& expected,
                    std::string_view channel,
                    const std::uint8_t (&stored_hash)[32],
                    std::string_view stored_document);

}  // namespace dhub::python
