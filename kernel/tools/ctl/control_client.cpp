// SPDX-License-Identifier: Apache-2.0
#include "control_client.hpp"

#include <zmq.hpp>

#include "dhub/broker/keys.hpp"
#include "dhub/control/control_protocol.hpp"

namespace dhub::ctl {

Result<CurveKeys> load_curve_keys(const std::string& server_key, const std::string& secret_key_file) {
    if (server_key.empty() || secret_key_file.empty()) {
        return Error{ErrorCode::InvalidArgument,
                     "a TCP endpoint is CurveZMQ only: give --server-key (the kernel's public key, or its .pub file) "
                     "and --key (this client's secret key file, from dhub-keygen)"};
    }
    CurveKeys keys;
    if (broker::is_z85_key(server_key)) {
        keys.server_public = server_key;
    } else {
        auto read = broker::read_key_file(server_key, broker::KeyKind::Public);
        if (!read) return read.error();
        keys.server_public = read.value();
    }
    auto secret = broker::read_key_file(secret_key_file, broker::KeyKind::Secret);
    if (!secret) return secret.error();
    auto derived = broker::public_key_of(secret.value());
    if (!derived) return derived.error();
    keys.secret_key = secret.value();
    keys.public_key = derived.value();
    return keys;
}

Result<nlohmann::json> call(const std::string& endpoint,
                            nlohmann::json request,
                            std::chrono::milliseconds timeout,
                            const CurveKeys* curve) {
    if (endpoint.empty()) {
        return Error{ErrorCode::NotFound, "the kernel takes no commands (it runs with --no-control)"};
    }
    request["v"] = control::PROTOCOL_VERSION;
    try {
        zmq::context_t context{1};
        zmq::socket_t socket{context, zmq::socket_type::req};
        socket.set(zmq::sockopt::linger, 0);
        socket.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
        socket.set(zmq::sockopt::sndtimeo, static_cast<int>(timeout.count()));
        if (curve != nullptr) {
            socket.set(zmq::sockopt::curve_serverkey, curve->server_public);
            socket.set(zmq::sockopt::curve_publickey, curve->public_key);
            socket.set(zmq::sockopt::curve_secretkey, curve->secret_key);
        }
        socket.connect(endpoint);
        const std::string body = request.dump();
        if (!socket.send(zmq::buffer(body), zmq::send_flags::none)) {
            return Error{ErrorCode::Timeout, "the kernel at " + endpoint + " took no request within " +
                                                 std::to_string(timeout.count()) + " ms"};
        }
        zmq::message_t reply;
        if (!socket.recv(reply, zmq::recv_flags::none)) {
            if (curve != nullptr) {
                return Error{ErrorCode::Timeout,
                             "no answer from " + endpoint + " within " + std::to_string(timeout.count()) +
                                 " ms: is a kernel there, is --server-key its public key, and is this client's key (" +
                                 curve->public_key + ") in its --control-allow list?"};
            }
            return Error{ErrorCode::Timeout, "the kernel at " + endpoint + " did not answer within " +
                                                 std::to_string(timeout.count()) +
                                                 " ms (is it wedged? `dhub-ctl "
                                                 "status` reads its counters without asking it)"};
        }
        nlohmann::json value = nlohmann::json::parse(reply.to_string_view(), nullptr, false);
        if (value.is_discarded() || !value.is_object() || !value.contains("ok")) {
            return Error{ErrorCode::Corrupt, "the kernel at " + endpoint + " answered something that is no reply"};
        }
        return value;
    } catch (const zmq::error_t& error) {
        return Error{ErrorCode::Io, "cannot talk to " + endpoint + ": " + error.what()};
    }
}

}  // namespace dhub::ctl
