// SPDX-License-Identifier: Apache-2.0
#include "kernel_support.hpp"

#include <unistd.h>

#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "dhub/formats/recording.hpp"
#include "dhub/formats/waveform.hpp"

namespace dhub::testing {

nlohmann::json KernelRun::node(const std::string& id) const {
    if (!report.is_object() || !report.contains("nodes")) return nullptr;
    for (const auto& entry : report["nodes"]) {
        if (entry.value("id", "") == id) return entry;
    }
    return nullptr;
}

nlohmann::json ticker_graph(const std::string& name) {
    return {{"schema_version", 1},
            {"name", name},
            {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}}}},
            {"nodes",
             {{{"id", "tick"}, {"plugin", "test_ticker"}, {"component", "test.source.ticker"}, {"outputs", {"ticks"}}},
              {{"id", "sink"}, {"plugin", "test_ticker"}, {"component", "test.sink.ticker"}, {"inputs", {"ticks"}}}}}};
}

nlohmann::json recorded_waveform_graph(const std::string& name, const TempDir& dir) {
    return {{"schema_version", 1},
            {"name", name},
            {"channels",
             {{{"name", "raw"},
               {"slot_bytes", 4096},
               {"slot_count", 64},
               {"sync", "every_reader"},
               {"schema", formats::WAVEFORM_SCHEMA_ID}}}},
            {"nodes",
             {{{"id", "sim"},
               {"plugin", "sim_source"},
               {"params", {{"waveform", "counter"}, {"channels", 1}, {"samples_per_channel", 504}, {"rate_hz", 1000}}},
               {"outputs", {"raw"}}},
              {{"id", "rec"},
               {"plugin", "recorder"},
               {"params", {{"path", (dir / "rec.dhr").string()}}},
               {"inputs", {"raw"}}}}}};
}

nlohmann::json scaled_waveform_graph(const std::string& name,
                                     const TempDir& dir,
                                     std::uint32_t samples,
                                     const std::string& raw_sync) {
    const auto channel = [](const std::string& channel_name, const std::string& sync) {
        return nlohmann::json{{"name", channel_name},
                              {"slot_bytes", 4096},
                              {"slot_count", 64},
                              {"sync", sync},
                              {"schema", formats::WAVEFORM_SCHEMA_ID}};
    };
    return {
        {"schema_version", 1},
        {"name", name},
        {"channels", {channel("raw", raw_sync), channel("out", "every_reader")}},
        {"nodes",
         {{{"id", "sim"},
           {"plugin", "sim_source"},
           {"params", {{"waveform", "counter"}, {"channels", 1}, {"samples_per_channel", samples}, {"rate_hz", 1000}}},
           {"outputs", {"raw"}}},
          {{"id", "stage"},
           {"plugin", "scale"},
           {"params", {{"gain", 1.0}, {"offset", 0.0}}},
           {"inputs", {"raw"}},
           {"outputs", {"out"}}},
          {{"id", "rec"},
           {"plugin", "recorder"},
           {"params", {{"path", (dir / "out.dhr").string()}}},
           {"inputs", {"out"}}}}}};
}

std::filesystem::path write_graph(const TempDir& dir, nlohmann::json graph, const std::string& file) {
    if (!graph.contains("plugin_path")) graph["plugin_path"] = {DHUB_PLUGIN_DIR, DHUB_TEST_PLUGIN_DIR};
    const auto path = dir / file;
    std::ofstream(path) << graph.dump(2);
    return path;
}

ChildProcess start_kernel(const TempDir& dir,
                          const std::filesystem::path& graph,
                          const std::vector<std::string>& arguments,
                          const std::vector<std::string>& launcher) {
    std::vector<std::string> all = {graph.string(), "--report", (dir / "report.json").string(), "--events",
                                    (dir / "events.jsonl").string()};
    all.insert(all.end(), arguments.begin(), arguments.end());
    std::filesystem::remove(dir / "report.json");
    std::filesystem::remove(dir / "events.jsonl");
    if (launcher.empty()) return ChildProcess::spawn(DHUB_KERNEL, all, (dir / "kernel.log").string());
    std::vector<std::string> command(launcher.begin() + 1, launcher.end());
    command.push_back(DHUB_KERNEL);
    command.insert(command.end(), all.begin(), all.end());
    return ChildProcess::spawn(launcher.front(), command, (dir / "kernel.log").string());
}

namespace {
constexpr const char* UNSHARE = "/usr/bin/unshare";
}  // namespace

std::vector<std::string> private_shm_launcher() {
    // unshare execs sh, which execs the command: the pid the test holds is the kernel's, for signals and wait.
    return {UNSHARE,
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            "mount -t tmpfs -o size=256m tmpfs /dev/shm && exec \"$0\" \"$@\""};
}

std::string private_shm_unavailable() {
    if (!std::filesystem::exists(UNSHARE)) return std::string(UNSHARE) + " is missing (Debian: util-linux)";
    const TempDir dir;
    std::vector<std::string> launcher = private_shm_launcher();
    std::vector<std::string> command(launcher.begin() + 1, launcher.end());
    command.push_back("/bin/true");
    ChildProcess probe = ChildProcess::spawn(launcher.front(), command, (dir / "probe.log").string());
    const ExitStatus status = probe.wait(std::chrono::seconds(10));
    if (status.exited && status.code == 0) return {};
    return "unshare --mount with a tmpfs on /dev/shm failed (it needs root or CAP_SYS_ADMIN): " +
           read_text_file((dir / "probe.log").string());
}

