// SPDX-License-Identifier: Apache-2.0
#include "stored_schema.hpp"

#include "dhub/schema/schema_json.hpp"

namespace dhub::tools {

std::optional<StoredSchema> read_stored_schema(const std::string& descriptor) {
    if (descriptor.empty()) return std::nullopt;
    StoredSchema stored;
    const auto document = nlohmann::json::parse(descriptor, nullptr, false);
    if (document.is_discarded()) {
        stored.error = "the stored descriptor is not JSON (the segment may be corrupt)";
        return stored;
    }
    std::vector<schema::Problem> problems;
    stored.schema = schema::parse_schema(document, "", problems);
    if (!stored.schema) {
        stored.error = "the stored descriptor is not a valid schema: " +
                       (problems.empty() ? std::string("unknown problem")
                                         : (problems[0].json_path.empty() ? "" : problems[0].json_path + ": ") +
                                               problems[0].message);
    }
    return stored;
}

}  // namespace dhub::tools
