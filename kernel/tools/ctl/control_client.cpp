// SPDX-License-Identifier: Apache-2.0
#include "control_client.hpp"

#include <zmq.hpp>

#include "dhub/control/control_protocol.hpp"

namespace dhub::ctl {

Result<nlohmann::json> call(const std::string& endpoint, nlohmann::json request, std::chrono::milliseconds timeout) {
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
        socket.connect(endpoint);
        const std::string body = request.dump();
        if (!socket.send(zmq::buffer(body), zmq::send_flags::none)) {
            return Error{ErrorCode::Timeout, "the kernel at " + endpoint + " took no request within " +
                                                 std::to_string(timeout.count()) + " ms"};
        }
        zmq::message_t reply;
        if (!socket.recv(reply, zmq::recv_flags::none)) {
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
