// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/domain.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <span>
#include <string>

#include "dhub/shm/checksum.hpp"

namespace dhub::shm {
namespace {

// Where shm_open's names live on Linux (glibc's and musl's).
constexpr const char* SHM_DIRECTORY = "/dev/shm";
constexpr const char* BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";
constexpr std::size_t DOMAIN_BYTES = 16;

std::string compute_domain() {
    // The boot id tells machines (and reboots) apart: two hosts' /dev/shm may well have the same device and
    // inode numbers. Without /proc, the host name stands in.
    std::string text;
    if (std::ifstream boot_id(BOOT_ID_FILE); !std::getline(boot_id, text)) {
        char host[256] = {};
        (void)::gethostname(host, sizeof host - 1);
        text = host;
    }
    struct stat directory {};
    if (::stat(SHM_DIRECTORY, &directory) == 0) {
        text += '|' + std::to_string(static_cast<unsigned long long>(directory.st_dev)) + '|' +
                std::to_string(static_cast<unsigned long long>(directory.st_ino));
    }
    const Digest digest = blake2b_256(std::as_bytes(std::span(text.data(), text.size())));
    return to_hex(digest.data(), DOMAIN_BYTES);
}

}  // namespace

const std::string& domain_id() {
    static const std::string domain = compute_domain();
    return domain;
}

}  // namespace dhub::shm
