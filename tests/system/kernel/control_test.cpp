// SPDX-License-Identifier: Apache-2.0
// A running dhub-kernel's control endpoint (docs/control.md), driven by dhub-ctl and by a raw ZeroMQ client:
// pause, resume and stop do what they say and are events; the socket is the user's only; garbage of every
// shape — frames, sizes, bytes, wrong keys, unknown commands — is refused or dropped while the graph runs on.
#include <signal.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

/// Waits until the kernel publishes its page and runs.
void wait_running(const TempDir& dir, const std::string& pid) {
    ASSERT_TRUE(wait_until(
        [&] {
            const json sink = node_of(dir, pid, "sink");
            return !sink.is_null() && sink["slots_in"].get<std::uint64_t>() > 10;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50)));
}

std::string endpoint_of(const TempDir& dir, const std::string& pid) {
    const json status = ctl(dir, {"status", "--json", "--kernel", pid}).value;
    return status.is_object() ? status.value("control_endpoint", "") : "";
}

TEST(Control_test, PauseResumeAndStopDoWhatTheySayAndAreEvents) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctlrun")));
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);

    const CtlRun paused = ctl(dir, {"pause", "sink", "--kernel", pid});
    ASSERT_EQ(paused.code, 0) << paused.err;
    EXPECT_EQ(node_of(dir, pid, "sink")["state"], "paused");
    const auto held = node_of(dir, pid, "sink")["slots_in"].get<std::uint64_t>();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(node_of(dir, pid, "sink")["slots_in"].get<std::uint64_t>(), held) << "a paused node takes no slot";

    const CtlRun twice = ctl(dir, {"pause", "sink", "--kernel", pid});
    EXPECT_EQ(twice.code, 1);
    EXPECT_NE(twice.err.find("only a running node can be paused"), std::string::npos) << twice.err;
    const CtlRun nobody = ctl(dir, {"pause", "nobody", "--kernel", pid});
    EXPECT_EQ(nobody.code, 1);
    EXPECT_NE(nobody.err.find("the graph has no node 'nobody'"), std::string::npos) << nobody.err;
    EXPECT_EQ(ctl(dir, {"pause", "--kernel", pid}).code, 2) << "pause needs a node";

    ASSERT_EQ(ctl(dir, {"resume", "sink", "--kernel", pid}).code, 0);
    EXPECT_TRUE(wait_until([&] { return node_of(dir, pid, "sink")["slots_in"].get<std::uint64_t>() > held + 100; }));

    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(30)));
    EXPECT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(run.node("sink")["slots_in"], run.node("tick")["slots_out"]) << "stopped gracefully: nothing lost";
    EXPECT_EQ(count_events(dir, "stop_requested", {{"cause", "control"}}), 1u);
    EXPECT_EQ(count_events(dir, "control", {{"command", "pause"}, {"node", "sink"}, {"ok", true}}), 1u);
    EXPECT_EQ(count_events(dir, "control", {{"command", "pause"}, {"node", "sink"}, {"ok", false}}), 1u);
    EXPECT_EQ(count_events(dir, "control", {{"command", "resume"}, {"ok", true}}), 1u);
    EXPECT_EQ(count_events(dir, "node_state", {{"node", "sink"}, {"to", "paused"}}), 1u);
}

TEST(Control_test, TheSocketIsTheUsersOnlyAndGoesWithTheKernel) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctlperm")));
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);
    const std::string endpoint = endpoint_of(dir, pid);
    ASSERT_TRUE(endpoint.starts_with("ipc://")) << endpoint;
    const std::string path = endpoint.substr(6);
    struct stat socket_info {};
    ASSERT_EQ(::stat(path.c_str(), &socket_info), 0) << path;
    EXPECT_TRUE(S_ISSOCK(socket_info.st_mode));
    EXPECT_EQ(socket_info.st_mode & 0777, 0600u);
    struct stat directory_info {};
    ASSERT_EQ(::stat(std::filesystem::path(path).parent_path().c_str(), &directory_info), 0);
    EXPECT_EQ(directory_info.st_mode & 0777, 0700u);
    EXPECT_EQ(directory_info.st_uid, ::geteuid());
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
    EXPECT_FALSE(std::filesystem::exists(path)) << "the socket goes with its kernel";
}

