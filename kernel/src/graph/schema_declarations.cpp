// SPDX-License-Identifier: Apache-2.0
#include "schema_declarations.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "dhub/schema/schema_json.hpp"
#include "json_reader.hpp"
#include "wording.hpp"

namespace dhub::graph::detail {
namespace {

// A schema file describes one slot layout; anything larger is the wrong file.
constexpr std::uintmax_t MAX_SCHEMA_FILE_BYTES = std::uintmax_t{1} << 20;

/// The JSON of a schema file, or nullopt with one issue at `path` saying why it cannot be read.
std::optional<nlohmann::json> read_schema_file(const std::filesystem::path& file,
                                               const std::string& path,
                                               Issues& issues) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    if (error) {
        issues.push_back({path, "cannot read schema file '" + file.string() + "': " + error.message() +
                                    " (relative paths start at the graph file's folder)"});
        return std::nullopt;
    }
    if (size > MAX_SCHEMA_FILE_BYTES) {
        issues.push_back({path, "schema file '" + file.string() + "' has " + std::to_string(size) +
                                    " bytes; a schema is at most 1 MiB, check that this is the right file"});
        return std::nullopt;
    }
    std::ifstream stream(file, std::ios::binary);
    std::ostringstream content;
    content << stream.rdbuf();
    if (!stream) {
        issues.push_back({path, "cannot read schema file '" + file.string() + "'; check its permissions"});
        return std::nullopt;
    }
    Issues syntax;
    auto json = read_json(content.str(), syntax);
    for (const GraphIssue& issue : syntax) {
        issues.push_back({path, "schema file '" + file.string() + "'" +
                                    (issue.json_path.empty() ? "" : " at " + issue.json_path) + ": " + issue.message});
    }
    if (!syntax.empty()) return std::nullopt;
    return json;
}

}  // namespace

std::vector<schema::Schema> parse_schema_declarations(const nlohmann::json& root,
                                                      const std::filesystem::path& source_file,
                                                      Issues& issues) {
    std::vector<schema::Schema> schemas;
    const nlohmann::json* list = find_member(root, "schemas");
    if (list == nullptr) return schemas;
    if (!expect_array(*list, "/schemas", "an array of schema objects or schema file paths", issues)) return schemas;
    std::map<std::string, std::pair<std::string, std::size_t>> declared_at;  // id -> first path, index
    for (std::size_t index = 0; index < list->size(); ++index) {
        const std::string path = child_path("/schemas", index);
        const nlohmann::json& entry = (*list)[index];
        std::vector<schema::Problem> problems;
        std::optional<schema::Schema> parsed;
        if (entry.is_string()) {
            std::filesystem::path file(entry.get<std::string>());
            if (file.is_relative() && !source_file.empty()) file = source_file.parent_path() / file;
            const auto document = read_schema_file(file.lexically_normal(), path, issues);
            if (!document) continue;
            parsed = schema::parse_schema(*document, "", problems);
            for (const auto& problem : problems) {
                issues.push_back({path, "schema file '" + file.lexically_normal().string() + "'" +
                                            (problem.json_path.empty() ? "" : " at " + problem.json_path) + ": " +
                                            problem.message});
            }
        } else if (entry.is_object()) {
            parsed = schema::parse_schema(entry, path, problems);
            for (auto& problem : problems)
                issues.push_back({problem.json_path, std::move(problem.message)});
        } else {
            issues.push_back({path, "expected a schema object or the path of a schema file, found " + describe(entry)});
        }
        if (!parsed) continue;
        const std::string id = parsed->id();
        // The same schema twice (a file and a copy inline) is harmless; the same id with other content is not.
        if (const auto first = declared_at.find(id); first != declared_at.end()) {
            const auto& [first_path, first_index] = first->second;
            if (schema::fingerprint(schemas[first_index]) != schema::fingerprint(*parsed)) {
                issues.push_back({path, "schema " + id + " is declared again with other content (first at " +
                                            first_path + "); a changed schema needs a new version"});
            }
            continue;
        }
        declared_at.emplace(id, std::make_pair(path, schemas.size()));
        schemas.push_back(std::move(*parsed));
    }
    return schemas;
}

}  // namespace dhub::graph::detail
