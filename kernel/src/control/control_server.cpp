// SPDX-License-Identifier: Apache-2.0
#include "control_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "dhub/base/clock.hpp"
#include "dhub/broker/zap_handler.hpp"

namespace dhub::control {
namespace {

/// A Unix socket address holds 107 bytes of path.
constexpr std::size_t MAX_SOCKET_PATH = 100;
/// How often the thread looks at running_ while no request comes.
constexpr int POLL_MS = 100;
/// A message of more frames than this is no request (a REQ sends an id, an empty frame and the body).
constexpr std::size_t MAX_FRAMES = 8;
/// A subscription lasts this long unless renewed; at most this many clients subscribe at once.
constexpr std::uint64_t SUBSCRIPTION_NS = 10'000'000'000;
constexpr std::size_t MAX_SUBSCRIBERS = 32;

/// The directory must be ours and closed to others: the socket's 0600 is only as good as it. One made here is
/// made 0700; one that exists is used only if it already is (a directory someone chose is never changed).
VoidResult prepare_directory(const std::string& directory) {
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
        return Error{ErrorCode::Io, "cannot create " + directory + " for the control socket: " + std::strerror(errno)};
    }
    struct stat info {};
    if (::lstat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
        return Error{ErrorCode::Io, directory + " is not a directory: the control socket cannot go there"};
    }
    if (info.st_uid != ::geteuid()) {
        return Error{ErrorCode::PermissionDenied, directory + " belongs to uid " + std::to_string(info.st_uid) +
                                                      ", not to this kernel's user: the control socket does not go "
                                                      "there (remove it, or start the kernel as its owner)"};
    }
    if ((info.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(info.st_mode & 0777));
        return Error{ErrorCode::PermissionDenied, directory + " is open to other users (mode " + mode +
                                                      "): the control socket goes only into a directory of mode "
                                                      "0700 (chmod 700 it, or start with --no-control)"};
    }
    return Ok{};
}

}  // namespace

struct ControlServer::Sockets {
    zmq::context_t context{1};
    zmq::socket_t router{context, zmq::socket_type::router};
    std::optional<zmq::socket_t> tcp;  ///< CURVE server, for the allowlist's clients
    std::optional<zmq::socket_t> zap;  ///< answers the TCP socket's handshakes (inproc://zeromq.zap.01)
};

namespace {

/// The socket options both endpoints share.
void configure(zmq::socket_t& router) {
    // The last events (graph_stopped) still reach followers as the kernel ends; a dead one delays it no more.
    router.set(zmq::sockopt::linger, 200);
    // A client that vanished must not make the ROUTER keep its replies: they are dropped.
    router.set(zmq::sockopt::router_mandatory, 0);
    router.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(MAX_REQUEST_BYTES * 2));
}

/// Binds the TCP endpoint as a CURVE server whose handshakes the ZAP socket judges.
VoidResult bind_tcp(zmq::context_t& context,
                    const TcpControl& tcp,
                    std::optional<zmq::socket_t>& router,
                    std::optional<zmq::socket_t>& zap,
                    std::string& bound) {
    if (!tcp.endpoint.starts_with("tcp://")) {
        return Error{ErrorCode::InvalidArgument,
                     "control endpoint '" + tcp.endpoint + "': expected tcp://HOST:PORT (port 0: any free one)"};
    }
    if (!tcp.access || tcp.secret_key.size() != 40) {
        return Error{ErrorCode::InvalidArgument, "control endpoint " + tcp.endpoint +
                                                     ": TCP is served only with CurveZMQ (a secret key and an "
                                                     "allowlist of clients with their roles)"};
    }
    std::string endpoint = tcp.endpoint;
    if (endpoint.ends_with(":0")) endpoint.replace(endpoint.size() - 1, 1, "*");
    try {
        zap.emplace(context, zmq::socket_type::rep);
        zap->set(zmq::sockopt::linger, 0);
        zap->bind(broker::ZAP_ENDPOINT);
        router.emplace(context, zmq::socket_type::router);
        configure(*router);
        router->set(zmq::sockopt::curve_server, 1);
        router->set(zmq::sockopt::curve_secretkey, tcp.secret_key);
        router->set(zmq::sockopt::zap_domain, broker::ZAP_DOMAIN);
        router->bind(endpoint);
        bound = router->get(zmq::sockopt::last_endpoint);
    } catch (const zmq::error_t& error) {
        return Error{ErrorCode::Io, "cannot bind the control endpoint " + tcp.endpoint + ": " + error.what()};
    }
    return Ok{};
}

}  // namespace

