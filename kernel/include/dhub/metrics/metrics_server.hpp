// SPDX-License-Identifier: Apache-2.0
// A kernel's Prometheus endpoint (dhub-kernel --metrics tcp://HOST:PORT, docs/metrics.md): GET /metrics answers
// what render() returns, on libmicrohttpd's own thread. A scrape never touches the data path: render reads the
// counters page. Bad clients cost little: a few connections at a time, a short timeout, small requests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "dhub/base/result.hpp"

struct MHD_Daemon;

namespace dhub::metrics {

class MetricsServer {
public:
    /// endpoint: "tcp://HOST:PORT" (HOST a name or an address, [v6] in brackets; PORT 0 picks a free one).
    /// render is called on the server's thread for each scrape.
    static Result<std::unique_ptr<MetricsServer>> start(std::string_view endpoint, std::function<std::string()> render);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

    /// "tcp://HOST:PORT" with the port bound (the one picked for 0).
    const std::string& endpoint() const noexcept { return endpoint_; }
    /// Scrapes answered (GET /metrics with 200).
    std::uint64_t scrapes() const noexcept;

private:
    MetricsServer() = default;
    struct State;
    std::unique_ptr<State> state_;
    MHD_Daemon* daemon_ = nullptr;
    std::string endpoint_;
};

}  // namespace dhub::metrics
