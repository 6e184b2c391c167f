// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/keys.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace dhub::broker {
namespace {

Error io_error(const std::string& what, const std::string& path) {
    return Error{ErrorCode::Io, what + " " + path + ": " + std::strerror(errno)};
}

VoidResult write_file(const std::string& path, const std::string& text, mode_t mode, Overwrite overwrite) {
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite == Overwrite::Allow ? O_TRUNC : O_EXCL);
    const int fd = ::open(path.c_str(), flags, mode);
    if (fd < 0) {
        if (errno == EEXIST) {
            return Error{ErrorCode::AlreadyExists, path + " already exists: pass --force to replace it"};
        }
        return io_error("cannot create", path);
    }
    // open() applies the umask and keeps the mode of a replaced file: set it explicitly.
    if (::fchmod(fd, mode) != 0) {
        ::close(fd);
        return io_error("cannot set the mode of", path);
    }
    const auto written = ::write(fd, text.data(), text.size());
    const bool complete = written == static_cast<ssize_t>(text.size());
    if (::close(fd) != 0 || !complete) return io_error("cannot write", path);
    return Ok{};
}

}  // namespace

bool is_z85_key(const std::string& text) noexcept {
    if (text.size() != Z85_KEY_CHARS) return false;
    std::array<std::uint8_t, 32> decoded{};
    return zmq_z85_decode(decoded.data(), text.c_str()) != nullptr;
}

Result<CurveKeyPair> generate_curve_keypair() {
    std::array<char, Z85_KEY_CHARS + 1> public_key{};
    std::array<char, Z85_KEY_CHARS + 1> secret_key{};
    if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
        return Error{ErrorCode::Io, std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()) +
                                        " (is libzmq built with CURVE support?)"};
    }
    return CurveKeyPair{public_key.data(), secret_key.data()};
}

Result<std::string> public_key_of(const std::string& secret_key) {
    std::array<char, Z85_KEY_CHARS + 1> public_key{};
    if (!is_z85_key(secret_key) || zmq_curve_public(public_key.data(), secret_key.c_str()) != 0) {
        return Error{ErrorCode::InvalidArgument, "not a 40-character Z85 CURVE secret key"};
    }
    return std::string(public_key.data());
}

VoidResult write_keypair_files(const CurveKeyPair& pair,
                               const std::string& directory,
                               const std::string& name,
                               Overwrite overwrite) {
    const std::string base = directory.empty() ? name : directory + "/" + name;
    auto secret = write_file(base + ".key", pair.secret_key + "\n", 0600, overwrite);
    if (!secret) return secret;
    return write_file(base + ".pub", pair.public_key + "\n", 0644, overwrite);
}

Result<std::string> read_key_file(const std::string& path, KeyKind kind) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return io_error("cannot read key file", path);
    if (kind == KeyKind::Secret && (info.st_mode & 077) != 0) {
        return Error{ErrorCode::PermissionDenied,
                     "secret key file " + path + " is readable by group or others: chmod 600 it"};
    }
    std::ifstream in(path);
    std::string key;
    if (!in || !std::getline(in, key)) return io_error("cannot read key file", path);
    while (!key.empty() && (key.back() == '\r' || key.back() == ' '))
        key.pop_back();
    if (!is_z85_key(key)) {
        return Error{ErrorCode::InvalidArgument,
                     "key file " + path + " does not hold a 40-character Z85 key (write one with dhub-keygen)"};
    }
    return key;
}

std::string generate_attach_secret() {
    if (sodium_init() < 0) return {};  // cannot happen once libsodium is usable; an empty secret is refused
    std::array<unsigned char, 32> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::array<char, 65> hex{};
    sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
    sodium_memzero(bytes.data(), bytes.size());
    return std::string(hex.data());
}

bool secrets_equal(const std::string& a, const std::string& b) noexcept {
    if (a.size() != b.size() || a.empty()) return false;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dhub::broker
