// SPDX-License-Identifier: Apache-2.0
// Running dhub-kernel on graphs written by the test, and reading what it leaves behind: exit status, the
// JSON run report, the captured output and recordings.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/event_file.hpp"
#include "support/temp_dir.hpp"

namespace dhub::testing {

struct KernelRun {
    ExitStatus status;
    std::string output;     ///< stdout and stderr
    nlohmann::json report;  ///< --report, null if none was written

    /// The report entry of a node (null json if absent).
    nlohmann::json node(const std::string& id) const;
};

/// tick (test_ticker, as fast as it can) -> ticks (8 slots, lossless) -> sink (which counts every tick out of order
/// as an error): the graph of the tests about a running kernel rather than its data.
nlohmann::json ticker_graph(const std::string& name);

/// sim (counter waveform, 1 kHz, 4 KiB frames) -> raw (lossless, 64 slots) -> rec (recording dir/rec.dhr): two
/// nodes, the graph of the tests that add nodes to a running graph or count its nodes.
nlohmann::json recorded_waveform_graph(const std::string& name, const TempDir& dir);

/// sim (counter waveform, 1 kHz, `samples` per frame) -> raw (raw_sync) -> stage (scale, gain 1) -> out (lossless)
/// -> rec (recording dir/out.dhr); 4096-byte slots, 64 of them: the graph of the tests that change a running stage.
nlohmann::json scaled_waveform_graph(const std::string& name,
                                     const TempDir& dir,
                                     std::uint32_t samples,
                                     const std::string& raw_sync = "every_reader");

/// Writes graph to dir/<file>, with plugin_path set to the built plugins and the test plugins.
std::filesystem::path write_graph(const TempDir& dir, nlohmann::json graph, const std::string& file = "graph.json");

/// Starts dhub-kernel on graph with extra arguments; output goes to dir/kernel.log, the report to
/// dir/report.json, the event stream to dir/events.jsonl. A launcher (a program and its arguments, e.g.
/// private_shm_launcher()) runs the kernel's command line instead of the kernel itself.
ChildProcess start_kernel(const TempDir& dir,
                          const std::filesystem::path& graph,
                          const std::vector<std::string>& arguments = {},
                          const std::vector<std::string>& launcher = {});
/// A launcher that runs a command in a mount namespace of its own with a fresh tmpfs on /dev/shm: a machine of
/// its own as far as shared memory goes (another host, to a broker registration's shm_domain). Needs root.
std::vector<std::string> private_shm_launcher();
/// Why private_shm_launcher() cannot work here ("" when it can): no unshare(1), or no permission.
std::string private_shm_unavailable();
/// Runs dhub-kernel to completion (timeout: killed, and timed_out is set).
KernelRun run_kernel(const TempDir& dir,
                     const std::filesystem::path& graph,
                     const std::vector<std::string>& arguments = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(60));
/// The events the kernel started from dir has written so far (whole lines only), in order.
std::vector<nlohmann::json> read_events(const TempDir& dir);
/// How many of them are `event` with every field in `fields` equal ({"node": "rec"}).
std::size_t count_events(const TempDir& dir,
                         const std::string& event,
                         const nlohmann::json& fields = nlohmann::json::object());
/// What a finished kernel left: output and report.
KernelRun collect(const TempDir& dir, ExitStatus status);

/// dhub-ctl run to its end (20 s at most): exit code, standard output and error, and the output as JSON (a
/// discarded value when it is not JSON: no --json, or the command failed).
struct CtlRun {
    int code = -1;
    std::string out;
    std::string err;
    nlohmann::json value;
};
CtlRun ctl(const TempDir& dir, const std::vector<std::string>& arguments);
/// The node `id` of a `dhub-ctl nodes --json` array; null when absent, or when nodes is no array (dhub-ctl
/// failed: the kernel's page is not there yet).
nlohmann::json node_named(const nlohmann::json& nodes, const std::string& id);
/// Node `id` as `dhub-ctl nodes --json` shows it in the kernel of pid; null when absent.
nlohmann::json node_of(const TempDir& dir, const std::string& pid, const std::string& id);
/// The input slots node `id` has taken so far (0 when it is not listed).
std::uint64_t slots_in(const TempDir& dir, const std::string& pid, const std::string& id);
/// Waits (30 s at most, a test failure then) until node `id` has taken more than `above` slots.
void wait_flowing(const TempDir& dir, const std::string& pid, const std::string& id, std::uint64_t above = 10);

struct RecordedSlot {
    std::uint64_t sequence = 0;
    std::uint64_t timestamp_ns = 0;
    std::string bytes;
};

struct Recording {
    std::string schema;
    std::vector<RecordedSlot> slots;
    std::uint64_t gaps = 0;  ///< gap records
    std::string error;       ///< non-empty if the files are unreadable
};

/// Reads a recording (data file and its .idx) with the format of plugins/common recording_format.hpp.
Recording read_recording(const std::filesystem::path& data_file);
/// The frame counter each recorded waveform slot carries, in recording order (a failure if unreadable).
std::vector<std::uint64_t> recorded_frames(const std::filesystem::path& file);

}  // namespace dhub::testing
