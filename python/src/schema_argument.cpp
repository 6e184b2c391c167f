// SPDX-License-Identifier: Apache-2.0
#include "schema_argument.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "dhub/schema/compatibility.hpp"
#include "dhub/schema/schema_json.hpp"
#include "dhub/shm/checksum.hpp"
#include "errors.hpp"

namespace dhub::python {
namespace py = pybind11;
namespace {

[[noreturn]] void invalid(const std::string& message) {
    raise(Error{ErrorCode::InvalidArgument, "schema: " + message});
}

std::string read_file(const std::string& path) {
    std::ifstream file(path);
    if (!file) invalid("'" + path + "' is neither a schema id (name@version), JSON text nor a readable file");
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

SchemaArgument from_document(const nlohmann::json& document, const std::string& origin) {
    std::vector<schema::Problem> problems;
    const auto parsed = schema::parse_schema(document, "", problems);
    if (!parsed) {
        std::string message = "the document" + origin + " is not a schema (docs/schemas.md):";
        for (const schema::Problem& problem : problems) {
            message +=
                "\n  " + (problem.json_path.empty() ? std::string("/") : problem.json_path) + ": " + problem.message;
        }
        invalid(message);
    }
    return {parsed->id(), schema::to_json(*parsed).dump()};
}

}  // namespace

std::optional<SchemaArgument> schema_argument(py::handle value) {
    if (value.is_none()) return std::nullopt;
    if (py::isinstance<py::dict>(value)) {
        const std::string text = py::module_::import("json").attr("dumps")(value).cast<std::string>();
        return from_document(nlohmann::json::parse(text), "");
    }
    if (!py::isinstance<py::str>(value))
        invalid("give a dict, JSON text, a .json file's path or an id like 'lab.thermo@1'");
    const std::string text = value.cast<std::string>();
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{') {
        const auto document = nlohmann::json::parse(text, nullptr, false);
        if (document.is_discarded()) invalid("the JSON text does not parse");
        return from_document(document, "");
    }
    if (schema::parse_schema_id(text) && text.find('/') == std::string::npos) return SchemaArgument{text, ""};
    const auto document = nlohmann::json::parse(read_file(text), nullptr, false);
    if (document.is_discarded()) invalid("'" + text + "' is not JSON");
    return from_document(document, " in '" + text + "'");
}

void check_readable(const SchemaArgument& expected,
                    std::string_view channel,
                    const std::uint8_t (&stored_hash)[32],
                    std::string_view stored_document) {
    const shm::SchemaHash wanted = schema::id_hash(expected.id);
    const bool same_id = std::equal(wanted.begin(), wanted.end(), stored_hash);
    std::string stored_id = "an opaque schema (hash " + shm::to_hex(stored_hash, sizeof stored_hash) + ")";
    nlohmann::json stored = nlohmann::json::parse(stored_document, nullptr, false);
    if (!stored.is_discarded() && stored.is_object() && stored.contains("name")) {
        stored_id = stored.value("name", std::string("?")) + "@" + std::to_string(stored.value("version", 0));
    } else if (std::all_of(stored_hash, stored_hash + 32, [](std::uint8_t byte) { return byte == 0; })) {
        stored_id = "no schema";
    }
    if (same_id && (expected.document.empty() || stored_document.empty())) return;
    // A channel that makes no claim (no schema hash, no document): the reader's schema is how it views the bytes.
    if (std::all_of(stored_hash, stored_hash + 32, [](std::uint8_t byte) { return byte == 0; }) &&
        stored_document.empty()) {
        return;
    }
    if (!expected.document.empty() && !stored_document.empty()) {
        const schema::Verdict verdict = schema::check_readable(nlohmann::json::parse(expected.document), stored);
        if (verdict.accepted) return;
        raise(Raise::SchemaMismatch, "channel '" + std::string(channel) + "': " + verdict.why);
    }
    raise(Raise::SchemaMismatch,
          "channel '" + std::string(channel) + "' carries " + stored_id + ", not " + expected.id +
              (expected.document.empty() ? "; give the expected schema's document (not only its id) to read a later "
                                           "version that only appended fields"
                                         : ""));
}

}  // namespace dhub::python
