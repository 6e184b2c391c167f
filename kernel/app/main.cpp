// SPDX-License-Identifier: Apache-2.0
// dhub-kernel GRAPH.json: validate the graph, load its plugins, run it, stop it cleanly.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>
#include "describe.hpp"
#include "dhub/base/heap_policy.hpp"
#include "dhub/graph/graph_spec.hpp"
#include "dhub/plugin/plugin_loader.hpp"
#include "dhub/runtime/graph_runner.hpp"
#include "dhub/sdk/version.h"
#include "kernel_options.hpp"
#include "list_schemas.hpp"

namespace {

using dhub::ExitCode;

int code(ExitCode exit_code) {
    return dhub::to_int(exit_code);
}

/// 1 when the document itself has problems; 3 when its only problems are plugins that cannot be loaded.
ExitCode exit_code_of(const std::vector<dhub::graph::GraphIssue>& issues) {
    const bool only_plugins = std::all_of(issues.begin(), issues.end(), [](const dhub::graph::GraphIssue& issue) {
        return issue.kind == dhub::graph::IssueKind::Plugin;
    });
    return only_plugins ? ExitCode::PluginError : ExitCode::InvalidInput;
}

ExitCode report_issues(const std::vector<dhub::graph::GraphIssue>& issues, const std::filesystem::path& file) {
    std::cerr << dhub::graph::format_issues(issues, file.string());
    std::cerr << "dhub-kernel: " << issues.size() << " problem(s) in " << file.string() << "\n";
    return exit_code_of(issues);
}

/// SIGINT/SIGTERM are blocked in every thread and taken by one thread with sigwait, so handling them
/// can do real work (a signal handler could not). First: graceful stop. Second: exit at once.
class SignalWatcher {
public:
    SignalWatcher() {
        sigemptyset(&signals_);
        sigaddset(&signals_, SIGINT);
        sigaddset(&signals_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    }
    ~SignalWatcher() { stop(); }
    /// Ends the watching thread; after this, signals are no longer acted upon (they stay blocked).
    void stop() {
        if (thread_.joinable()) {
            done_.store(true);
            pthread_kill(thread_.native_handle(), SIGTERM);  // wakes sigwait; done_ makes it leave
            thread_.join();
        }
    }
    template <typename OnFirst>
    void watch(OnFirst on_first) {
        thread_ = std::thread([this, on_first] {
            int received = 0;
            for (int count = 0;; ++count) {
                if (sigwait(&signals_, &received) != 0 || done_.load()) return;
                if (count == 0) {
                    const char* name = received == SIGINT ? "SIGINT" : "SIGTERM";
                    spdlog::get("dhub.kernel")
                        ->info("{} received: stopping (sources first, then draining); send it again to exit at once",
                               name);
                    on_first(name);
                } else {
                    std::cerr << "dhub-kernel: second signal: exiting now without draining\n";
                    ::_exit(code(ExitCode::Interrupted));
                }
            }
        });
    }

private:
    sigset_t signals_{};
    std::thread thread_;
    std::atomic<bool> done_{false};
};

/// The run's summary as JSON: what tests and supervisors read instead of log text.
void write_report(const std::filesystem::path& file,
                  const std::string& graph_name,
                  ExitCode exit_code,
                  const std::vector<dhub::runtime::NodeReport>& reports,
                  const std::vector<dhub::runtime::ValidatorReport>& validator_reports) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& report : reports)
        nodes.push_back(dhub::runtime::to_json(report));
    const nlohmann::json validators = dhub::runtime::to_json(validator_reports);
    std::ofstream out(file);
    out << nlohmann::json{{"graph", graph_name},
                          {"exit_code", code(exit_code)},
                          {"nodes", nodes},
                          {"validators", validators}}
               .dump(2)
        << "\n";
    if (!out) spdlog::get("dhub.kernel")->error("cannot write the run report to {}", file.string());
}

}  // namespace

