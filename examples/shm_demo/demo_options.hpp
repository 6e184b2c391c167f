// SPDX-License-Identifier: Apache-2.0
// The command line of dhub-shm-demo.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace dhub::demo {

enum class Role {
    Both,      ///< default: this process produces and a re-executed copy of it consumes
    Producer,  ///< only produce (run a consumer yourself with --role consumer --channel ...)
    Consumer,  ///< only consume from --channel
};

struct DemoOptions {
    double seconds = 5.0;     ///< how long the producer writes
    double rate_hz = 2000.0;  ///< frames per second; 0 = as fast as the consumer allows
    std::size_t frame_bytes = 64 * 1024;
    std::uint32_t slots = 16;
    Role role = Role::Both;
    std::string channel;  ///< empty: the producer names it demo-<its pid>
};

/// What parsing decided: run with options, or exit at once with exit_code (help, usage error).
struct ParsedCommandLine {
    DemoOptions options;
    std::optional<int> exit_code;
};

ParsedCommandLine parse_command_line(int argc, char** argv);

/// "both", "producer" or "consumer", as --role spells it.
std::string role_name(Role role);

}  // namespace dhub::demo
