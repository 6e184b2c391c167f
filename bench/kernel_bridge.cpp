// SPDX-License-Identifier: Apache-2.0
#include "kernel_bridge.hpp"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace dhub::bench {

BridgeRun run_kernel_bridge(const BenchOptions& options,
                            const BridgeEnds& ends,
                            std::size_t payload,
                            std::uint32_t slots,
                            std::uint64_t messages,
                            double rate_hz) {
    const testing::TempDir scratch("dhub-bench-bridge");
    const std::string result_file = (scratch / "result.json").string();
    const nlohmann::json channel = {
        {"name", "stream"}, {"slot_bytes", payload}, {"slot_count", slots}, {"sync", "single_reader"}};
    nlohmann::json source = {{"id", "source"},
                             {"plugin", "bench_source"},
                             {"params", {{"count", messages}}},
                             {"outputs", {"stream"}},
                             {"cpu", options.producer_core}};
    if (rate_hz > 0) source["pacing"] = {{"rate_hz", rate_hz}};
    nlohmann::json sender_node = ends.sender;
    sender_node["inputs"] = {"stream"};
    nlohmann::json receiver_node = ends.receiver;
    receiver_node["outputs"] = {"stream"};
    const nlohmann::json sender = {
        {"schema_version", 1}, {"name", "bridge-a"}, {"channels", {channel}}, {"nodes", {source, sender_node}}};
    const nlohmann::json receiver = {
        {"schema_version", 1},
        {"name", "bridge-b"},
        {"channels", {channel}},
        {"nodes",
         {receiver_node,
          {{"id", "sink"},
           {"plugin", "bench_sink"},
           {"cpu", options.consumer_core},
           {"params",
            {{"result_path", result_file}, {"warmup", messages / 10}, {"count", messages}, {"latency", rate_hz > 0}}},
           {"inputs", {"stream"}}}}}};
    std::ofstream(scratch / "sender.json") << sender.dump(2);
    std::ofstream(scratch / "receiver.json") << receiver.dump(2);

    testing::ChildOptions child_options;
    child_options.death_signal = SIGKILL;  // no kernel outlives an interrupted bench
    const auto arguments = [&](const char* graph, const char* report) {
        return std::vector<std::string>{(scratch / graph).string(),
                                        "--plugin-path",
                                        DHUB_BENCH_PLUGIN_DIR,
                                        "--plugin-path",
                                        DHUB_BENCH_TRANSPORT_DIR,
                                        "--log-level",
                                        "warn",
                                        "--report",
                                        (scratch / report).string(),
                                        "--no-control"};
    };
    // The receiver first: the sender's first slots then go straight to it.
    child_options.output_file = (scratch / "receiver.log").string();
    testing::ChildProcess far = testing::ChildProcess::spawn(
        DHUB_BENCH_KERNEL, arguments("receiver.json", "receiver-report.json"), child_options);
    child_options.output_file = (scratch / "sender.log").string();
    testing::ChildProcess near =
        testing::ChildProcess::spawn(DHUB_BENCH_KERNEL, arguments("sender.json", "sender-report.json"), child_options);
    const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.child_timeout);
    const testing::ExitStatus near_status = near.wait(timeout);
    const testing::ExitStatus far_status = far.wait(timeout);
    for (const auto& [name, status] : {std::pair{"sender", near_status}, std::pair{"receiver", far_status}}) {
        if (status.timed_out) throw std::runtime_error(std::string("the ") + name + " kernel did not finish in time");
        if (!status.exited || status.code != 0) {
            throw std::runtime_error(
                std::string("the ") + name + " kernel failed (" +
                (status.exited ? "exit code " + std::to_string(status.code)
                               : "signal " + std::to_string(status.signal)) +
                "): " + testing::read_text_file((scratch / (std::string(name) + ".log")).string()));
        }
    }
    std::ifstream in(result_file);
    const nlohmann::json result = nlohmann::json::parse(in, nullptr, false);
    if (result.is_discarded() || result["bad"] != 0 || result["lost"] != 0) {
        throw std::runtime_error("bench_sink result missing or reports bad/lost slots");
    }
    std::ifstream report_in(scratch / "receiver-report.json");
    const nlohmann::json report = nlohmann::json::parse(report_in, nullptr, false);
    if (!report.is_discarded()) {
        for (const nlohmann::json& node : report["nodes"]) {
            if (node.value("upstream_lost", 0) != 0) {
                throw std::runtime_error("the receiver never got " + std::to_string(node["upstream_lost"].get<int>()) +
                                         " far slots");
            }
        }
    }
    return {result["messages"].get<double>() * 1e9 / result["elapsed_ns"].get<double>(), result["p50_ns"].get<double>(),
            result["p99_ns"].get<double>()};
}

}  // namespace dhub::bench
