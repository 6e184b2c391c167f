// SPDX-License-Identifier: Apache-2.0
#include "dhub/metrics/metrics_server.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <atomic>
#include <cstring>
#include <exception>

namespace dhub::metrics {
namespace {

/// Bad clients are cheap: this many connections at once, idle ones closed after this long, requests this big.
constexpr unsigned int MAX_CONNECTIONS = 16;
constexpr unsigned int IDLE_TIMEOUT_S = 10;
constexpr std::size_t CONNECTION_MEMORY_BYTES = 32 * 1024;
constexpr const char* CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

struct HostPort {
    std::string host;
    std::string port;
};

Result<HostPort> parse_endpoint(std::string_view endpoint) {
    const auto refused = [&](const std::string& why) {
        return Error{ErrorCode::InvalidArgument,
                     "metrics endpoint '" + std::string(endpoint) + "': " + why +
                         " (expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:9464; port 0 picks a free one)"};
    };
    constexpr std::string_view SCHEME = "tcp://";
    if (!endpoint.starts_with(SCHEME)) return refused("not tcp://");
    std::string_view rest = endpoint.substr(SCHEME.size());
    HostPort parsed;
    if (rest.starts_with("[")) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            return refused("an IPv6 address needs [ADDRESS]:PORT");
        }
        parsed.host = std::string(rest.substr(1, close - 1));
        parsed.port = std::string(rest.substr(close + 2));
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) return refused("no port");
        parsed.host = std::string(rest.substr(0, colon));
        parsed.port = std::string(rest.substr(colon + 1));
    }
    if (parsed.host.empty()) return refused("no host");
    if (parsed.host == "*") parsed.host = "0.0.0.0";
    if (parsed.port.empty() || parsed.port.size() > 5 ||
        parsed.port.find_first_not_of("0123456789") != std::string::npos || std::stoul(parsed.port) > 65535) {
        return refused("the port must be a number from 0 to 65535");
    }
    return parsed;
}

MHD_Result respond(MHD_Connection* connection, unsigned int status, const std::string& body, const char* type) {
    MHD_Response* response =
        MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    const MHD_Result queued = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return queued;
}

}  // namespace

struct MetricsServer::State {
    std::function<std::string()> render;
    std::atomic<std::uint64_t> scrapes{0};

    static MHD_Result answer(void* self,
                             MHD_Connection* connection,
                             const char* url,
                             const char* method,
                             const char* /*version*/,
                             const char* /*upload_data*/,
                             std::size_t* /*upload_data_size*/,
                             void** /*request*/) {
        auto* state = static_cast<State*>(self);
        const bool get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        if (!get && std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
            return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics is served here\n", "text/plain");
        }
        if (std::strcmp(url, "/metrics") != 0) {
            return respond(connection, MHD_HTTP_NOT_FOUND, "dhub serves /metrics only\n", "text/plain");
        }
        try {
            const std::string body = state->render();
            state->scrapes.fetch_add(1, std::memory_order_relaxed);
            return respond(connection, MHD_HTTP_OK, body, CONTENT_TYPE);
        } catch (const std::exception& error) {
            return respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           std::string("dhub could not read its counters: ") + error.what() + "\n", "text/plain");
        }
    }
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(std::string_view endpoint,
                                                            std::function<std::string()> render) {
    auto parsed = parse_endpoint(endpoint);
    if (!parsed) return parsed.error();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    addrinfo* found = nullptr;
    if (const int resolved = ::getaddrinfo(parsed->host.c_str(), parsed->port.c_str(), &hints, &found);
        resolved != 0 || found == nullptr) {
        return Error{ErrorCode::InvalidArgument, "metrics endpoint '" + std::string(endpoint) + "': cannot resolve '" +
                                                     parsed->host + "': " + ::gai_strerror(resolved)};
    }
    std::unique_ptr<MetricsServer> server(new MetricsServer());
    server->state_ = std::make_unique<State>();
    server->state_->render = std::move(render);
    unsigned int flags = MHD_USE_POLL_INTERNAL_THREAD;
    if (found->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    server->daemon_ =
        MHD_start_daemon(flags, 0, nullptr, nullptr, &State::answer, server->state_.get(), MHD_OPTION_SOCK_ADDR,
                         found->ai_addr, MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                         IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY_BYTES, MHD_OPTION_END);
    ::freeaddrinfo(found);
    if (server->daemon_ == nullptr) {
        return Error{ErrorCode::Io, "metrics endpoint '" + std::string(endpoint) +
                                        "': cannot listen there (is the port taken, or the address not this host's?)"};
    }
    const MHD_DaemonInfo* bound = MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
    const std::string port = bound != nullptr ? std::to_string(bound->port) : parsed->port;
    const bool v6 = parsed->host.find(':') != std::string::npos;
    server->endpoint_ = "tcp://" + (v6 ? "[" + parsed->host + "]" : parsed->host) + ":" + port;
    return server;
}

MetricsServer::~MetricsServer() {
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

std::uint64_t MetricsServer::scrapes() const noexcept {
    return state_->scrapes.load(std::memory_order_relaxed);
}

}  // namespace dhub::metrics
