// SPDX-License-Identifier: Apache-2.0
#include "curve.hpp"

#include <fnmatch.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace dhub::zmq_transport {
namespace {

constexpr std::size_t CURVE_KEY_BYTES = 32;
constexpr std::size_t MAX_ZAP_FRAMES = 16;
constexpr int ZAP_POLL_MS = 100;

bool is_z85_key(const std::string& text) {
    if (text.size() != Z85_KEY_CHARS) return false;
    std::array<std::uint8_t, CURVE_KEY_BYTES> decoded{};
    return zmq_z85_decode(decoded.data(), text.c_str()) != nullptr;
}

}  // namespace

std::string read_curve_key(const std::string& parameter, const std::string& value, bool secret) {
    if (!secret && is_z85_key(value)) return value;
    std::ifstream file(value);
    if (!file) {
        throw std::runtime_error("parameter '" + parameter + "': cannot read the key file '" + value +
                                 "' (write one with dhub-keygen)");
    }
    if (secret) {
        struct stat status {};
        if (::stat(value.c_str(), &status) == 0 && (status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
            throw std::runtime_error("parameter '" + parameter + "': the secret key file '" + value +
                                     "' can be read by others; chmod 600 it");
        }
    }
    std::string line;
    std::getline(file, line);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
        line.pop_back();
    if (!is_z85_key(line)) {
        throw std::runtime_error("parameter '" + parameter + "': '" + value +
                                 "' does not hold a Z85 CURVE key (40 characters on the first line)");
    }
    return line;
}

std::string public_key_of(const std::string& secret_key) {
    std::array<char, Z85_KEY_CHARS + 1> public_key{};
    if (zmq_curve_public(public_key.data(), secret_key.c_str()) != 0) {
        throw std::runtime_error("cannot derive the public key from the secret key: " +
                                 std::string(zmq_strerror(zmq_errno())));
    }
    return public_key.data();
}

Allowlist Allowlist::load(const std::string& path) {
    std::ifstream file(path);
    if (!file) throw std::runtime_error("parameter 'allowlist': cannot read '" + path + "'");
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(file);
    } catch (const nlohmann::json::exception& error) {
        throw std::runtime_error("parameter 'allowlist': '" + path + "' is not JSON: " + error.what());
    }
    const auto wrong = [&](const std::string& where, const std::string& what) {
        return std::runtime_error("allowlist '" + path + "', " + where + ": " + what + " (docs/security.md)");
    };
    if (!document.is_object() || !document.contains("clients") || !document["clients"].is_array()) {
        throw wrong("clients", "expected an object with a \"clients\" array");
    }
    Allowlist allowlist;
    const auto& clients = document["clients"];
    for (std::size_t index = 0; index < clients.size(); ++index) {
        const std::string where = "clients[" + std::to_string(index) + "]";
        const auto& entry = clients[index];
        if (!entry.is_object()) throw wrong(where, "expected an object");
        if (!entry.contains("public_key") || !entry["public_key"].is_string() ||
            !is_z85_key(entry["public_key"].get<std::string>())) {
            throw wrong(where + ".public_key", "expected the 40 Z85 characters of a .pub file");
        }
        Client client{entry["public_key"].get<std::string>(), {}};
        if (entry.contains("consume")) {
            if (!entry["consume"].is_array()) throw wrong(where + ".consume", "expected a list of globs");
            for (const auto& glob : entry["consume"]) {
                if (!glob.is_string()) throw wrong(where + ".consume", "expected a list of globs");
                client.consume.push_back(glob.get<std::string>());
            }
        }
        allowlist.clients_.push_back(std::move(client));
    }
    return allowlist;
}

bool Allowlist::permits(const std::string& public_key, const std::string& channel) const {
    for (const Client& client : clients_) {
        if (client.public_key != public_key) continue;
        for (const std::string& glob : client.consume) {
            if (::fnmatch(glob.c_str(), channel.c_str(), 0) == 0) return true;
        }
        return false;
    }
    return false;
}

ZapHandler::ZapHandler(zmq::context_t& context,
                       std::function<bool(const std::string&)> accepts,
                       std::function<void(const std::string&, const std::string&)> refused)
    : socket_(context, zmq::socket_type::rep), accepts_(std::move(accepts)), refused_(std::move(refused)) {
    // Bound before any socket of the context does its handshake, so no client is let in unchecked.
    socket_.bind("inproc://zeromq.zap.01");
    thread_ = std::thread([this] { serve(); });
}

ZapHandler::~ZapHandler() {
    stop_.store(true);
    thread_.join();
    socket_.close();
}

void ZapHandler::serve() {
    while (!stop_.load()) {
        zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
        try {
            if (zmq::poll(&item, 1, std::chrono::milliseconds(ZAP_POLL_MS)) > 0) answer();
        } catch (const zmq::error_t& error) {
            // Only the context's end stops it: without an answer every later handshake would hang.
            if (error.num() == ETERM) return;
        }
    }
}

void ZapHandler::answer() {
    std::vector<zmq::message_t> frames;
    bool more = true;
    while (more) {
        zmq::message_t frame;
        if (!socket_.recv(frame, zmq::recv_flags::dontwait)) break;
        more = frame.more();
        if (frames.size() < MAX_ZAP_FRAMES) frames.push_back(std::move(frame));
    }
    if (frames.empty()) return;
    // version, request id, domain, address, routing id, mechanism, credentials...
    const std::string request_id = frames.size() >= 2 ? frames[1].to_string() : std::string();
    const std::string address = frames.size() >= 4 ? frames[3].to_string() : std::string();
    std::string public_key;
    const bool curve = frames.size() >= 7 && frames[0].to_string_view() == "1.0" &&
                       frames[5].to_string_view() == "CURVE" && frames[6].size() == CURVE_KEY_BYTES;
    if (curve) {
        std::array<char, Z85_KEY_CHARS + 1> z85{};
        zmq_z85_encode(z85.data(), static_cast<const std::uint8_t*>(frames[6].data()), CURVE_KEY_BYTES);
        public_key = z85.data();
    }
    const bool accepted = curve && accepts_(public_key);
    if (!accepted) refused_(curve ? public_key : std::string("(not a CURVE client)"), address);
    socket_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string_view(accepted ? "200" : "400")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(std::string_view(accepted ? "OK" : "not allowed")), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(accepted ? public_key : std::string()), zmq::send_flags::sndmore);
    socket_.send(zmq::message_t(), zmq::send_flags::none);
}

bool is_loopback_endpoint(const std::string& endpoint) {
    if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) return true;
    if (!endpoint.starts_with("tcp://")) return false;
    const std::string host =
        endpoint.substr(6, endpoint.rfind(':') == std::string::npos ? std::string::npos : endpoint.rfind(':') - 6);
    return host.starts_with("127.") || host == "localhost" || host == "[::1]" || host == "::1";
}

}  // namespace dhub::zmq_transport