TEST(Control_test, GarbageOfEveryShapeIsRefusedOrDroppedAndTheGraphRunsOn) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctlfuzz")));
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);
    const std::string endpoint = endpoint_of(dir, pid);
    ASSERT_FALSE(endpoint.empty());

    zmq::context_t context{1};
    // A DEALER sends any frames it likes; replies to what the kernel took for a request come back on it.
    zmq::socket_t dealer{context, zmq::socket_type::dealer};
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::rcvtimeo, 2000);
    dealer.connect(endpoint);
    std::mt19937_64 random(42);
    const std::vector<std::string> bodies = {
        "",
        "not json",
        "[]",
        R"({"v": 1})",
        R"({"v": 99, "cmd": "stop"})",
        R"({"v": 1, "cmd": "reboot"})",
        R"({"v": 1, "cmd": "pause", "nod": "sink"})",
        R"({"v": 1, "cmd": "stop", "node": "sink"})",
        std::string(200 * 1024, '{'),
    };
    for (const std::string& body : bodies) {
        // [empty delimiter, body], as a REQ would send it: each gets a refusal.
        dealer.send(zmq::message_t(), zmq::send_flags::sndmore);
        dealer.send(zmq::buffer(body), zmq::send_flags::none);
        zmq::message_t delimiter;
        zmq::message_t reply;
        if (body.size() > 128 * 1024) continue;  // above the socket's message limit: dropped, with the connection
        ASSERT_TRUE(dealer.recv(delimiter)) << "no answer to " << body.substr(0, 60);
        ASSERT_TRUE(dealer.recv(reply));
        const json answer = json::parse(reply.to_string_view(), nullptr, false);
        ASSERT_TRUE(answer.is_object()) << reply.to_string();
        EXPECT_EQ(answer["ok"], false) << body;
        EXPECT_FALSE(answer["error"]["code"].get<std::string>().empty());
    }
    // Frames of no request's shape, and random bytes, on fresh connections.
    for (int round = 0; round < 200; ++round) {
        zmq::socket_t raw{context, zmq::socket_type::dealer};
        raw.set(zmq::sockopt::linger, 0);
        raw.connect(endpoint);
        const std::size_t frames = 1 + random() % 12;
        for (std::size_t f = 0; f < frames; ++f) {
            std::string bytes(random() % 300, '\0');
            for (char& byte : bytes)
                byte = static_cast<char>(random());
            raw.send(zmq::buffer(bytes), f + 1 < frames ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
    }
    // The kernel still answers, and the graph never stopped.
    const auto before = node_of(dir, pid, "sink")["slots_in"].get<std::uint64_t>();
    EXPECT_TRUE(wait_until([&] { return node_of(dir, pid, "sink")["slots_in"].get<std::uint64_t>() > before + 100; }));
    const CtlRun paused = ctl(dir, {"pause", "sink", "--kernel", pid});
    EXPECT_EQ(paused.code, 0) << paused.err;
    EXPECT_EQ(ctl(dir, {"resume", "sink", "--kernel", pid}).code, 0);
    EXPECT_EQ(count_events(dir, "stop_requested"), 0u) << "no garbage stopped the graph";
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(20), SIGINT));
    EXPECT_TRUE(run.status.exited && run.status.code == 0) << run.output;
}

std::vector<json> json_lines(const std::string& text) {
    std::vector<json> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);)
        lines.push_back(json::parse(line, nullptr, false));
    return lines;
}

TEST(Control_test, EventsComeFromTheEndpointAndFollowStreamsThemAllUntilTheKernelEnds) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctlevents")));
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);

    const CtlRun recent = ctl(dir, {"events", "--kernel", pid});
    ASSERT_EQ(recent.code, 0) << recent.err;
    const std::vector<json> lines = json_lines(recent.out);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.front()["event"], "graph_started") << recent.out;

    ChildOptions options;
    options.output_file = (dir / "follow.out").string();
    options.error_file = (dir / "follow.err").string();
    ChildProcess follow = ChildProcess::spawn(DHUB_CTL, {"events", "--follow", "--kernel", pid}, options);
    ASSERT_TRUE(
        wait_until([&] { return read_text_file(options.output_file).find("graph_started") != std::string::npos; },
                   std::chrono::seconds(10)));
    ASSERT_EQ(ctl(dir, {"pause", "sink", "--kernel", pid}).code, 0);
    EXPECT_TRUE(
        wait_until([&] { return read_text_file(options.output_file).find("pause_requested") != std::string::npos; },
                   std::chrono::seconds(10)))
        << "a new event reaches the follower as it happens";
    ASSERT_EQ(ctl(dir, {"resume", "sink", "--kernel", pid}).code, 0);
    ASSERT_EQ(ctl(dir, {"stop", "--kernel", pid}).code, 0);
    EXPECT_TRUE(kernel.wait(std::chrono::seconds(30)).exited);
    const ExitStatus followed = follow.wait(std::chrono::seconds(15));
    EXPECT_TRUE(followed.exited && followed.code == 0) << "it ends by itself with the kernel\n"
                                                       << read_text_file(options.error_file);
    // What it printed is the kernel's event stream, every event in order: the same as the --events file.
    const std::vector<json> streamed = json_lines(read_text_file(options.output_file));
    const std::vector<json> written = read_events(dir);
    ASSERT_FALSE(written.empty());
    EXPECT_EQ(streamed, written);
    EXPECT_EQ(streamed.back()["event"], "graph_stopped");
}