KernelRun collect(const TempDir& dir, ExitStatus status) {
    KernelRun run;
    run.status = status;
    run.output = read_text_file((dir / "kernel.log").string());
    const std::string report = read_text_file((dir / "report.json").string());
    run.report = report.empty() ? nlohmann::json() : nlohmann::json::parse(report, nullptr, false);
    return run;
}

CtlRun ctl(const TempDir& dir, const std::vector<std::string>& arguments) {
    ChildOptions options;
    options.output_file = (dir / "ctl.out").string();
    options.error_file = (dir / "ctl.err").string();
    ChildProcess child = ChildProcess::spawn(DHUB_CTL, arguments, options);
    const ExitStatus status = child.wait(std::chrono::seconds(20));
    CtlRun run;
    run.code = status.exited ? status.code : -1;
    run.out = read_text_file(options.output_file);
    run.err = read_text_file(options.error_file);
    run.value = nlohmann::json::parse(run.out, nullptr, false);
    return run;
}

nlohmann::json node_named(const nlohmann::json& nodes, const std::string& id) {
    if (!nodes.is_array()) return nullptr;
    for (const nlohmann::json& node : nodes) {
        if (node.value("id", "") == id) return node;
    }
    return nullptr;
}

std::vector<nlohmann::json> read_events(const TempDir& dir) {
    return read_event_file(dir / "events.jsonl");
}

std::size_t count_events(const TempDir& dir, const std::string& event, const nlohmann::json& fields) {
    return count_events_in(dir / "events.jsonl", event, fields);
}

KernelRun run_kernel(const TempDir& dir,
                     const std::filesystem::path& graph,
                     const std::vector<std::string>& arguments,
                     std::chrono::milliseconds timeout) {
    ChildProcess kernel = start_kernel(dir, graph, arguments);
    const ExitStatus status = kernel.wait(timeout);
    return collect(dir, status);
}

Recording read_recording(const std::filesystem::path& data_file) {
    namespace format = dhub::formats::recording;
    Recording recording;
    const std::string data = read_text_file(data_file.string());
    const std::string index = read_text_file(format::index_path(data_file.string()));
    format::DataFileHeader header{};
    format::IndexFileHeader index_header{};
    if (data.size() < sizeof header || index.size() < sizeof index_header) {
        recording.error = "recording files missing or truncated: " + data_file.string();
        return recording;
    }
    std::memcpy(&header, data.data(), sizeof header);
    std::memcpy(&index_header, index.data(), sizeof index_header);
    if (auto problem = format::check_data_header(header); !problem.empty()) {
        recording.error = problem;
        return recording;
    }
    if (auto problem = format::check_index_header(index_header); !problem.empty()) {
        recording.error = problem;
        return recording;
    }
    recording.schema = data.substr(sizeof header, header.schema_bytes);
    for (std::size_t offset = sizeof index_header; offset + index_header.record_bytes <= index.size();
         offset += index_header.record_bytes) {
        format::IndexRecord record{};
        std::memcpy(&record, index.data() + offset, sizeof record);
        if (record.kind == format::RecordKind::Gap) {
            ++recording.gaps;
            continue;
        }
        if (record.offset + record.bytes > data.size()) {
            recording.error = "index record points past the end of the data file";
            return recording;
        }
        recording.slots.push_back({record.sequence, record.timestamp_ns, data.substr(record.offset, record.bytes)});
    }
    return recording;
}

nlohmann::json node_of(const TempDir& dir, const std::string& pid, const std::string& id) {
    return node_named(ctl(dir, {"nodes", "--json", "--kernel", pid}).value, id);
}

std::uint64_t slots_in(const TempDir& dir, const std::string& pid, const std::string& id) {
    const nlohmann::json node = node_of(dir, pid, id);
    return node.is_object() ? node["slots_in"].get<std::uint64_t>() : 0;
}

void wait_flowing(const TempDir& dir, const std::string& pid, const std::string& id, std::uint64_t above) {
    ASSERT_TRUE(wait_until([&] { return slots_in(dir, pid, id) > above; }, std::chrono::seconds(30),
                           std::chrono::milliseconds(20)))
        << "node '" << id << "' took no more than " << above << " slots";
}

std::vector<std::uint64_t> recorded_frames(const std::filesystem::path& file) {
    const Recording recording = read_recording(file);
    EXPECT_TRUE(recording.error.empty()) << recording.error;
    std::vector<std::uint64_t> frames;
    for (const RecordedSlot& slot : recording.slots) {
        formats::WaveformHeader header{};
        EXPECT_GE(slot.bytes.size(), sizeof header);
        if (slot.bytes.size() < sizeof header) continue;
        std::memcpy(&header, slot.bytes.data(), sizeof header);
        frames.push_back(header.sequence);
    }
    return frames;
}

}  // namespace dhub::testing
