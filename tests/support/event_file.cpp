// SPDX-License-Identifier: Apache-2.0
#include "support/event_file.hpp"

#include <sstream>

#include "support/child_process.hpp"

namespace dhub::testing {

std::vector<nlohmann::json> read_event_file(const std::filesystem::path& file) {
    std::vector<nlohmann::json> events;
    std::istringstream lines(read_text_file(file.string()));
    std::string line;
    while (std::getline(lines, line) && !lines.eof()) {
        events.push_back(nlohmann::json::parse(line, nullptr, false));
    }
    return events;
}

std::size_t count_events_in(const std::filesystem::path& file, const std::string& event, const nlohmann::json& fields) {
    std::size_t count = 0;
    for (const nlohmann::json& entry : read_event_file(file)) {
        if (!entry.is_object() || entry.value("event", "") != event) continue;
        bool matches = true;
        for (const auto& [key, value] : fields.items())
            matches = matches && entry.contains(key) && entry[key] == value;
        count += matches ? 1 : 0;
    }
    return count;
}

}  // namespace dhub::testing
