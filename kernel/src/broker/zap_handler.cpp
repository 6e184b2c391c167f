// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/zap_handler.hpp"

#include <array>
#include <vector>

namespace dhub::broker {
namespace {

constexpr std::size_t CURVE_KEY_BYTES = 32;
constexpr std::size_t MAX_ZAP_FRAMES = 16;

}  // namespace

std::optional<ZapDecision> answer_zap_request(zmq::socket_t& zap, const Allowlist* allowlist) {
    return answer_zap_request(
        zap, [allowlist](std::string_view key) { return allowlist == nullptr || allowlist->find(key) != nullptr; });
}

std::optional<ZapDecision> answer_zap_request(zmq::socket_t& zap,
                                              const std::function<bool(std::string_view)>& accepts) {
    std::vector<zmq::message_t> frames;
    bool more = true;
    while (more) {
        zmq::message_t frame;
        if (!zap.recv(frame, zmq::recv_flags::dontwait)) {
            if (frames.empty()) return std::nullopt;
            break;  // cannot happen: the parts of a multipart message arrive together
        }
        more = frame.more();
        if (frames.size() < MAX_ZAP_FRAMES) frames.push_back(std::move(frame));
    }
    // version, request id, domain, address, routing id, mechanism, credentials...
    ZapDecision decision;
    std::string request_id;
    if (frames.size() >= 2) request_id = frames[1].to_string();
    if (frames.size() >= 4) decision.address = frames[3].to_string();
    const bool curve = frames.size() >= 7 && frames[0].to_string_view() == "1.0" &&
                       frames[5].to_string_view() == "CURVE" && frames[6].size() == CURVE_KEY_BYTES;
    if (!curve) {
        decision.reason = "not a ZAP 1.0 CURVE request";
    } else {
        std::array<char, 41> z85{};
        zmq_z85_encode(z85.data(), static_cast<const std::uint8_t*>(frames[6].data()), CURVE_KEY_BYTES);
        decision.public_key = z85.data();
        if (accepts(decision.public_key)) {
            decision.accepted = true;
        } else {
            decision.reason = "key not in the allowlist";
        }
    }
    const std::string status = decision.accepted ? "200" : "400";
    const std::string text = decision.accepted ? "OK" : "not allowed";
    const std::string user_id = decision.accepted ? decision.public_key : std::string();
    zap.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(status), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(text), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
    zap.send(zmq::message_t(), zmq::send_flags::none);
    return decision;
}

}  // namespace dhub::broker
