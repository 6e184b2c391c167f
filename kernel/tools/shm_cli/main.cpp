// SPDX-License-Identifier: Apache-2.0
// dhub-shm: command-line parsing and dispatch. The work is done in commands.cpp.
//
// Parsing happens in two rounds: the first takes the global options and the sub-command name and leaves
// everything after it alone; the second parses those leftovers with the sub-command's own options, so
// `inspect --json` is an error for `gc` rather than silently ignored.
#include <boost/program_options.hpp>

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "commands.hpp"

#ifndef DHUB_VERSION
#error "DHUB_VERSION must be defined by the build (the CMake project version)"
#endif

namespace po = boost::program_options;
using dhub::ExitCode;
using dhub::tools::Console;

namespace {

constexpr const char* USAGE = R"(usage: dhub-shm [--help] [--version] <command> [arguments]

Lists, inspects and repairs dhub DataBlock shared-memory segments (/dev/shm/dhub1.*).

commands:
  list                        one line per segment: channel, size, sync policy, slots x slot bytes,
                              producer pid and liveness, consumers (live/attached), write_seq
  inspect CHANNEL [--json]    everything about one channel: header, producer, flex zone, counters,
                              every slot and every consumer seat (--json: one JSON object)
  recover CHANNEL [--dry-run] evict dead consumers; if the producer is dead, release its lease, reset
                              slots it left mid-write and unlock the flex zone. Live owners are left alone
  remove CHANNEL [--force]    unlink the segment; refused while its producer or a consumer is alive
                              unless --force (processes that have it mapped keep their memory)
  gc [--dry-run] [--force]    remove every segment that no live process uses; a segment whose header
                              is corrupt (or of another layout version) is listed, and removed only
                              with --force; also the counters pages of kernels that no longer run
                              (/dev/shm/dhubctr1.*, docs/counters.md)

)";

std::string exit_codes() {
    return dhub::exit_codes_help({
        {ExitCode::Ok, ""},
        {ExitCode::InvalidInput, "channel not found, corrupt, or in use by a live process"},
        {ExitCode::Usage, "unknown command or option, missing or malformed argument"},
        {ExitCode::RuntimeError, "an OS call failed, or an unexpected error"},
    });
}

/// A boolean option of a sub-command.
struct Flag {
    const char* name;
    const char* help;
};

/// The boolean options given on the command line, by name.
class Flags {
public:
    explicit Flags(std::set<std::string> given) : given_(std::move(given)) {}
    bool operator[](const std::string& name) const { return given_.count(name) != 0; }

private:
    std::set<std::string> given_;
};

/// What a sub-command accepts besides its positional CHANNEL.
struct CommandSpec {
    bool takes_channel = false;
    std::vector<Flag> flags;
    std::function<ExitCode(const Console&, const std::string& channel, const Flags& flags)> run;
};

const std::map<std::string, CommandSpec>& command_specs() {
    using namespace dhub::tools;
    static const std::map<std::string, CommandSpec> specs = {
        {"list", {false, {}, [](const Console& c, const std::string&, const Flags&) { return list_channels(c); }}},
        {"inspect",
         {true,
          {{"json", "print one JSON object with snake_case field names"}},
          [](const Console& c, const std::string& channel, const Flags& f) { return inspect(c, channel, f["json"]); }}},
        {"recover",
         {true,
          {{"dry-run", "only report what would be done"}},
          [](const Console& c, const std::string& channel, const Flags& f) {
              return recover(c, channel, f["dry-run"]);
          }}},
        {"remove",
         {true,
          {{"force", "remove even while a producer or consumer is alive"}},
          [](const Console& c, const std::string& channel, const Flags& f) { return remove(c, channel, f["force"]); }}},
        {"gc",
         {false,
          {{"dry-run", "only report what would be removed"},
           {"force", "also remove segments whose header is corrupt or of another layout version"}},
          [](const Console& c, const std::string&, const Flags& f) {
              return collect_garbage(c, f["dry-run"], f["force"]);
          }}},
    };
    return specs;
}

ExitCode usage_error(const std::string& message) {
    std::cerr << "dhub-shm: " << message << "\n(`dhub-shm --help` lists the commands and their options)\n";
    return ExitCode::Usage;
}

ExitCode run_command(const std::string& name, const std::vector<std::string>& arguments) {
    const auto found = command_specs().find(name);
    if (found == command_specs().end()) return usage_error("unknown command '" + name + "'");
    const CommandSpec& spec = found->second;

    po::options_description options(name + " options");
    for (const Flag& flag : spec.flags)
        options.add_options()(flag.name, flag.help);
    po::options_description hidden;
    hidden.add_options()("channel", po::value<std::string>());
    po::options_description all;
    all.add(options).add(hidden);
    po::positional_options_description positional;
    if (spec.takes_channel) positional.add("channel", 1);

    po::variables_map values;
    try {
        po::store(po::command_line_parser(arguments).options(all).positional(positional).run(), values);
        po::notify(values);
    } catch (const po::error& error) {
        return usage_error(name + ": " + error.what());
    }
    std::string channel;
    if (spec.takes_channel) {
        if (values.count("channel") == 0) return usage_error(name + ": missing the CHANNEL argument");
        channel = values["channel"].as<std::string>();
    } else if (values.count("channel") != 0) {
        return usage_error(name + ": takes no CHANNEL argument");
    }
    std::set<std::string> given;
    for (const Flag& flag : spec.flags) {
        if (values.count(flag.name) != 0) given.insert(flag.name);
    }
    return spec.run(Console{std::cout, std::cerr}, channel, Flags(std::move(given)));
}

}  // namespace

int main(int argc, char** argv) {
    po::options_description global("options");
    global.add_options()("help,h", "print this help and exit")("version", "print the version and exit");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>())("arguments", po::value<std::vector<std::string>>());
    po::options_description all;
    all.add(global).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("arguments", -1);

    po::variables_map values;
    po::parsed_options parsed(&all);
    try {
        // Unknown options are left for the sub-command, which knows its own.
        parsed = po::command_line_parser(argc, argv).options(all).positional(positional).allow_unregistered().run();
        po::store(parsed, values);
        po::notify(values);
    } catch (const po::error& error) {
        return static_cast<int>(usage_error(error.what()));
    }

    if (values.count("help") != 0) {
        std::cout << USAGE << global << exit_codes();
        return static_cast<int>(ExitCode::Ok);
    }
    if (values.count("version") != 0) {
        std::cout << "dhub-shm " << DHUB_VERSION << "\n";
        return static_cast<int>(ExitCode::Ok);
    }
    if (values.count("command") == 0) return static_cast<int>(usage_error("missing command"));

    const std::string command = values["command"].as<std::string>();
    // Everything the first round did not consume, minus the command word itself.
    std::vector<std::string> arguments = po::collect_unrecognized(parsed.options, po::include_positional);
    if (const auto word = std::find(arguments.begin(), arguments.end(), command); word != arguments.end()) {
        arguments.erase(word);
    }
    try {
        return static_cast<int>(run_command(command, arguments));
    } catch (const std::exception& error) {
        // Output formatting or allocation failures: report them rather than abort with a core dump.
        std::cerr << "dhub-shm " << command << ": unexpected error: " << error.what() << "\n";
        return static_cast<int>(ExitCode::RuntimeError);
    }
}
