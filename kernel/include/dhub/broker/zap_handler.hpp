// SPDX-License-Identifier: Apache-2.0
// The ZAP handler (ZeroMQ RFC 27): libzmq asks it, over inproc://zeromq.zap.01, whether a peer that
// completed the CURVE handshake may connect. We answer from an allowlist (the broker's, or a kernel's control
// endpoint's), and set the ZAP user id to the client's Z85 public key so that the server can read it back from
// every message ("User-Id" property).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "dhub/broker/allowlist.hpp"

namespace dhub::broker {

inline constexpr const char* ZAP_ENDPOINT = "inproc://zeromq.zap.01";
inline constexpr const char* ZAP_DOMAIN = "dhub";

struct ZapDecision {
    bool accepted = false;
    std::string public_key;  ///< Z85; "" if the request was not a CURVE request
    std::string address;     ///< the peer's IP address as libzmq reports it
    std::string reason;
};

/// Receives one ZAP request from the REP socket and answers it; nullopt if nothing could be received.
/// allowlist null: every CURVE key is accepted.
std::optional<ZapDecision> answer_zap_request(zmq::socket_t& zap, const Allowlist* allowlist);
/// The same, accepting the CURVE keys `accepts` says yes to (a Z85 public key).
std::optional<ZapDecision> answer_zap_request(zmq::socket_t& zap, const std::function<bool(std::string_view)>& accepts);

}  // namespace dhub::broker