TEST(Control_test, FollowingEventsEndsCleanlyOnCtrlC) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctlfollow")));
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);
    ChildOptions options;
    options.output_file = (dir / "follow.out").string();
    ChildProcess follow = ChildProcess::spawn(DHUB_CTL, {"events", "-f", "--kernel", pid}, options);
    ASSERT_TRUE(
        wait_until([&] { return read_text_file(options.output_file).find("graph_started") != std::string::npos; },
                   std::chrono::seconds(10)));
    const ExitStatus interrupted = follow.stop(std::chrono::seconds(5), SIGINT);
    EXPECT_TRUE(interrupted.exited && interrupted.code == 0) << "not killed: it ended on Ctrl-C";
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
}

/// Runs a shell command, returns its exit code.
int shell(const std::string& command) {
    return ChildProcess::spawn("/bin/sh", {"-c", command}).wait(std::chrono::seconds(20)).code;
}

/// A tmux of its own (its own server socket, no user configuration), so the test sees a bare 80x24 terminal.
std::string tmux() {
    return "tmux -L dhubtest" + std::to_string(::getpid()) + " -f /dev/null ";
}

std::string tmux_capture(const std::string& session) {
    TempDir scratch;
    const std::string file = (scratch / "pane.txt").string();
    // -J joins what tmux wrapped: a line wider than the pane shows as one long line.
    (void)shell(tmux() + "capture-pane -p -J -t " + session + " > " + file);
    return read_text_file(file);
}

/// dhub-ctl top in a real terminal: a detached tmux session of 80x24.
TEST(Control_test, TopFitsAnEightyByTwentyFourTerminalMovesLiveAndEndsOnQOrCtrlC) {
    if (shell("command -v tmux > /dev/null") != 0) GTEST_SKIP() << "tmux is not installed (scripts/install-deps.sh)";
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctltop")));
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);
    for (const std::string key : {"q", "C-c"}) {
        const std::string session = key == "q" ? "quit" : "interrupt";
        const std::string files = (dir / session).string();
        // The shell around top ignores SIGINT (trap), so Ctrl-C reaches top alone, which must end by itself;
        // the terminal's settings before and after must be the same (.after appears whole: written, then moved).
        ASSERT_EQ(
            shell(tmux() + "new-session -d -s " + session + " -x 80 -y 24 'trap \"\" INT; stty -g > " + files +
                  ".before; " + std::string(DHUB_CTL) + " top --interval 0.2 --kernel " + pid + "; echo $? > " + files +
                  ".exit; stty -g > " + files + ".tmp; mv " + files + ".tmp " + files + ".after; sleep 30'"),
            0);
        std::string pane;
        EXPECT_TRUE(wait_until(
            [&] {
                pane = tmux_capture(session);
                return pane.find("sink") != std::string::npos && pane.find("ticks") != std::string::npos;
            },
            std::chrono::seconds(10), std::chrono::milliseconds(100)))
            << pane;
        EXPECT_NE(pane.find("SLOTS/s"), std::string::npos) << pane;
        EXPECT_NE(pane.find("graph 'ctltop'"), std::string::npos) << pane;
        std::istringstream lines(pane);
        for (std::string line; std::getline(lines, line);)
            EXPECT_LE(line.size(), 80u) << line;
        // The source's rate is a number of slots a second, and it is not zero: the view is live.
        std::istringstream rows(pane);
        bool moving = false;
        for (std::string row; std::getline(rows, row);) {
            if (!row.starts_with("tick ")) continue;
            std::istringstream fields(row);
            std::string name, state;
            double rate = 0;
            fields >> name >> state >> rate;
            moving = state == "running" && rate > 0;
        }
        EXPECT_TRUE(moving) << pane;
        (void)shell(tmux() + "send-keys -t " + session + " " + key);
        EXPECT_TRUE(wait_until([&] { return std::filesystem::exists(files + ".after"); }, std::chrono::seconds(10)))
            << "top did not end on " << key;
        EXPECT_EQ(read_text_file(files + ".exit"), "0\n") << "top ends cleanly on " << key;
        EXPECT_EQ(read_text_file(files + ".after"), read_text_file(files + ".before"))
            << "top left the terminal as it found it";
    }
    (void)shell(tmux() + "kill-server");
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
}

TEST(Control_test, AKernelWithoutControlTakesNoCommandsAndSaysSo) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, ticker_graph("ctloff")), {"--no-control"});
    const std::string pid = std::to_string(kernel.pid());
    wait_running(dir, pid);
    EXPECT_EQ(endpoint_of(dir, pid), "");
    const CtlRun refused = ctl(dir, {"stop", "--kernel", pid});
    EXPECT_EQ(refused.code, 1);
    EXPECT_NE(refused.err.find("takes no commands"), std::string::npos) << refused.err;
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
}

}  // namespace
}  // namespace dhub::testing
