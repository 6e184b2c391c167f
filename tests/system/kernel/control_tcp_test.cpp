// SPDX-License-Identifier: Apache-2.0
// A kernel's control endpoint on TCP (docs/control.md, "Over TCP"), driven by dhub-ctl --endpoint and by raw
// ZeroMQ clients, with keys from dhub-keygen: a monitor reads and may change nothing, an admin may, a key the
// allowlist does not hold and a client without CURVE get nothing; garbage from an admin is refused; the kernel
// refuses to serve TCP without keys.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <zmq.hpp>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

/// Key pairs made by dhub-keygen in dir: NAME.key and NAME.pub.
void make_key(const TempDir& dir, const std::string& name) {
    auto keygen =
        ChildProcess::spawn(DHUB_KEYGEN_BIN, {"--dir", dir.path().string(), name}, (dir / "keygen.log").string());
    const ExitStatus status = keygen.wait(std::chrono::seconds(10));
    ASSERT_TRUE(status.exited && status.code == 0) << read_text_file((dir / "keygen.log").string());
}

std::string key_of(const TempDir& dir, const std::string& file) {
    std::string key = read_text_file((dir / file).string());
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r'))
        key.pop_back();
    return key;
}

class ControlTcp_test : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* name : {"kernel", "operator", "grafana", "stranger"})
            make_key(dir_, name);
        std::ofstream(dir_ / "allow.json")
            << json{{"clients",
                     {{{"public_key", key_of(dir_, "operator.pub")}, {"name", "operator"}, {"role", "admin"}},
                      {{"public_key", key_of(dir_, "grafana.pub")}, {"name", "grafana"}, {"role", "monitor"}}}}}
                   .dump();
    }

    std::vector<std::string> tcp_options() const {
        return {"--control-tcp",   "tcp://127.0.0.1:0",           "--control-key", (dir_ / "kernel.key").string(),
                "--control-allow", (dir_ / "allow.json").string()};
    }

    /// The bound endpoint, from the control_listening event ("" if none within 30 s).
    std::string endpoint() const {
        std::string found;
        wait_until(
            [&] {
                for (const json& event : read_events(dir_)) {
                    if (event.value("event", "") == "control_listening") found = event.value("endpoint", "");
                }
                return !found.empty();
            },
            std::chrono::seconds(30), std::chrono::milliseconds(20));
        return found;
    }

    /// dhub-ctl --endpoint, as the client whose secret key is NAME.key.
    CtlRun remote(const std::string& client, std::vector<std::string> arguments) const {
        arguments.insert(arguments.end(), {"--endpoint", endpoint(), "--server-key", (dir_ / "kernel.pub").string(),
                                           "--key", (dir_ / (client + ".key")).string()});
        return ctl(dir_, arguments);
    }

    TempDir dir_;
};

