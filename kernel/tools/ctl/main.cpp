// SPDX-License-Identifier: Apache-2.0
// dhub-ctl: looks at the kernels running on this host. Each kernel publishes its counters in a shared-memory page
// (docs/counters.md); dhub-ctl finds the pages, picks the kernel (--kernel, or the only one) and prints what it
// asks for, as text or --json. Nothing here writes to a kernel's memory: the page is mapped read-only.
#include <sys/mman.h>
#include <unistd.h>

#include <boost/program_options.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "broker_view.hpp"
#include "control_client.hpp"
#include "dhub/base/exit_code.hpp"
#include "discovery.hpp"
#include "event_stream.hpp"
#include "top.hpp"
#include "views.hpp"

#ifndef DHUB_VERSION
#error "DHUB_VERSION must be defined by the build (the CMake project version)"
#endif

namespace po = boost::program_options;
using dhub::ExitCode;
using dhub::to_int;

namespace {

constexpr const char* USAGE = R"(usage: dhub-ctl [options] <command>

Shows the dhub kernels running on this host, from the counters page each one publishes in /dev/shm
(readable while a kernel is busy, wedged or stopped), and sends them commands on their control endpoint
(docs/control.md).

commands:
  kernels     every kernel that publishes counters: pid, graph, nodes, state (and stale pages of dead ones)
  status      the kernel: graph, state, whether its main thread still beats, nodes running, errors
  nodes       per node: state (or why it ended), slots and bytes in and out, errors, skipped, the handler's
              p99 time and the share of time spent waiting (both sampled, one step in 64)
  channels    per channel: its producer, slots written, fill; per reader its lag and skipped slots; per
              reading node the slots it missed (a latest-only input's gaps)
  events      the kernel's recent events, one JSON object per line (docs/kernel.md, "Events");
              --follow: then every new one as it happens, until Ctrl-C or the kernel's end
  top         a live view, redrawn every second: per node its state, slots/s, MB/s, errors, handler p99
              and CPU; per channel its fill, slowest lag and readers' gaps. q or Ctrl-C ends it
  pause NODE  pause a running node: it takes no slot until resumed (docs/kernel.md, "A node's life")
  resume NODE resume it
  swap NODE --plugin P [--component C] [--params JSON]
              replace a running node's component without losing a slot: the old instance finishes its step,
              the new one (created and started first; if it cannot be, the old one runs on) reads the next
              slot. --params: the new parameters (default: the node's own). Prints the fence and the pause
  add NODE-JSON [--channels JSON]
              add a node (a recorder, a stage) to the running graph: NODE-JSON (or @FILE) is the node as a graph's "nodes"
              lists it, --channels the new channels it writes, as "channels" lists them. It reads its inputs
              from the next slot written; prints once it runs (if it cannot start, nothing of it stays)
  remove NODE stop a node for good and take it out of the running graph with the channels it writes (no other
              node may read them); its seats go back. Prints its final counts
  params get NODE [NAME]
              the parameters a node runs with, and which of them are live-tunable
  params set NODE NAME VALUE
              change a live-tunable parameter while the node runs (VALUE is read as JSON if it is: 2, true,
              "text"; else as a string); the component hears of it between two slots, and may refuse
  stop        stop the graph gracefully, as Ctrl-C in its terminal would
  clean       remove the pages that killed kernels left behind; with --force also pages that cannot be read
              (never set up, damaged, another layout) and are older than 10 s: only when no kernel of another
              dhub version runs

dhub-ctl --broker tcp://HOST:PORT [kernels|channels] lists every kernel and channel a broker knows (with
--server-key and --key for a CURVE broker): kernels on other hosts, by the channels they publish.

A kernel on another host (dhub-kernel --control-tcp): --endpoint tcp://HOST:PORT --server-key KEY --key FILE
sends status, events, params, pause, resume, swap, add, remove and stop there, over CurveZMQ (docs/control.md, "Over TCP"); the
other commands read the counters page, which only the kernel's own host has.

)";

struct Options {
    std::string command;
    std::string argument;           ///< the node of pause, resume, swap, remove; get or set for params; add's JSON
    std::vector<std::string> more;  ///< params: NODE [NAME [VALUE]]
    std::string plugin;             ///< swap
    std::string component;          ///< swap
    std::string params;             ///< swap: JSON text, "" to keep the node's
    std::string channels;           ///< add: JSON text of the new channels, "" for none
    std::string endpoint;           ///< --endpoint: talk to this control endpoint instead of finding a kernel here
    std::string broker;             ///< --broker: list what this broker knows
    std::string server_key;         ///< --server-key: its public key (Z85 or a .pub file)
    std::string key;                ///< --key: this client's secret key file
    std::string kernel;
    bool json = false;
    bool force = false;
    bool follow = false;
    double interval_s = 1.0;
    int frames = 0;
};

int print(const nlohmann::json& value, const std::string& text, bool json) {
    std::cout << (json ? value.dump(2) + "\n" : text);
    return to_int(ExitCode::Ok);
}

int clean(bool json, bool force) {
    nlohmann::json removed = nlohmann::json::array();
    for (const dhub::ctl::FoundKernel& kernel : dhub::ctl::find_kernels()) {
        const bool dead =
            kernel.error.empty() ? !kernel.counters.alive : force && dhub::counters::left_by_dead_kernel(kernel.file);
        if (!dead) continue;
        // Its control socket too, when a kill left it (a kernel that ends removes it).
        const std::string& endpoint = kernel.counters.control_endpoint;
        if (endpoint.starts_with("ipc://") && ::unlink(endpoint.substr(6).c_str()) == 0) {
            removed.push_back(endpoint.substr(6));
        }
        if (::shm_unlink(("/" + kernel.file).c_str()) == 0) removed.push_back("/dev/shm/" + kernel.file);
    }
    std::string text;
    for (const auto& file : removed)
        text += "removed " + file.get<std::string>() + "\n";
    return print(removed, text.empty() ? "nothing to remove\n" : text, json);
}

/// JSON text, or "@FILE" for a file's; what is wrong with it, if anything.
std::optional<nlohmann::json> read_json_argument(const std::string& text, const std::string& what) {
    std::string content = text;
    if (text.starts_with("@")) {
        std::ifstream file(text.substr(1));
        std::ostringstream read;
        read << file.rdbuf();
        if (!file) {
            std::cerr << "dhub-ctl: cannot read " << what << " from " << text.substr(1) << "\n";
            return std::nullopt;
        }
        content = read.str();
    }
    nlohmann::json value = nlohmann::json::parse(content, nullptr, false);
    if (value.is_discarded()) {
        std::cerr << "dhub-ctl: " << what << " is not JSON: " << content << "\n";
        return std::nullopt;
    }
    return value;
}

/// add's request: the node, and the new channels if --channels names any.
std::optional<nlohmann::json> add_request(const Options& options) {
    auto spec = read_json_argument(options.argument, "the node");
    if (!spec) return std::nullopt;
    if (!spec->is_object()) {
        std::cerr << "dhub-ctl: the node must be a JSON object, as a graph's \"nodes\" lists it "
                     "('{\"id\": \"rec\", \"plugin\": \"recorder\", \"inputs\": [\"raw\"], ...}')\n";
        return std::nullopt;
    }
    nlohmann::json request = {{"cmd", "add"}, {"spec", *spec}};
    if (!options.channels.empty()) {
        auto channels = read_json_argument(options.channels, "--channels");
        if (!channels) return std::nullopt;
        if (!channels->is_array()) {
            std::cerr << "dhub-ctl: --channels must be a JSON array, as a graph's \"channels\" lists them\n";
            return std::nullopt;
        }
        request["channels"] = *channels;
    }
    return request;
}

/// pause, resume, swap, add, remove or stop, sent to endpoint; graph names the kernel in what is printed.
int send_command(const Options& options,
                 const std::string& endpoint,
                 const dhub::ctl::CurveKeys* curve,
                 const std::string& graph) {
    nlohmann::json request = {{"cmd", options.command}};
    if (options.command == "add") {
        auto add = add_request(options);
        if (!add) return to_int(ExitCode::Usage);
        request = std::move(*add);
    } else if (options.command != "stop") {
        request["node"] = options.argument;
    }
    if (options.command == "swap") {
        request["plugin"] = options.plugin;
        if (!options.component.empty()) request["component"] = options.component;
        if (!options.params.empty()) {
            const nlohmann::json params = nlohmann::json::parse(options.params, nullptr, false);
            if (!params.is_object()) {
                std::cerr << "dhub-ctl: --params must be a JSON object ('{\"gain\": 2}'), got: " << options.params
                          << "\n";
                return to_int(ExitCode::Usage);
            }
            request["params"] = params;
        }
    }
    // A swap waits for the node's step to end (at most 5 s) and for the new instance to start; an add for its node
    // to start, a remove for its node to end.
    const bool slow = options.command == "swap" || options.command == "add" || options.command == "remove";
    const auto timeout = slow ? std::chrono::seconds(30) : std::chrono::seconds(5);
    auto reply = dhub::ctl::call(endpoint, request, timeout, curve);
    if (!reply) {
        std::cerr << "dhub-ctl: " << reply.error().message << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    const nlohmann::json& answer = reply.value();
    if (answer.value("ok", false) && options.command == "swap") {
        return print(answer, dhub::ctl::swap_text(answer), options.json);
    }
    if (answer.value("ok", false) && options.command == "add") {
        return print(answer, dhub::ctl::added_text(answer), options.json);
    }
    if (answer.value("ok", false) && options.command == "remove") {
        return print(answer, dhub::ctl::removed_text(answer), options.json);
    }
    if (answer.value("ok", false)) {
        return print(answer,
                     options.command == "stop" ? "stopping graph '" + graph + "'\n"
                                               : options.command + "d '" + options.argument + "'\n",
                     options.json);
    }
    std::cerr << "dhub-ctl: " << answer["error"].value("message", "refused") << "\n";
    if (options.json) std::cout << answer.dump(2) << "\n";
    return to_int(ExitCode::InvalidInput);
}

/// params get|set, sent to endpoint.
int run_params(const Options& options, const std::string& endpoint, const dhub::ctl::CurveKeys* curve) {
    const std::string& node = options.more[0];
    nlohmann::json request = {{"cmd", options.argument == "get" ? "params" : "set_param"}, {"node", node}};
    if (options.argument == "set") {
        // 2, 2.5, true and "text" are JSON; anything else (sine, /data/run7) is meant as a string.
        nlohmann::json value = nlohmann::json::parse(options.more[2], nullptr, false);
        if (value.is_discarded() || value.is_object() || value.is_array() || value.is_null()) value = options.more[2];
        request["name"] = options.more[1];
        request["value"] = value;
    }
    auto reply = dhub::ctl::call(endpoint, request, std::chrono::seconds(10), curve);
    if (!reply) {
        std::cerr << "dhub-ctl: " << reply.error().message << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    const nlohmann::json& answer = reply.value();
    if (!answer.value("ok", false)) {
        std::cerr << "dhub-ctl: " << answer["error"].value("message", "refused") << "\n";
        if (options.json) std::cout << answer.dump(2) << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    if (options.argument == "set") {
        return print(answer,
                     node + ": " + answer.value("name", std::string()) + " " + answer["from"].dump() + " -> " +
                         answer["to"].dump() + "\n",
                     options.json);
    }
    const nlohmann::json params = answer.value("params", nlohmann::json::object());
    const nlohmann::json live = answer.value("live", nlohmann::json::array());
    const auto is_live = [&](const std::string& name) {
        return std::find(live.begin(), live.end(), name) != live.end();
    };
    if (options.more.size() > 1) {
        const std::string& name = options.more[1];
        if (!params.contains(name)) {
            std::cerr << "dhub-ctl: node '" << node << "' has no parameter \"" << name << "\"\n";
            return to_int(ExitCode::InvalidInput);
        }
        return print({{"node", node}, {"name", name}, {"value", params[name]}, {"live", is_live(name)}},
                     params[name].dump() + "\n", options.json);
    }
    std::string text;
    for (const auto& [name, value] : params.items())
        text += name + " = " + value.dump() + (is_live(name) ? "  (live)" : "") + "\n";
    return print(answer, text.empty() ? "no parameters\n" : text, options.json);
}

/// --endpoint: a kernel known by its control endpoint, maybe on another host. Only what the protocol carries.
int run_remote(const Options& options) {
    std::optional<dhub::ctl::CurveKeys> curve;
    if (options.endpoint.starts_with("tcp://")) {
        auto keys = dhub::ctl::load_curve_keys(options.server_key, options.key);
        if (!keys) {
            std::cerr << "dhub-ctl: " << keys.error().message << "\n";
            return to_int(ExitCode::Usage);
        }
        curve = keys.value();
    }
    const dhub::ctl::CurveKeys* keys = curve ? &*curve : nullptr;
    const auto ask = [&](const nlohmann::json& request) -> std::optional<nlohmann::json> {
        auto reply = dhub::ctl::call(options.endpoint, request, std::chrono::seconds(5), keys);
        if (!reply) {
            std::cerr << "dhub-ctl: " << reply.error().message << "\n";
            return std::nullopt;
        }
        if (!reply.value().value("ok", false)) {
            std::cerr << "dhub-ctl: " << reply.value()["error"].value("message", "refused") << "\n";
            return std::nullopt;
        }
        return reply.value();
    };
    if (options.command == "status") {
        const auto status = ask({{"cmd", "status"}});
        if (!status) return to_int(ExitCode::InvalidInput);
        return print(*status, dhub::ctl::remote_status_text(*status), options.json);
    }
    if (options.command == "events") {
        if (options.follow) {
            std::cerr << "dhub-ctl: events --follow over --endpoint is not there yet (events without it is)\n";
            return to_int(ExitCode::Usage);
        }
        const auto events = ask({{"cmd", "events"}});
        if (!events) return to_int(ExitCode::InvalidInput);
        for (const nlohmann::json& entry : events->value("events", nlohmann::json::array()))
            std::cout << entry["event"].dump() << "\n";
        return to_int(ExitCode::Ok);
    }
    if (options.command == "params") return run_params(options, options.endpoint, keys);
    if (options.command == "pause" || options.command == "resume" || options.command == "stop" ||
        options.command == "swap" || options.command == "add" || options.command == "remove") {
        const auto hello = ask({{"cmd", "hello"}});
        if (!hello) return to_int(ExitCode::InvalidInput);
        return send_command(options, options.endpoint, keys, hello->value("graph", std::string()));
    }
    std::cerr << "dhub-ctl: " << options.command
              << " reads the kernel's counters page, which only its own host has: run it there (over --endpoint: "
                 "status, events, params, pause, resume, swap, add, remove, stop)\n";
    return to_int(ExitCode::Usage);
}

/// --broker: what a broker knows.
int run_broker(const Options& options) {
    std::optional<dhub::ctl::CurveKeys> curve;
    if (!options.server_key.empty() || !options.key.empty()) {
        auto keys = dhub::ctl::load_curve_keys(options.server_key, options.key);
        if (!keys) {
            std::cerr << "dhub-ctl: " << keys.error().message << "\n";
            return to_int(ExitCode::Usage);
        }
        curve = keys.value();
    }
    return dhub::ctl::show_broker(options.broker, curve ? &*curve : nullptr, options.command, options.json);
}

int run(const Options& options) {
    if (!options.broker.empty()) return run_broker(options);
    if (!options.endpoint.empty()) return run_remote(options);
    if (options.command == "kernels") {
        const auto kernels = dhub::ctl::find_kernels();
        return print(dhub::ctl::kernels_json(kernels), dhub::ctl::kernels_text(kernels), options.json);
    }
    if (options.command == "clean") return clean(options.json, options.force);
    auto page = dhub::ctl::open_kernel(options.kernel);
    if (!page) {
        std::cerr << "dhub-ctl: " << page.error().message << "\n";
        return to_int(ExitCode::InvalidInput);
    }
    const dhub::counters::KernelCounters kernel = page.value().read();
    if (options.command == "pause" || options.command == "resume" || options.command == "stop" ||
        options.command == "swap" || options.command == "add" || options.command == "remove") {
        return send_command(options, kernel.control_endpoint, nullptr, kernel.graph);
    }
    if (options.command == "params") return run_params(options, kernel.control_endpoint, nullptr);
    if (options.command == "events") {
        return dhub::ctl::stream_events(page.value(), kernel.control_endpoint, options.follow);
    }
    if (options.command == "top") {
        dhub::ctl::TopOptions top;
        top.interval = std::chrono::milliseconds(static_cast<std::int64_t>(options.interval_s * 1000));
        top.frames = options.frames;
        return dhub::ctl::run_top(page.value(), top);
    }
    if (options.command == "status") {
        return print(dhub::ctl::status_json(kernel), dhub::ctl::status_text(kernel), options.json);
    }
    if (options.command == "nodes") {
        return print(dhub::ctl::nodes_json(kernel), dhub::ctl::nodes_text(kernel), options.json);
    }
    const nlohmann::json channels = dhub::ctl::channels_json(kernel);
    return print(channels, dhub::ctl::channels_text(channels), options.json);
}

/// run(), with what it throws reported as an unexpected error.
int run_guarded(const Options& options) {
    try {
        return run(options);
    } catch (const std::exception& error) {
        std::cerr << "dhub-ctl: " << error.what() << "\n";
        return to_int(ExitCode::RuntimeError);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    po::options_description visible("options");
    visible.add_options()                 //
        ("help,h", "show this help")      //
        ("version", "print the version")  //
        ("kernel,k", po::value<std::string>(&options.kernel)->value_name("PID|GRAPH|PREFIX"),
         "the kernel to look at when several run (its pid, its graph's name or its segment prefix)")  //
        ("json", "print JSON instead of text")                                                        //
        ("endpoint", po::value<std::string>(&options.endpoint)->value_name("ENDPOINT"),
         "talk to the kernel at this control endpoint (tcp://HOST:PORT of --control-tcp, or an ipc:// one) instead "
         "of finding one on this host")  //
        ("broker", po::value<std::string>(&options.broker)->value_name("tcp://HOST:PORT"),
         "list the kernels and channels this broker knows (kernels or channels: only those)")  //
        ("server-key", po::value<std::string>(&options.server_key)->value_name("KEY|FILE"),
         "with a tcp:// --endpoint: the kernel's public key (Z85, or its .pub file)")  //
        ("key", po::value<std::string>(&options.key)->value_name("FILE"),
         "with a tcp:// --endpoint: this client's secret key file (dhub-keygen), whose public key the kernel's "
         "--control-allow lists")                                                                                 //
        ("plugin", po::value<std::string>(&options.plugin)->value_name("P"), "swap: the new component's plugin")  //
        ("component", po::value<std::string>(&options.component)->value_name("C"),
         "swap: its component, when the plugin has several")  //
        ("params", po::value<std::string>(&options.params)->value_name("JSON"),
         "swap: its parameters, a JSON object (default: the node's own)")  //
        ("channels", po::value<std::string>(&options.channels)->value_name("JSON"),
         "add: the new channels the node writes, a JSON array (or @FILE) as a graph's \"channels\" lists them")  //
        ("force", "clean: also pages that cannot be read and are older than 10 s")                               //
        ("follow,f", "events: go on printing new events as they happen")                                         //
        ("interval", po::value<double>(&options.interval_s)->value_name("SECONDS"),
         "top: redraw this often (default 1)")  //
        ("frames", po::value<int>(&options.frames)->value_name("N"), "top: end after N frames (default: on q)");
    po::options_description hidden;
    hidden.add_options()("command", po::value<std::string>(&options.command))  //
        ("argument", po::value<std::string>(&options.argument))                //
        ("more", po::value<std::vector<std::string>>(&options.more));
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("argument", 1).add("more", -1);
    po::variables_map values;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), values);
        po::notify(values);
    } catch (const po::error& error) {
        std::cerr << "dhub-ctl: " << error.what() << " (see dhub-ctl --help)\n";
        return to_int(ExitCode::Usage);
    }
    if (values.count("help") != 0) {
        std::cout << USAGE << visible << "\n"
                  << dhub::exit_codes_help({{ExitCode::Ok, ""},
                                            {ExitCode::InvalidInput,
                                             "no kernel runs, none matches --kernel, several match, or its page "
                                             "cannot be read"},
                                            {ExitCode::Usage, ""},
                                            {ExitCode::RuntimeError, "an unexpected error"}});
        return to_int(ExitCode::Ok);
    }
    if (values.count("version") != 0) {
        std::cout << "dhub-ctl " << DHUB_VERSION << "\n";
        return to_int(ExitCode::Ok);
    }
    options.json = values.count("json") != 0;
    options.force = values.count("force") != 0;
    options.follow = values.count("follow") != 0;
    static const std::vector<std::string> COMMANDS = {"kernels", "status", "nodes",  "channels", "events",
                                                      "top",     "pause",  "resume", "swap",     "add",
                                                      "remove",  "params", "stop",   "clean"};
    if (!options.broker.empty()) {
        if (!options.endpoint.empty() || !options.kernel.empty() ||
            !(options.command.empty() || options.command == "kernels" || options.command == "channels") ||
            !options.argument.empty()) {
            std::cerr << "dhub-ctl: --broker lists kernels and channels: dhub-ctl --broker tcp://HOST:PORT "
                         "[kernels|channels]\n";
            return to_int(ExitCode::Usage);
        }
        return run_guarded(options);
    }
    if (options.command.empty() || std::find(COMMANDS.begin(), COMMANDS.end(), options.command) == COMMANDS.end()) {
        std::cerr << "dhub-ctl: "
                  << (options.command.empty() ? "no command given" : "unknown command '" + options.command + "'")
                  << " (commands: kernels, status, nodes, channels, events, top, pause, resume, swap, add, remove, "
                     "params, stop, clean; see "
                     "dhub-ctl --help)\n";
        return to_int(ExitCode::Usage);
    }
    if (!(options.interval_s >= 0.05 && options.interval_s <= 3600) || options.frames < 0) {
        std::cerr << "dhub-ctl: --interval must be 0.05 to 3600 seconds and --frames 0 or more\n";
        return to_int(ExitCode::Usage);
    }
    if (options.command == "params") {
        const bool get = options.argument == "get" && (options.more.size() == 1 || options.more.size() == 2);
        const bool set = options.argument == "set" && options.more.size() == 3;
        if (!get && !set) {
            std::cerr << "dhub-ctl: params get NODE [NAME], or params set NODE NAME VALUE\n";
            return to_int(ExitCode::Usage);
        }
    } else if (!options.more.empty()) {
        std::cerr << "dhub-ctl: " << options.command << " takes at most one argument, found '" << options.more[0]
                  << "' too\n";
        return to_int(ExitCode::Usage);
    }
    const bool takes_node = options.command == "pause" || options.command == "resume" || options.command == "swap" ||
                            options.command == "params" || options.command == "add" || options.command == "remove";
    if (takes_node == options.argument.empty()) {
        std::cerr << "dhub-ctl: " << options.command
                  << (options.command == "add" ? " needs the node (dhub-ctl add NODE-JSON [--channels JSON])"
                      : takes_node             ? " needs the node's id (dhub-ctl " + options.command + " NODE)"
                                               : " takes no argument, found '" + options.argument + "'")
                  << "\n";
        return to_int(ExitCode::Usage);
    }
    if (options.endpoint.empty() && !(options.server_key.empty() && options.key.empty())) {
        std::cerr << "dhub-ctl: --server-key and --key go with a tcp:// --endpoint\n";
        return to_int(ExitCode::Usage);
    }
    if ((options.command == "swap") == options.plugin.empty() ||
        (options.command != "swap" && !(options.component.empty() && options.params.empty()))) {
        std::cerr << "dhub-ctl: "
                  << (options.command == "swap" ? "swap needs --plugin (dhub-ctl swap NODE --plugin P)"
                                                : "--plugin, --component and --params are for swap")
                  << "\n";
        return to_int(ExitCode::Usage);
    }
    if (options.command != "add" && !options.channels.empty()) {
        std::cerr << "dhub-ctl: --channels is for add\n";
        return to_int(ExitCode::Usage);
    }
    return run_guarded(options);
}
