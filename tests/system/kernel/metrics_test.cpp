// SPDX-License-Identifier: Apache-2.0
// dhub-kernel --metrics (docs/metrics.md): a running kernel's /metrics passes `promtool check metrics` and its
// values move while the graph runs; wrong methods, paths, garbage and idle connections are answered or dropped
// while the graph runs on; an endpoint that cannot be served stops the kernel before it starts, saying why.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

/// A TCP connection to 127.0.0.1:port (-1 if refused).
int connect_local(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

struct HttpReply {
    int status = 0;  ///< 0: no HTTP answer
    std::string body;
};

/// Sends `request` as it is and reads the answer until the server closes.
HttpReply http_exchange(int port, const std::string& request) {
    const int fd = connect_local(port);
    if (fd < 0) return {};
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string received;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        received.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    HttpReply reply;
    std::smatch status;
    if (std::regex_search(received, status, std::regex("^HTTP/1\\.[01] (\\d{3})"))) reply.status = std::stoi(status[1]);
    const auto body = received.find("\r\n\r\n");
    if (body != std::string::npos) reply.body = received.substr(body + 4);
    return reply;
}

HttpReply get(int port, const std::string& path, const std::string& method = "GET") {
    return http_exchange(port, method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

/// The port of the kernel's metrics endpoint, from its metrics_listening event (0 if none within 30 s).
int metrics_port(const TempDir& dir) {
    int port = 0;
    wait_until(
        [&] {
            for (const json& event : read_events(dir)) {
                if (event.value("event", "") != "metrics_listening") continue;
                const std::string endpoint = event.value("endpoint", "");
                port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
                return true;
            }
            return false;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(20));
    return port;
}

/// The value of the first sample of `series` (its name and labels as written) in a /metrics text; -1 if none.
double value_of(const std::string& text, const std::string& series) {
    const auto at = text.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + series.size() + 2));
}

TEST(Metrics_test, TheEndpointPassesPromtoolAndItsValuesMove) {
    TempDir dir;
    ChildProcess kernel =
        start_kernel(dir, write_graph(dir, ticker_graph("metrics")), {"--metrics", "tcp://127.0.0.1:0"});
    const int port = metrics_port(dir);
    ASSERT_GT(port, 0) << "no metrics_listening event";

    const std::string sink_in = R"(dhub_node_slots_total{graph="metrics",node="sink",direction="in"})";
    HttpReply first;
    ASSERT_TRUE(wait_until([&] {
        first = get(port, "/metrics");
        return first.status == 200 && value_of(first.body, sink_in) > 0;
    })) << first.status
        << "\n"
        << first.body.substr(0, 2000);

    // promtool (Debian's prometheus package) is the judge of the format and of the naming conventions.
    std::ofstream(dir / "metrics.txt") << first.body;
    ChildProcess promtool =
        ChildProcess::spawn("/bin/sh", {"-c", "promtool check metrics < " + (dir / "metrics.txt").string()},
                            (dir / "promtool.log").string());
    const ExitStatus checked = promtool.wait(std::chrono::seconds(60));
    std::ifstream log(dir / "promtool.log");
    const std::string said((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(checked.exited && checked.code == 0)
        << "promtool check metrics: " << said
        << "(is Debian's prometheus package installed? scripts/install-deps.sh prometheus)\n"
        << first.body.substr(0, 3000);

    for (const char* family : {"# TYPE dhub_node_slots_total counter", "# TYPE dhub_node_handler_seconds histogram",
                               "# TYPE dhub_node_state gauge", "# TYPE dhub_channel_written_slots_total counter"}) {
        EXPECT_NE(first.body.find(family), std::string::npos) << family;
    }
    EXPECT_NE(first.body.find(R"(dhub_node_state{graph="metrics",node="sink",state="running"} 1)"), std::string::npos);
    const double before = value_of(first.body, sink_in);
    HttpReply later;
    EXPECT_TRUE(wait_until([&] {
        later = get(port, "/metrics");
        return value_of(later.body, sink_in) > before + 1000;
    })) << "the sink's slots did not move: "
        << before;
    EXPECT_EQ(get(port, "/metrics", "HEAD").status, 200);
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
    EXPECT_EQ(get(port, "/metrics").status, 0) << "the endpoint goes with the kernel";
}

TEST(Metrics_test, BadClientsAreAnsweredOrDroppedAndTheGraphRunsOn) {
    TempDir dir;
    ChildProcess kernel =
        start_kernel(dir, write_graph(dir, ticker_graph("metricsbad")), {"--metrics", "tcp://127.0.0.1:0"});
    const int port = metrics_port(dir);
    ASSERT_GT(port, 0);
    EXPECT_EQ(get(port, "/metrics", "POST").status, 405);
    EXPECT_EQ(get(port, "/metrics", "DELETE").status, 405);
    EXPECT_EQ(get(port, "/").status, 404);
    EXPECT_EQ(get(port, "/metrics/../../etc/passwd").status, 404);
    // Garbage, a header too big for a connection's memory, a request cut short: none gets metrics.
    EXPECT_NE(http_exchange(port, std::string("\x01\x02\xff not http at all\r\n\r\n")).status, 200);
    EXPECT_NE(
        http_exchange(port, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(100 * 1024, 'x') + "\r\n\r\n").status,
        200);
    {
        // More idle connections than the server takes at once: it keeps serving once they go.
        std::vector<int> idle;
        for (int i = 0; i < 40; ++i)
            idle.push_back(connect_local(port));
        for (const int fd : idle) {
            if (fd >= 0) ::close(fd);
        }
    }
    EXPECT_TRUE(wait_until([&] { return get(port, "/metrics").status == 200; }));
    ASSERT_TRUE(kernel.try_wait() == std::nullopt) << "the kernel must run on";
    EXPECT_TRUE(kernel.stop(std::chrono::seconds(20), SIGINT).exited);
    const KernelRun run = collect(dir, kernel.wait(std::chrono::seconds(5)));
    EXPECT_EQ(run.node("sink")["errors"], 0);
}

TEST(Metrics_test, AnEndpointThatCannotBeServedStopsTheKernelSayingWhy) {
    TempDir dir;
    const auto graph = write_graph(dir, ticker_graph("metricsno"));
    const KernelRun wrong = run_kernel(dir, graph, {"--metrics", "http://localhost:80"});
    EXPECT_EQ(wrong.status.code, 4) << wrong.output;
    EXPECT_NE(wrong.output.find("metrics endpoint 'http://localhost:80': not tcp://"), std::string::npos)
        << wrong.output;
    const KernelRun no_port = run_kernel(dir, graph, {"--metrics", "tcp://127.0.0.1:99999"});
    EXPECT_EQ(no_port.status.code, 4);
    EXPECT_NE(no_port.output.find("the port must be a number from 0 to 65535"), std::string::npos) << no_port.output;

    // A port another process holds.
    const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(holder, 1), 0);
    socklen_t length = sizeof address;
    ::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
    const std::string taken = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    const KernelRun busy = run_kernel(dir, graph, {"--metrics", taken});
    ::close(holder);
    EXPECT_EQ(busy.status.code, 4);
    EXPECT_NE(busy.output.find("cannot listen there"), std::string::npos) << busy.output;
}

}  // namespace
}  // namespace dhub::testing
