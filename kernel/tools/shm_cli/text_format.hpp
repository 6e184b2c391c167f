// SPDX-License-Identifier: Apache-2.0
// Human-readable output of dhub-shm: the `list` table and the `inspect` report.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "dhub/base/result.hpp"
#include "dhub/shm/inspect.hpp"

namespace dhub::tools {

/// "512 B", "64.0 KiB", "1.1 MiB".
std::string format_bytes(std::uint64_t bytes);
/// "850 ns", "12.3 µs", "4.0 ms", "2.5 s".
std::string format_duration(std::uint64_t ns);

/// The column titles of `list`.
void write_list_header(std::ostream& out);
/// One `list` row for a healthy segment.
void write_list_row(std::ostream& out, const shm::ChannelInfo& info);
/// One `list` row for a segment that could not be read, with the reason in place of the columns.
/// A segment inspect_channel() refused: "corrupt: ...", "incompatible: ..." (another layout version) or
/// "unreadable: ..." (e.g. permissions), with the error.
void write_list_error_row(std::ostream& out, std::string_view channel, const Error& error);

/// Everything inspect_channel() returned, in sections.
void write_inspect_text(std::ostream& out, const shm::ChannelInfo& info);

}  // namespace dhub::tools
