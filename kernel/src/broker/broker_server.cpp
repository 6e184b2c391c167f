// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/broker_server.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include <zmq.hpp>

#include "dhub/base/clock.hpp"
#include "dhub/broker/codec.hpp"
#include "dhub/broker/keys.hpp"
#include "dhub/broker/log.hpp"
#include "dhub/broker/zap_handler.hpp"
#include "wake_fd.hpp"

namespace dhub::broker {
namespace {

constexpr int LINGER_MS = 0;
constexpr int HANDSHAKE_MS = 5000;
constexpr int HWM_MESSAGES = 1000;
constexpr int MAX_IDLE_POLL_MS = 1000;
/// Messages handled per poll wake-up before timers run again, so a flood cannot starve expiry.
constexpr int MAX_BATCH = 256;
/// Frames kept of one message: routing id + FRAME_COUNT + one extra so that "extra frames" is detected.
constexpr std::size_t MAX_KEPT_FRAMES = FRAME_COUNT + 2;
constexpr std::uint64_t REFUSAL_LOG_INTERVAL_NS = 100'000'000;

}  // namespace

struct BrokerServer::Sockets {
    zmq::context_t context{1};
    zmq::socket_t router{context, zmq::socket_type::router};
    std::optional<zmq::socket_t> zap;
    WakeFd wake;
};

nlohmann::json event_fields(const RefusedClient& refused) {
    return {{"key", refused.public_key},
            {"address", refused.address},
            {"reason", refused.reason},
            {"unreported", refused.unreported}};
}

BrokerServer::BrokerServer(BrokerConfig config) : config_(std::move(config)) {}

BrokerServer::~BrokerServer() {
    stop();
}

VoidResult BrokerServer::start() {
    if (running_.load()) return Error{ErrorCode::AlreadyExists, "the broker on " + bound_endpoint_ + " already runs"};
    try {
        auto sockets = std::make_unique<Sockets>();
        if (!sockets->wake.valid()) return Error{ErrorCode::Io, "broker: eventfd() failed"};
        auto& router = sockets->router;
        router.set(zmq::sockopt::linger, LINGER_MS);
        router.set(zmq::sockopt::sndhwm, HWM_MESSAGES);
        router.set(zmq::sockopt::rcvhwm, HWM_MESSAGES);
        // libzmq drops the connection of a peer that sends a larger frame, before allocating it.
        router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(MAX_BODY_BYTES + 1024));
        router.set(zmq::sockopt::handshake_ivl, HANDSHAKE_MS);
        if (!config_.secret_key.empty()) {
            auto public_key = public_key_of(config_.secret_key);
            if (!public_key)
                return Error{ErrorCode::InvalidArgument, "broker secret key: " + public_key.error().message};
            public_key_ = *public_key;
            // The handler must be bound before the first client completes a handshake.
            sockets->zap.emplace(sockets->context, zmq::socket_type::rep);
            sockets->zap->set(zmq::sockopt::linger, LINGER_MS);
            sockets->zap->bind(ZAP_ENDPOINT);
            router.set(zmq::sockopt::curve_server, 1);
            router.set(zmq::sockopt::curve_secretkey, config_.secret_key);
            router.set(zmq::sockopt::zap_domain, ZAP_DOMAIN);
        }
        try {
            router.bind(config_.endpoint);
        } catch (const zmq::error_t& error) {
            return Error{ErrorCode::Io, "broker cannot bind " + config_.endpoint + ": " + error.what() +
                                            " (is another broker running there? choose another --endpoint)"};
        }
        bound_endpoint_ = router.get(zmq::sockopt::last_endpoint);
        sockets_ = std::move(sockets);
    } catch (const zmq::error_t& error) {
        return Error{ErrorCode::Io, std::string("broker socket setup failed: ") + error.what()};
    }
    running_.store(true);
    thread_ = std::thread([this] { run(); });
    broker_log().info("broker listening on {} ({})", bound_endpoint_,
                      public_key_.empty() ? "no CURVE: any local process may connect"
                                          : (config_.allowlist ? "CURVE, allowlist of " +
                                                                     std::to_string(config_.allowlist->size()) + " keys"
                                                               : "CURVE, any client key"));
    return Ok{};
}

void BrokerServer::stop() {
    if (!running_.exchange(false)) return;
    sockets_->wake.notify();
    if (thread_.joinable()) thread_.join();
    sockets_.reset();
}

std::string BrokerServer::bound_endpoint() const {
    return bound_endpoint_;
}
std::string BrokerServer::public_key() const {
    return public_key_;
}

RegistryStats BrokerServer::stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
}

