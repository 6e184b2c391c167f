// SPDX-License-Identifier: Apache-2.0
#include "support/loopback_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace dhub::testing {
namespace {

/// The lowest port the kernel hands out as an ephemeral source port (32768 when it cannot be read).
int ephemeral_low() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 32768;
    range >> low;
    return low > 2048 ? low : 32768;
}

bool free_on_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return bound;
}

}  // namespace

std::string restartable_loopback_endpoint() {
    return "tcp://127.0.0.1:" + std::to_string(restartable_loopback_port());
}

int restartable_loopback_port() {
    return restartable_loopback_ports(1);
}

int restartable_loopback_ports(int count) {
    const int high = ephemeral_low();
    const int low = high > 12000 ? 10000 : 1024;
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> pick(low, high - count);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int first = pick(random);
        bool all_free = true;
        for (int port = first; port < first + count && all_free; ++port)
            all_free = free_on_loopback(port);
        if (all_free) return first;
    }
    throw std::runtime_error("no " + std::to_string(count) + " free loopback ports in a row below the ephemeral range");
}

}  // namespace dhub::testing