std::string default_socket_path(const std::string& name) {
    const std::string directory = "/tmp/dhub-" + std::to_string(::geteuid());
    std::string path = directory + "/" + name + ".ctl";
    if (path.size() > MAX_SOCKET_PATH) path = directory + "/kernel-" + std::to_string(::getpid()) + ".ctl";
    return path;
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& socket_path,
                                                            Handler handler,
                                                            std::shared_ptr<EventFeed> feed,
                                                            std::optional<TcpControl> tcp) {
    if (socket_path.size() > MAX_SOCKET_PATH) {
        return Error{ErrorCode::InvalidArgument, "the control socket path " + socket_path + " is longer than " +
                                                     std::to_string(MAX_SOCKET_PATH) + " bytes"};
    }
    const auto slash = socket_path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
        return Error{ErrorCode::InvalidArgument,
                     "the control socket path " + socket_path + " must be absolute, in a directory of its own"};
    }
    const std::string directory = socket_path.substr(0, slash);
    if (auto prepared = prepare_directory(directory); !prepared) return prepared.error();
    std::unique_ptr<ControlServer> server(new ControlServer());
    server->handler_ = std::move(handler);
    server->feed_ = std::move(feed);
    server->path_ = socket_path;
    server->endpoint_ = "ipc://" + socket_path;
    server->sockets_ = std::make_unique<Sockets>();
    if (tcp) {
        Sockets& sockets = *server->sockets_;
        if (auto bound = bind_tcp(sockets.context, *tcp, sockets.tcp, sockets.zap, server->tcp_endpoint_); !bound) {
            return bound.error();
        }
        server->access_ = tcp->access;
    }
    try {
        configure(server->sockets_->router);
        // A socket a killed kernel left under this name is ours to replace (the name carries this pid); anything
        // else there is not ours to remove.
        struct stat existing {};
        if (::lstat(socket_path.c_str(), &existing) == 0) {
            if (!S_ISSOCK(existing.st_mode)) {
                return Error{ErrorCode::AlreadyExists,
                             socket_path + " exists and is no socket: the control socket does not replace it"};
            }
            ::unlink(socket_path.c_str());
        }
        // The directory is the user's and 0700, so the socket is never reachable by others, even before this.
        server->sockets_->router.bind(server->endpoint_);
        ::chmod(socket_path.c_str(), 0600);
    } catch (const zmq::error_t& error) {
        return Error{ErrorCode::Io, "cannot bind the control socket " + server->endpoint_ + ": " + error.what()};
    }
    server->thread_ = std::thread([raw = server.get()] { raw->serve(); });
    return server;
}

ControlServer::~ControlServer() {
    running_.store(false);
    if (thread_.joinable()) thread_.join();
    sockets_.reset();
    if (!path_.empty()) ::unlink(path_.c_str());
}

void ControlServer::serve() {
    while (running_.load()) {
        try {
            zmq::socket_t* tcp = sockets_->tcp ? &*sockets_->tcp : nullptr;
            zmq::socket_t* zap = sockets_->zap ? &*sockets_->zap : nullptr;
            std::array<zmq::pollitem_t, 4> items{{
                {sockets_->router.handle(), 0, ZMQ_POLLIN, 0},
                {nullptr, feed_ ? feed_->wake_fd() : -1, ZMQ_POLLIN, 0},
                {tcp != nullptr ? tcp->handle() : nullptr, tcp != nullptr ? 0 : -1, ZMQ_POLLIN, 0},
                {zap != nullptr ? zap->handle() : nullptr, zap != nullptr ? 0 : -1, ZMQ_POLLIN, 0},
            }};
            zmq::poll(items.data(), items.size(), std::chrono::milliseconds(POLL_MS));
            if (feed_ && (items[1].revents & ZMQ_POLLIN) != 0) feed_->drain();
            if (feed_) push_events();
            if ((items[3].revents & ZMQ_POLLIN) != 0) answer_handshakes();
            // A command may keep this thread a while (a swap waits for its fence, a remove for its node to end):
            // followers did not stop following meanwhile, so their subscriptions are not charged for it.
            const std::uint64_t served_at = monotonic_ns();
            if ((items[0].revents & ZMQ_POLLIN) != 0) serve_message(false);
            if ((items[2].revents & ZMQ_POLLIN) != 0) serve_message(true);
            const std::uint64_t busy_ns = monotonic_ns() - served_at;
            for (auto& [key, subscriber] : subscribers_)
                subscriber.until_ns += busy_ns;
        } catch (const std::exception& error) {
            // Nothing a client sends should get here; if something does, the endpoint keeps serving.
            spdlog::error("control endpoint: {}", error.what());
        }
    }
    // The kernel is ending: what its last moments emitted goes to the followers before the socket closes.
    try {
        if (feed_) push_events();
    } catch (const std::exception& error) {
        spdlog::error("control endpoint: {}", error.what());
    }
}

void ControlServer::answer_handshakes() {
    const auto accepts = [this](std::string_view key) { return access_->find(key) != nullptr; };
    while (auto decision = broker::answer_zap_request(*sockets_->zap, accepts)) {
        if (decision->accepted) continue;
        // A scan or a stale key may knock often: the log hears of the first ten, then of every hundredth.
        if (++refused_handshakes_ <= 10 || refused_handshakes_ % 100 == 0) {
            spdlog::warn("control endpoint {}: refused a client from {} ({}; {} refused so far)", tcp_endpoint_,
                         decision->address, decision->reason, refused_handshakes_);
        }
    }
}