void BrokerServer::run() noexcept {
    Registry registry(config_.registry, config_.allowlist);
    // A wake-up later than this past the poll's timeout means the loop itself was stalled (forgive_stall).
    const std::uint64_t stall_threshold_ns = config_.registry.heartbeat_ms * 1'000'000;
    auto& router = sockets_->router;
    std::vector<Outgoing> out;
    std::vector<zmq::message_t> frames;
    std::vector<std::string_view> views;
    std::uint64_t last_refusal_log_ns = 0;
    std::uint64_t refusals_unlogged = 0;
    const bool curve = !public_key_.empty();

    auto send_all = [&] {
        for (const auto& item : out) {
            const Frames encoded = encode(item.message);
            try {
                // ROUTER drops messages for unknown or full peers instead of blocking: a slow client never
                // stalls the broker.
                if (!router.send(zmq::buffer(item.routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
                    continue;
                }
                for (std::size_t i = 0; i < FRAME_COUNT; ++i) {
                    const auto flags = i + 1 < FRAME_COUNT ? zmq::send_flags::sndmore : zmq::send_flags::none;
                    router.send(zmq::buffer(encoded[i]), flags | zmq::send_flags::dontwait);
                }
            } catch (const zmq::error_t& error) {
                broker_log().debug("send to a client failed: {}", error.what());
            }
        }
        out.clear();
    };

    while (running_.load()) {
        try {
            std::uint64_t now_ns = monotonic_ns();
            int timeout_ms = MAX_IDLE_POLL_MS;
            if (const auto next = registry.next_deadline_ns()) {
                const std::uint64_t wait_ns = *next > now_ns ? *next - now_ns : 0;
                timeout_ms = static_cast<int>(std::min<std::uint64_t>(wait_ns / 1'000'000 + 1, MAX_IDLE_POLL_MS));
            }
            std::array<zmq::pollitem_t, 3> items{{
                {router.handle(), 0, ZMQ_POLLIN, 0},
                {nullptr, sockets_->wake.fd(), ZMQ_POLLIN, 0},
                {sockets_->zap ? sockets_->zap->handle() : nullptr, sockets_->zap ? 0 : -1, ZMQ_POLLIN, 0},
            }};
            const std::size_t count = sockets_->zap ? 3 : 2;
            zmq::poll(items.data(), count, std::chrono::milliseconds(timeout_ms));
            if ((items[1].revents & ZMQ_POLLIN) != 0) sockets_->wake.drain();
            if (!running_.load()) break;
            const std::uint64_t woke_ns = monotonic_ns();
            // Woken much later than asked: this thread did not run. The silence was ours, not the clients'.
            const std::uint64_t expected_ns = now_ns + static_cast<std::uint64_t>(timeout_ms) * 1'000'000;
            if (woke_ns > expected_ns + stall_threshold_ns) registry.forgive_stall(woke_ns - expected_ns);
            now_ns = woke_ns;
            if (count == 3 && (items[2].revents & ZMQ_POLLIN) != 0) {
                while (auto decision = answer_zap_request(*sockets_->zap, config_.allowlist.get())) {
                    if (decision->accepted) {
                        broker_log().debug("accepted CURVE client {} from {}", decision->public_key, decision->address);
                        continue;
                    }
                    refused_.fetch_add(1);
                    // Logged, rate-limited: a scan must not flood the log.
                    if (now_ns - last_refusal_log_ns >= REFUSAL_LOG_INTERVAL_NS) {
                        broker_log().warn("refused CURVE client key {} from {}: {} ({} more refusals not logged)",
                                          decision->public_key, decision->address, decision->reason, refusals_unlogged);
                        if (config_.on_refused) {
                            config_.on_refused(RefusedClient{decision->public_key, decision->address, decision->reason,
                                                             refusals_unlogged});
                        }
                        last_refusal_log_ns = now_ns;
                        refusals_unlogged = 0;
                    } else {
                        ++refusals_unlogged;
                    }
                }
            }
            for (int handled = 0; handled < MAX_BATCH && (items[0].revents & ZMQ_POLLIN) != 0; ++handled) {
                frames.clear();
                bool more = true;
                bool received = false;
                while (more) {
                    zmq::message_t frame;
                    if (!router.recv(frame, zmq::recv_flags::dontwait)) break;
                    received = true;
                    more = frame.more();
                    if (frames.size() < MAX_KEPT_FRAMES) frames.push_back(std::move(frame));
                }
                if (!received) break;
                if (frames.size() < 2) continue;  // only a routing id: nothing to answer
                Peer peer{frames[0].to_string(), {}};
                if (curve) {
                    if (const char* user_id = zmq_msg_gets(frames.back().handle(), "User-Id"))
                        peer.public_key = user_id;
                }
                views.clear();
                for (std::size_t i = 1; i < frames.size(); ++i)
                    views.push_back(frames[i].to_string_view());
                const Decoded decoded = decode(views);
                if (decoded.ok()) {
                    registry.handle(peer, decoded.message(), now_ns, out);
                } else {
                    registry.handle_malformed(peer, decoded.error(), now_ns, out);
                }
                send_all();
            }
            registry.expire(monotonic_ns(), out);
            send_all();
            std::lock_guard lock(stats_mutex_);
            stats_ = registry.stats();
        } catch (const std::exception& error) {
            // Nothing above should throw; if it does, log and keep serving rather than take the control
            // plane down.
            broker_log().error("broker loop: {}", error.what());
            out.clear();
        }
    }
}

}  // namespace dhub::broker
