// SPDX-License-Identifier: Apache-2.0
#include "port_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace dhub::runtime {
namespace {

constexpr std::string_view TCP_SCHEME = "tcp://";

}  // namespace

std::string tcp_bind_problem(const std::string& endpoint) {
    if (!endpoint.starts_with(TCP_SCHEME)) return "not a tcp:// endpoint";
    const std::string_view rest = std::string_view(endpoint).substr(TCP_SCHEME.size());
    const std::size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) return "no port";
    std::string host(rest.substr(0, colon));
    unsigned port = 0;
    const std::string_view digits = rest.substr(colon + 1);
    const auto [end, failure] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (failure != std::errc() || end != digits.data() + digits.size() || port > 65535)
        return "port '" + std::string(digits) + "' is not a number up to 65535";
    if (host == "*") host = "0.0.0.0";
    const bool v6 = host.starts_with('[') && host.ends_with(']');
    if (v6) host = host.substr(1, host.size() - 2);

    sockaddr_storage address{};
    socklen_t length = 0;
    if (v6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) return {};  // an interface name: ZeroMQ's to say
        length = sizeof *in6;
    } else {
        auto* in4 = reinterpret_cast<sockaddr_in*>(&address);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) != 1) return {};
        length = sizeof *in4;
    }
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket(): ") + std::strerror(errno);
    const int on = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    std::string problem;
    // listen() too: Linux lets two sockets with SO_REUSEADDR bind one port as long as neither listens yet.
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 || ::listen(fd, 1) != 0)
        problem = std::strerror(errno);
    ::close(fd);
    return problem;
}

}  // namespace dhub::runtime