TEST_F(ControlTcp_test, AMonitorReadsAnAdminChangesAndStrangersGetNothing) {
    ChildProcess kernel = start_kernel(dir_, write_graph(dir_, ticker_graph("ctltcp")), tcp_options());
    ASSERT_FALSE(endpoint().empty()) << "no control_listening event";

    const CtlRun status = remote("grafana", {"status", "--json"});
    ASSERT_EQ(status.code, 0) << status.err;
    EXPECT_EQ(status.value["graph"], "ctltcp");
    EXPECT_EQ(status.value["nodes"].size(), 2u);
    EXPECT_EQ(remote("grafana", {"events"}).code, 0);

    const CtlRun forbidden = remote("grafana", {"pause", "sink"});
    EXPECT_EQ(forbidden.code, 1);
    EXPECT_NE(forbidden.err.find("client 'grafana' has the role monitor"), std::string::npos) << forbidden.err;
    EXPECT_EQ(remote("grafana", {"stop"}).code, 1);
    EXPECT_EQ(remote("grafana", {"resume", "sink"}).code, 1);
    EXPECT_EQ(remote("grafana", {"swap", "sink", "--plugin", "test_ticker"}).code, 1);

    const CtlRun paused = remote("operator", {"pause", "sink"});
    ASSERT_EQ(paused.code, 0) << paused.err;
    EXPECT_EQ(
        node_named(ctl(dir_, {"nodes", "--json", "--kernel", std::to_string(kernel.pid())}).value, "sink")["state"],
        "paused");
    ASSERT_EQ(remote("operator", {"resume", "sink"}).code, 0);

    // A key the allowlist does not hold never gets an answer (its handshake is refused), nor does a client
    // without CURVE.
    const CtlRun stranger = remote("stranger", {"status"});
    EXPECT_EQ(stranger.code, 1);
    EXPECT_NE(stranger.err.find("in its --control-allow list?"), std::string::npos) << stranger.err;
    zmq::context_t context{1};
    zmq::socket_t plain{context, zmq::socket_type::req};
    plain.set(zmq::sockopt::linger, 0);
    plain.set(zmq::sockopt::rcvtimeo, 1000);
    plain.connect(endpoint());
    plain.send(zmq::buffer(std::string(R"({"v": 1, "cmd": "stop"})")), zmq::send_flags::dontwait);
    zmq::message_t nothing;
    EXPECT_FALSE(plain.recv(nothing)) << "a client without CURVE got an answer";

    // An admin's garbage is refused like a local client's: the protocol is the same.
    zmq::socket_t admin{context, zmq::socket_type::req};
    admin.set(zmq::sockopt::linger, 0);
    admin.set(zmq::sockopt::rcvtimeo, 5000);
    admin.set(zmq::sockopt::curve_serverkey, key_of(dir_, "kernel.pub"));
    admin.set(zmq::sockopt::curve_publickey, key_of(dir_, "operator.pub"));
    admin.set(zmq::sockopt::curve_secretkey, key_of(dir_, "operator.key"));
    admin.connect(endpoint());
    for (const std::string body : {"not json", R"({"v": 1, "cmd": "reboot"})", R"({"v": 1, "cmd": "pause"})"}) {
        admin.send(zmq::buffer(body), zmq::send_flags::none);
        zmq::message_t reply;
        ASSERT_TRUE(admin.recv(reply)) << body;
        const json answer = json::parse(reply.to_string_view(), nullptr, false);
        EXPECT_EQ(answer["ok"], false) << body;
    }

    EXPECT_EQ(count_events(dir_, "control", {{"command", "pause"}, {"client", "operator"}, {"ok", true}}), 1u);
    EXPECT_EQ(count_events(dir_, "stop_requested"), 0u) << "nothing but an admin's stop may stop the graph";
    ASSERT_EQ(remote("operator", {"stop"}).code, 0);
    const KernelRun run = collect(dir_, kernel.wait(std::chrono::seconds(30)));
    EXPECT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_EQ(count_events(dir_, "stop_requested", {{"cause", "control"}}), 1u);
}

TEST_F(ControlTcp_test, TcpIsServedOnlyWithKeysAndAnAllowlistThatRead) {
    const auto graph = write_graph(dir_, ticker_graph("ctltcpno"));
    const KernelRun no_keys = run_kernel(dir_, graph, {"--control-tcp", "tcp://127.0.0.1:0"});
    EXPECT_EQ(no_keys.status.code, 2) << no_keys.output;
    EXPECT_NE(no_keys.output.find("served only with CurveZMQ"), std::string::npos) << no_keys.output;

    std::ofstream(dir_ / "bad.json") << R"({"clients": [{"public_key": "short", "role": "admin"}]})";
    std::vector<std::string> options = tcp_options();
    options[5] = (dir_ / "bad.json").string();
    const KernelRun bad = run_kernel(dir_, graph, options);
    EXPECT_EQ(bad.status.code, 4) << bad.output;
    EXPECT_NE(bad.output.find("/clients/0/public_key must be a 40-character Z85 key"), std::string::npos) << bad.output;

    std::ofstream(dir_ / "role.json")
        << json{{"clients", {{{"public_key", key_of(dir_, "operator.pub")}, {"role", "root"}}}}}.dump();
    options[5] = (dir_ / "role.json").string();
    const KernelRun role = run_kernel(dir_, graph, options);
    EXPECT_EQ(role.status.code, 4) << role.output;
    EXPECT_NE(role.output.find("/clients/0/role must be \"admin\""), std::string::npos) << role.output;

    EXPECT_EQ(ctl(dir_, {"status", "--key", "x.key"}).code, 2) << "--key goes with --endpoint";
    EXPECT_EQ(ctl(dir_, {"status", "--endpoint", "tcp://127.0.0.1:1"}).code, 2) << "tcp needs keys";
}

}  // namespace
}  // namespace dhub::testing
