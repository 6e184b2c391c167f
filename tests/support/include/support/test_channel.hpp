// SPDX-License-Identifier: Apache-2.0
// Channel names that never collide between tests or parallel ctest runs, and their cleanup.
#pragma once

#include <string>
#include <string_view>

namespace dhub::testing {

/// "t<pid>-<n>-<hint>": unique per process and call, so parallel tests never share a segment.
std::string unique_channel_name(std::string_view hint);

/// Removes the channel's segment when it goes out of scope (whatever the test left behind).
class ChannelCleanup {
public:
    explicit ChannelCleanup(std::string channel) : channel_(std::move(channel)) {}
    ChannelCleanup(const ChannelCleanup&) = delete;
    ChannelCleanup& operator=(const ChannelCleanup&) = delete;
    ~ChannelCleanup();
    const std::string& name() const noexcept { return channel_; }

private:
    std::string channel_;
};

}  // namespace dhub::testing
