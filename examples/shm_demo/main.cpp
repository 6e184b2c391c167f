// SPDX-License-Identifier: Apache-2.0
// dhub-shm-demo: a producer process and a consumer process exchanging frames over a DataBlock channel.
// `dhub-shm-demo --help` lists the options; roles.hpp describes the halves.
#include "demo_options.hpp"
#include "roles.hpp"
#include "stop_signal.hpp"

int main(int argc, char** argv) {
    using namespace dhub::demo;
    const ParsedCommandLine parsed = parse_command_line(argc, argv);
    if (parsed.exit_code) return *parsed.exit_code;
    install_stop_handler();
    switch (parsed.options.role) {
        case Role::Producer:
            return run_producer(parsed.options, 0);
        case Role::Consumer:
            return run_consumer(parsed.options);
        case Role::Both:
            break;
    }
    return run_producer_and_consumer(parsed.options);
}
