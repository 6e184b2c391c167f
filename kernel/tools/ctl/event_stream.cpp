// SPDX-License-Identifier: Apache-2.0
#include "event_stream.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "dhub/base/clock.hpp"
#include "dhub/base/exit_code.hpp"
#include "dhub/control/control_protocol.hpp"

namespace dhub::ctl {
namespace {

std::atomic<bool> interrupted{false};

// C linkage would clash with top.cpp's handler: one symbol name for both.
void stop_following(int) {
    interrupted.store(true);
}

/// Renewed well within the kernel's 10 s.
constexpr std::uint64_t RENEW_NS = 3'000'000'000;
/// A kernel that stopped sends its last events (graph_stopped last) as it exits; they are waited for this long.
constexpr std::uint64_t LAST_WORDS_NS = 5'000'000'000;

/// A DEALER speaking to the kernel as a REQ would ([empty frame, body]), so pushes can come between replies.
class Connection {
public:
    explicit Connection(const std::string& endpoint) : socket_(context_, zmq::socket_type::dealer) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.set(zmq::sockopt::rcvtimeo, 200);
        socket_.connect(endpoint);
    }
    void send(nlohmann::json request) {
        request["v"] = control::PROTOCOL_VERSION;
        socket_.send(zmq::message_t(), zmq::send_flags::sndmore);
        socket_.send(zmq::buffer(request.dump()), zmq::send_flags::none);
    }
    /// The next message's body (null on a timeout or an interruption).
    nlohmann::json receive() {
        try {
            std::vector<zmq::message_t> frames;
            for (bool more = true; more;) {
                zmq::message_t frame;
                if (!socket_.recv(frame)) return nullptr;
                more = frame.more();
                frames.push_back(std::move(frame));
            }
            return nlohmann::json::parse(frames.back().to_string_view(), nullptr, false);
        } catch (const zmq::error_t&) {
            return nullptr;  // EINTR: Ctrl-C
        }
    }

private:
    zmq::context_t context_{1};
    zmq::socket_t socket_;
};

void print_event(const nlohmann::json& event) {
    std::cout << event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
}

/// When to stop waiting for more: now if the kernel process is gone, soon if its graph stopped, never otherwise.
std::uint64_t end_of(const counters::PageReader& page, std::uint64_t now) {
    const counters::KernelCounters kernel = page.read();
    if (!kernel.alive) return now;
    return kernel.state == counters::KernelState::Stopped ? now + LAST_WORDS_NS : 0;
}

}  // namespace

int stream_events(const counters::PageReader& page, const std::string& endpoint, bool follow) {
    if (endpoint.empty()) {
        std::cerr << "dhub-ctl: the kernel takes no commands (it runs with --no-control)\n";
        return to_int(ExitCode::InvalidInput);
    }
    struct sigaction action {};
    action.sa_handler = stop_following;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    Connection connection(endpoint);
    std::uint64_t printed = 0;          // the last seq printed
    std::vector<nlohmann::json> early;  // pushes that came before the history
    const auto await_reply = [&](const char* what) -> nlohmann::json {
        const std::uint64_t give_up = monotonic_ns() + 5'000'000'000;
        while (!interrupted.load() && monotonic_ns() < give_up) {
            nlohmann::json message = connection.receive();
            if (!message.is_object()) continue;
            if (message.contains("push")) {
                early.push_back(std::move(message));
                continue;
            }
            if (!message.value("ok", false)) {
                std::cerr << "dhub-ctl: " << what
                          << " refused: " << message["error"].value("message", std::string("no reason given")) << "\n";
                return nullptr;
            }
            return message;
        }
        if (!interrupted.load())
            std::cerr << "dhub-ctl: the kernel at " << endpoint << " did not answer " << what << "\n";
        return nullptr;
    };
    // Subscribed first, then the history: what happens in between is in one or the other, never lost.
    if (follow) {
        connection.send({{"cmd", "subscribe"}});
        if (await_reply("subscribe").is_null())
            return to_int(interrupted.load() ? ExitCode::Ok : ExitCode::InvalidInput);
    }
    connection.send({{"cmd", "events"}});
    const nlohmann::json history = await_reply("events");
    if (history.is_null()) return to_int(interrupted.load() ? ExitCode::Ok : ExitCode::InvalidInput);
    bool graph_stopped = false;  // the last event a kernel writes
    for (const nlohmann::json& entry : history["events"]) {
        print_event(entry["event"]);
        printed = entry["seq"].get<std::uint64_t>();
        graph_stopped = graph_stopped || entry["event"].value("event", "") == "graph_stopped";
    }
    if (!follow) return to_int(ExitCode::Ok);
    for (const nlohmann::json& push : early) {
        if (push.value("seq", std::uint64_t{0}) > printed) {
            print_event(push["event"]);
            printed = push["seq"].get<std::uint64_t>();
            graph_stopped = graph_stopped || push["event"].value("event", "") == "graph_stopped";
        }
    }
    std::uint64_t renew_at = monotonic_ns() + RENEW_NS;
    std::uint64_t end_at = 0;
    while (!interrupted.load() && !graph_stopped) {
        const std::uint64_t now = monotonic_ns();
        if (end_at == 0) end_at = end_of(page, now);
        if (end_at != 0 && now >= end_at) break;
        if (now >= renew_at) {
            connection.send({{"cmd", "subscribe"}});  // its reply is read below and passed over
            renew_at = now + RENEW_NS;
        }
        const nlohmann::json message = connection.receive();
        if (!message.is_object() || !message.contains("push")) continue;
        const auto seq = message.value("seq", std::uint64_t{0});
        if (seq <= printed) continue;
        if (seq > printed + 1 && printed != 0) {
            std::cerr << "dhub-ctl: " << seq - printed - 1 << " events were lost on the way (this client read too "
                      << "slowly)\n";
        }
        print_event(message["event"]);
        printed = seq;
        graph_stopped = message["event"].value("event", "") == "graph_stopped";
    }
    return to_int(ExitCode::Ok);
}

}  // namespace dhub::ctl
