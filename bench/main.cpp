// SPDX-License-Identifier: Apache-2.0
// dhub-bench: dhub against the physical baselines and peer transports on this machine.
// Output: a table (stdout), or with --json one JSON object per case on stdout and the table on
// stderr. Exit status: 0 when every selected raw/dhub group ran; peer groups (iceoryx, ZeroMQ)
// may fail or be skipped without failing the run, because they depend on what is installed.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "bench_cases.hpp"
#include "harness/child_process.hpp"
#include "harness/registry.hpp"

namespace {

namespace po = boost::program_options;
using dhub::bench::BenchOptions;
using dhub::bench::CaseResult;

constexpr int EXIT_USAGE = 2;

bool is_required_group(const std::string& name) {
    return name.rfind("raw", 0) == 0 || name.rfind("dhub", 0) == 0;
}

dhub::bench::Registry build_registry() {
    dhub::bench::Registry registry;
    dhub::bench::register_dhub_cases(registry);
    dhub::bench::register_raw_cases(registry);
#ifdef DHUB_BENCH_HAVE_BROKER
    dhub::bench::register_broker_cases(registry);
#endif
#ifdef DHUB_BENCH_HAVE_TRANSPORT
    dhub::bench::register_transport_cases(registry);
#endif
#ifdef DHUB_BENCH_HAVE_KAFKA
    dhub::bench::register_kafka_cases(registry);
#endif
#ifdef DHUB_HAVE_ICEORYX
    dhub::bench::register_iceoryx_cases(registry);
#endif
#ifdef DHUB_HAVE_ZEROMQ
    dhub::bench::register_zeromq_cases(registry);
#endif
    return registry;
}

int run(int argc, char** argv) {
    bool json = false;
    bool quick = false;
    bool list = false;
    std::string filter;
    int producer_core = 0;
    int consumer_core = 1;
    po::options_description description(
        "Usage: dhub-bench [options]\n"
        "Measures dhub, raw shared-memory baselines and peer transports between pinned processes.\n"
        "Options");
    // One option per line reads better than the formatter's packing.
    // clang-format off
    description.add_options()
        ("help,h", "print this help")
        ("json", po::bool_switch(&json), "JSON lines on stdout (one object per case); table on stderr")
        ("quick", po::bool_switch(&quick), "short runs for a CI smoke test (noisier numbers)")
        ("filter", po::value(&filter)->value_name("SUBSTR"),
         "run only groups whose name contains SUBSTR (see --list)")
        ("producer-core", po::value(&producer_core)->value_name("N")->default_value(0),
         "core of the producer / pinger")
        ("consumer-core", po::value(&consumer_core)->value_name("N")->default_value(1),
         "core of the consumer / responder")
        ("list", po::bool_switch(&list), "list the benchmark groups and exit");
    // clang-format on
    po::variables_map variables;
    try {
        po::store(po::command_line_parser(argc, argv).options(description).run(), variables);
        po::notify(variables);
    } catch (const po::error& e) {
        std::cerr << "dhub-bench: " << e.what() << "\n" << description << "\n";
        return EXIT_USAGE;
    }
    if (variables.count("help") != 0) {
        std::cout << description << "\n";
        return EXIT_SUCCESS;
    }

    const dhub::bench::Registry registry = build_registry();
    if (list) {
        for (const auto& group : registry.groups())
            std::cout << group.name << "  -  " << group.description << "\n";
        return EXIT_SUCCESS;
    }

    const int cpus = dhub::bench::usable_cpu_count();
    for (int core : {producer_core, consumer_core}) {
        if (core < 0 || core >= cpus) {
            std::cerr << "dhub-bench: core " << core << " is not usable (this process may use " << cpus << " cores)\n";
            return EXIT_USAGE;
        }
    }
    if (producer_core == consumer_core) {
        std::cerr << "dhub-bench: warning: producer and consumer share core " << producer_core
                  << "; cross-core rows will measure one core\n";
    }

    BenchOptions options = BenchOptions::defaults(quick);
    options.filter = filter;
    options.producer_core = producer_core;
    options.consumer_core = consumer_core;

    const auto selected = registry.select(filter);
    if (selected.empty()) {
        std::cerr << "dhub-bench: no benchmark group matches '" << filter << "' (see --list)\n";
        return EXIT_USAGE;
    }

    std::vector<CaseResult> all_results;
    std::vector<std::string> problems;
    bool required_failed = false;
    for (const auto* group : selected) {
        // Placement probe: on a VM the cross-core cost can change between (and during) runs.
        std::string placement = "c2c rt n/a";
        if (options.producer_core != options.consumer_core) {  // spinning on one core would take seconds
            try {
                char text[64];
                std::snprintf(text, sizeof text, "c2c rt %.2f us", dhub::bench::probe_core_to_core_ns(options) * 1e-3);
                placement = text;
            } catch (const std::exception&) {
                placement = "c2c rt ?";
            }
        }
        std::cerr << "[" << group->name << "] (" << placement << ")" << std::endl;
        std::vector<CaseResult> results;
        try {
            results = group->run(options);
        } catch (const dhub::bench::SkipGroup& e) {
            std::cerr << "  skipped: " << e.what() << std::endl;
            problems.push_back(group->name + ": skipped: " + e.what());
            continue;
        } catch (const std::exception& e) {
            std::cerr << "  FAILED: " << e.what() << std::endl;
            problems.push_back(group->name + ": FAILED: " + e.what());
            required_failed = required_failed || is_required_group(group->name);
            continue;
        }
        for (CaseResult& result : results) {
            result.note += (result.note.empty() ? "" : "; ") + placement;
            if (!result.failed()) continue;
            problems.push_back(group->name + ": " + result.case_name + " " + result.transport + " " +
                               std::to_string(result.payload_bytes) + " B: " + result.error);
            required_failed = required_failed || is_required_group(group->name);
        }
        // Streamed per group, so a run that is interrupted later still leaves its data behind.
        if (json) dhub::bench::print_json_lines(std::cout, results);
        all_results.insert(all_results.end(), results.begin(), results.end());
    }

    std::ostream& table_out = json ? std::cerr : std::cout;
    dhub::bench::print_table(table_out, all_results);
    if (!problems.empty()) {
        std::cerr << "\nProblems:\n";
        for (const std::string& problem : problems)
            std::cerr << "  " << problem << "\n";
    }
    return required_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "dhub-bench: " << e.what() << "\n";
        return EXIT_FAILURE;
    }
}
