// SPDX-License-Identifier: Apache-2.0
#include "list_schemas.hpp"

#include "dhub/schema/schema_text.hpp"

namespace dhub::kernel_app {
namespace {

std::string channels_carrying(const graph::ValidatedGraph& graph, const std::string& schema_id) {
    std::string names;
    for (const graph::ValidatedChannel& channel : graph.channels) {
        if (channel.schema == schema_id) names += (names.empty() ? "" : ", ") + channel.spec->name;
    }
    return names.empty() ? "none" : names;
}

}  // namespace

void list_schemas(const graph::ValidatedGraph& graph, std::ostream& out) {
    const std::vector<schema::Schema>& declared = graph.schemas;
    for (std::size_t index = 0; index < declared.size(); ++index) {
        const schema::Schema& typed = declared[index];
        out << typed.id() << "  " << schema::fingerprint_string(typed) << "\n"
            << "  " << schema::layout_summary(typed) << "; channels: " << channels_carrying(graph, typed.id())
            << "; declared by " << graph.schema_sources[index] << "\n";
        if (!typed.doc.empty()) out << "  " << typed.doc << "\n";
        out << schema::field_table(typed, "  ");
    }
    // What the other channels carry: ids without a declaration are opaque (compared as whole ids only).
    std::string opaque;
    for (const graph::ValidatedChannel& channel : graph.channels) {
        if (channel.descriptor) continue;
        opaque += (opaque.empty() ? "" : ", ") + channel.spec->name + " (" + channel.schema + ")";
    }
    if (declared.empty()) {
        out << "no typed schemas: the graph declares none (\"schemas\" in docs/graph.md) and neither do its "
               "plugins\n";
    }
    if (!opaque.empty()) out << "channels with an undeclared schema id: " << opaque << "\n";
}

}  // namespace dhub::kernel_app
