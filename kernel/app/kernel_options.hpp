// SPDX-License-Identifier: Apache-2.0
// The command line of dhub-kernel.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dhub::kernel_app {

struct KernelOptions {
    std::filesystem::path graph_file;
    bool validate_only = false;
    bool list_plugins = false;
    bool list_schemas = false;  ///< validate the graph, print its schemas, exit
    std::string describe;       ///< plugin name or path to a .so
    /// With --describe: a node's params, for the parameters components declare per node (a Python class's).
    std::string describe_params;
    bool describe_params_given = false;  ///< --params was given, even empty (an error then, not ignored)
    std::vector<std::filesystem::path> plugin_path;
    std::string log_level = "info";
    std::optional<double> duration_s;
    /// --spin-us: how long node threads spin before they sleep (none: the kernel decides).
    std::optional<double> spin_us;
    std::filesystem::path report_file;  ///< JSON summary of the run, written at exit
    std::filesystem::path events_file;  ///< the event stream, one JSON object per line, written as it happens
    bool counters_page = true;          ///< --no-counters: false
    bool control = true;                ///< --no-control: false
    std::string metrics;                ///< --metrics tcp://HOST:PORT; empty: no metrics endpoint
    std::string control_tcp;            ///< --control-tcp tcp://HOST:PORT; empty: the local socket only
    std::string control_key;            ///< --control-key FILE
    std::string control_allow;          ///< --control-allow FILE
    bool help = false;
    bool version = false;
};

/// Parses argv; on a usage error prints it (and a hint to --help) to stderr and returns nullopt.
std::optional<KernelOptions> parse_options(int argc, char** argv, std::string& help_text);

}  // namespace dhub::kernel_app
