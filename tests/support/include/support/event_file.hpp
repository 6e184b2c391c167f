// SPDX-License-Identifier: Apache-2.0
// Reading an --events file (dhub-kernel, dhub-broker) while its writer still runs: what tests wait on
// instead of log text.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dhub::testing {

/// The events written to file so far, in order; whole lines only (a last line without its newline is still
/// being written). A missing file has none.
std::vector<nlohmann::json> read_event_file(const std::filesystem::path& file);

/// How many of them are `event` with every field in `fields` equal (e.g. {"node": "rec"}).
std::size_t count_events_in(const std::filesystem::path& file,
                            const std::string& event,
                            const nlohmann::json& fields = nlohmann::json::object());

}  // namespace dhub::testing
