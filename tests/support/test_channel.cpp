// SPDX-License-Identifier: Apache-2.0
#include "support/test_channel.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>

#include "dhub/shm/segment.hpp"

namespace dhub::testing {

std::string unique_channel_name(std::string_view hint) {
    static std::atomic<unsigned> counter{0};
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on "t" + std::to_string(...).
    std::string name(1, 't');
    name += std::to_string(::getpid());
    name += '-';
    name += std::to_string(counter.fetch_add(1));
    name += '-';
    // Test names carry '/' for parameterised tests; channel names allow only [A-Za-z0-9_.-].
    for (const char c : hint.substr(0, 120))
        name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return name;
}

ChannelCleanup::~ChannelCleanup() {
    (void)shm::Segment::unlink(channel_);
}

}  // namespace dhub::testing