void ControlServer::serve_message(bool remote) {
    zmq::socket_t& socket = remote ? *sockets_->tcp : sockets_->router;
    std::vector<zmq::message_t> frames;
    bool more = true;
    while (more) {
        zmq::message_t frame;
        if (!socket.recv(frame, zmq::recv_flags::dontwait)) break;
        more = frame.more();
        if (frames.size() < MAX_FRAMES + 1) frames.push_back(std::move(frame));
    }
    // [routing id, (envelope...), body]: anything shorter, or longer, is nobody's request.
    if (frames.size() < 2 || frames.size() > MAX_FRAMES) return;
    Decoded decoded = decode_request(frames.back().to_string_view());
    std::string reply;
    const AllowedController* client = nullptr;
    if (remote) {
        // The ZAP handler set the user id to the client's key: whom it is, and so what it may do.
        const char* key = zmq_msg_gets(frames.back().handle(), "User-Id");
        client = key != nullptr ? access_->find(key) : nullptr;
        if (client == nullptr) return;  // cannot be: the handshake let only the allowlist in
    }
    if (!decoded.ok()) {
        reply = encode_refusal(decoded.refusal());
    } else if (client != nullptr && !permits(client->role, decoded.request().command)) {
        reply = encode_refusal({"forbidden",
                                "client '" + client->name + "' has the role " + to_string(client->role) +
                                    ": it may read the graph, not change it (\"" +
                                    to_string(decoded.request().command) + "\" needs admin)",
                                decoded.request().id});
    } else if (decoded.request().command == Command::Events || decoded.request().command == Command::Subscribe) {
        std::vector<std::string> envelope;
        for (std::size_t i = 0; i + 1 < frames.size(); ++i)
            envelope.push_back(frames[i].to_string());
        reply = answer_events(decoded.request(), envelope, remote);
    } else {
        Request request = decoded.request();
        if (client != nullptr) request.client = client->name;
        const Answer answer = handler_(request);
        reply = answer.error_code.empty()
                    ? encode_reply(request.id, answer.result)
                    : encode_refusal(Refusal{answer.error_code, answer.error_message, request.id});
    }
    for (std::size_t i = 0; i + 1 < frames.size(); ++i)
        socket.send(frames[i], zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    socket.send(zmq::buffer(reply), zmq::send_flags::dontwait);
}

std::string ControlServer::answer_events(const Request& request,
                                         const std::vector<std::string>& envelope,
                                         bool remote) {
    if (!feed_) return encode_refusal({"refused", "this kernel keeps no events for its endpoint", request.id});
    if (request.command == Command::Subscribe) {
        std::string key = remote ? "tcp:" : "ipc:";
        for (const std::string& frame : envelope)
            key += std::to_string(frame.size()) + ":" + frame;
        if (subscribers_.count(key) == 0 && subscribers_.size() >= MAX_SUBSCRIBERS) {
            return encode_refusal({"refused",
                                   std::to_string(MAX_SUBSCRIBERS) + " clients follow this kernel's events already",
                                   request.id});
        }
        // Pushed from the seq after the one it is told: with "events" since that seq, it misses nothing.
        if (subscribers_.empty()) pushed_ = feed_->last();
        subscribers_[key] = Subscriber{envelope, monotonic_ns() + SUBSCRIPTION_NS, remote};
        return encode_reply(request.id,
                            {{"subscribed", true}, {"seq", pushed_}, {"renew_within_ms", SUBSCRIPTION_NS / 1'000'000}});
    }
    std::string events = "[";
    for (const EventFeed::Entry& entry : feed_->since(request.since)) {
        if (events.size() > 1) events += ",";
        events += R"({"seq":)" + std::to_string(entry.seq) + R"(,"event":)" + entry.line + "}";
    }
    events += "]";
    // The events are JSON already: they are spliced in, not parsed and printed again.
    std::string reply = encode_reply(request.id, {{"last", feed_->last()}});
    reply.insert(reply.size() - 1, R"(,"events":)" + events);
    return reply;
}

void ControlServer::push_events() {
    const std::uint64_t now = monotonic_ns();
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        it = it->second.until_ns < now ? subscribers_.erase(it) : std::next(it);
    }
    if (subscribers_.empty()) {
        pushed_ = feed_->last();
        return;
    }
    for (const EventFeed::Entry& entry : feed_->since(pushed_)) {
        const std::string push = R"({"v":)" + std::to_string(PROTOCOL_VERSION) + R"(,"push":"event","seq":)" +
                                 std::to_string(entry.seq) + R"(,"event":)" + entry.line + "}";
        for (const auto& [key, subscriber] : subscribers_) {
            zmq::socket_t& socket = subscriber.remote ? *sockets_->tcp : sockets_->router;
            // A subscriber that does not read loses pushes (the socket's high-water mark), never stalls this.
            for (const std::string& frame : subscriber.envelope)
                socket.send(zmq::buffer(frame), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
            socket.send(zmq::buffer(push), zmq::send_flags::dontwait);
        }
        pushed_ = entry.seq;
    }
}

}  // namespace dhub::control