int main(int argc, char** argv) {
    std::string help;
    const auto options = dhub::kernel_app::parse_options(argc, argv, help);
    if (!options) return code(ExitCode::Usage);
    if (options->help) {
        std::cout << help;
        return 0;
    }
    if (options->version) {
        std::cout << "dhub-kernel " << DHUB_VERSION << " (SDK " << DHUB_SDK_VERSION_STRING << ")\n";
        return 0;
    }
    auto logger = spdlog::stderr_color_mt("dhub.kernel");
    spdlog::set_default_logger(logger);
    const auto level = spdlog::level::from_str(options->log_level);
    if (level == spdlog::level::off && options->log_level != "off") {
        std::cerr << "dhub-kernel: --log-level '" << options->log_level
                  << "' is not trace, debug, info, warn, error or off\n";
        return code(ExitCode::Usage);
    }
    spdlog::set_level(level);
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");

    if (options->list_plugins || !options->describe.empty()) {
        dhub::plugin::PluginLoader loader(dhub::plugin::make_search_path(options->plugin_path, {}));
        if (options->list_plugins) {
            return dhub::kernel_app::list_plugins(loader, std::cout) == 0 ? 0 : code(ExitCode::PluginError);
        }
        return code(dhub::kernel_app::describe_plugin(
            loader, options->describe,
            options->describe_params_given ? std::optional<std::string>(options->describe_params) : std::nullopt,
            std::cout, std::cerr));
    }

    // Every problem at once: a document that parses at all is validated against its plugins too, whatever
    // the parser found (docs/graph.md, "Validation").
    std::vector<dhub::graph::GraphIssue> issues;
    const auto graph = dhub::graph::load_graph_file(options->graph_file, issues);
    if (!graph) return code(report_issues(issues, options->graph_file));
    dhub::plugin::PluginLoader loader(dhub::plugin::make_search_path(options->plugin_path, graph->plugin_path));
    // Checking only, the kernel may run plugin code to check node-dependent parameters (a Python class's); a run
    // leaves that to each node's create(), in the node's own process where it is isolated.
    const bool check_only = options->validate_only || options->list_schemas;
    const dhub::graph::ComponentLookup lookup = dhub::plugin::component_lookup(
        loader, check_only ? dhub::plugin::NodeParams::Ask : dhub::plugin::NodeParams::Pass);
    const auto validated = dhub::graph::validate_graph(*graph, lookup, issues);
    if (!issues.empty()) return code(report_issues(issues, options->graph_file));
    if (options->list_schemas) {
        dhub::kernel_app::list_schemas(validated, std::cout);
        return 0;
    }
    for (const auto& warning : validated.warnings)
        logger->warn("{}: {}: {}", options->graph_file.string(), warning.json_path, warning.message);
    if (options->validate_only) {
        std::cout << options->graph_file.string() << ": valid (" << graph->nodes.size() << " nodes, "
                  << graph->channels.size() << " channels)\n";
        return 0;
    }

    // Before the graph allocates anything: ZeroMQ's receive buffers and the like are reused, not faulted in again.
    logger->debug("{}", dhub::keep_freed_heap().detail);
    SignalWatcher signals;  // before any thread starts, so every thread inherits the blocked mask
    dhub::runtime::RunnerOptions runner_options;
    runner_options.events_file = options->events_file;
    runner_options.counters_page = options->counters_page;
    runner_options.control = options->control;
    runner_options.metrics = options->metrics;
    runner_options.control_tcp = {options->control_tcp, options->control_key, options->control_allow};
    runner_options.isolation.plugin_path = options->plugin_path;
    runner_options.isolation.log_level = options->log_level;
    if (options->spin_us) {
        runner_options.node_spin =
            std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(*options->spin_us * 1000.0)));
    }
    auto runner = dhub::runtime::GraphRunner::create(validated, loader, runner_options);
    if (!runner) {
        logger->error("{}", runner.error().error.message);
        return code(dhub::runtime::exit_code_of(runner.error().step));
    }
    dhub::runtime::GraphRunner& graph_runner = *runner.value();
    signals.watch([&graph_runner](const char* signal) { graph_runner.request_stop(signal); });
    logger->info("running graph '{}' ({} nodes, {} channels, segments /dev/shm/dhub1.{}.*)", graph->name,
                 graph->nodes.size(), graph->channels.size(), graph_runner.segment_prefix());
    const ExitCode exit_code = options->duration_s
                                   ? graph_runner.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::duration<double>(*options->duration_s)))
                                   : (graph_runner.start(), graph_runner.wait());
    signals.stop();  // nothing may call into the runner once it starts tearing down
    const auto reports = graph_runner.reports();
    for (const auto& report : reports) {
        const std::string bursts =
            report.burst_calls != 0 ? " (in " + std::to_string(report.burst_calls) + " burst calls)" : "";
        logger->info(
            "node '{}' ({}): {} handled{}, {} skipped, {} errors, {} rejected, {} checksum failures, {} "
            "overwritten{}; {}",
            report.id, report.component, report.handled, bursts, report.skipped, report.errors, report.rejected,
            report.checksum_failures, report.overwritten,
            report.latest_skipped != 0 ? ", " + std::to_string(report.latest_skipped) + " newer-slot skips (latest)"
                                       : std::string(),
            (report.end_detail.empty() ? std::string("finished") : report.end_detail) +
                (report.restarts.empty()
                     ? std::string()
                     : " (process restarted " + std::to_string(report.restarts.size()) + " times)"));
        if (const dhub::runtime::PacingReport& pacing = report.pacing; pacing.rate_hz > 0) {
            logger->info(
                "node '{}' paced at {} Hz: {} ticks, {} late by a period or more, {} skipped; lateness "
                "max {} us, mean {} us",
                report.id, pacing.rate_hz, pacing.ticks, pacing.late_ticks, pacing.skipped_ticks,
                pacing.max_lateness_ns / 1000, pacing.ticks == 0 ? 0 : pacing.total_lateness_ns / pacing.ticks / 1000);
        }
    }
    const auto validator_reports = graph_runner.validator_reports();
    for (const auto& report : validator_reports) {
        std::string reasons;
        for (const auto& [reason, count] : report.reasons)
            reasons += (reasons.empty() ? "" : ", ") + std::to_string(count) + " " + reason;
        logger->info("validator '{}' of channel '{}': {} judged, {} rejected{} ({}{})", report.validator,
                     report.channel, report.judged, report.rejected, reasons.empty() ? "" : ": " + reasons,
                     report.on_reject, report.quarantine.empty() ? "" : " to '" + report.quarantine + "'");
    }
    runner.value().reset();  // destroys nodes, unloads plugins' instances, removes the segments
    if (!options->report_file.empty()) {
        write_report(options->report_file, graph->name, exit_code, reports, validator_reports);
    }
    logger->info("stopped (exit code {})", code(exit_code));
    return code(exit_code);
}
