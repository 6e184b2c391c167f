// SPDX-License-Identifier: Apache-2.0
// CurveZMQ for the zmq transport with the broker's keys and allowlist (docs/security.md): key files as
// dhub-keygen writes them, the allowlist's "consume" globs, and a ZAP handler that lets in only the receivers
// the allowlist names. The plugin links the SDK alone, never the kernel, so the formats are read here again.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

namespace dhub::zmq_transport {

inline constexpr std::size_t Z85_KEY_CHARS = 40;

/// A Z85 key: the text itself when `value` is 40 Z85 characters (public keys only), else the first line of the
/// file it names. A secret key file others can read is refused (chmod 600 it). Throws std::runtime_error
/// naming the parameter and the file.
std::string read_curve_key(const std::string& parameter, const std::string& value, bool secret);

/// The public key of a Z85 secret key.
std::string public_key_of(const std::string& secret_key);

/// The broker's allowlist file, as far as a transport needs it: which client keys may consume which channels.
class Allowlist {
public:
    /// Throws std::runtime_error naming the entry that is wrong ("clients[2].public_key").
    static Allowlist load(const std::string& path);
    /// Whether the client with this Z85 key may consume `channel` (an fnmatch glob of its "consume" list).
    bool permits(const std::string& public_key, const std::string& channel) const;

private:
    struct Client {
        std::string public_key;
        std::vector<std::string> consume;
    };
    std::vector<Client> clients_;
};

/// Answers ZAP requests for a context in a thread of its own until destroyed: a CURVE client whose key
/// `accepts` is let in, any other is refused during the handshake (refused() hears of it).
class ZapHandler {
public:
    ZapHandler(zmq::context_t& context,
               std::function<bool(const std::string& public_key)> accepts,
               std::function<void(const std::string& public_key, const std::string& address)> refused);
    ~ZapHandler();
    ZapHandler(const ZapHandler&) = delete;
    ZapHandler& operator=(const ZapHandler&) = delete;

private:
    void serve();
    void answer();

    zmq::socket_t socket_;
    std::function<bool(const std::string&)> accepts_;
    std::function<void(const std::string&, const std::string&)> refused_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// Whether a bind or connect endpoint stays on this host (tcp on a loopback address, ipc, inproc).
bool is_loopback_endpoint(const std::string& endpoint);

}  // namespace dhub::zmq_transport
