// SPDX-License-Identifier: Apache-2.0
#include "multiprocess_support.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>

namespace dhub::testing {
namespace {

constexpr double DEFAULT_SCALE = 1.0;

std::string octal(unsigned value) {
    std::ostringstream text;
    text << std::oct << value;
    return text.str();
}

}  // namespace

std::vector<std::string> channel_arguments(const shm::ChannelConfig& config) {
    return {"--channel",       config.name,
            "--ring",          shm::to_string(config.ring),
            "--slots",         std::to_string(config.slot_count),
            "--sync",          shm::to_string(config.sync),
            "--checksum",      shm::to_string(config.checksum),
            "--slot-bytes",    std::to_string(config.slot_bytes),
            "--max-consumers", std::to_string(config.max_consumers),
            "--mode",          octal(static_cast<unsigned>(config.mode)),
            "--schema-fill",   std::to_string(config.schema_hash[0])};
}

std::vector<std::string> concat(std::vector<std::string> arguments, const std::vector<std::string>& more) {
    arguments.insert(arguments.end(), more.begin(), more.end());
    return arguments;
}

ChildProcess spawn_peer(const std::string& role, std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), role);
    return ChildProcess::spawn(DHUB_SHM_PEER, arguments);
}

ChildProcess spawn_peer(const std::string& role, std::vector<std::string> arguments, ReadySignal& ready) {
    // ReadySignal's pipe is close-on-exec; dup() gives a descriptor without that flag.
    const int inherited = ::dup(ready.write_fd());
    arguments.push_back("--ready-fd");
    arguments.push_back(std::to_string(inherited));
    ChildProcess child = spawn_peer(role, std::move(arguments));
    ::close(inherited);
    return child;
}

std::string describe(const ExitStatus& status) {
    if (status.timed_out) return "still running at its deadline (killed)";
    if (status.signalled) return "killed by signal " + std::to_string(status.signal);
    if (status.exited) return "exited " + std::to_string(status.code) + " (" + describe_exit_code(status.code) + ")";
    return "not started";
}

::testing::AssertionResult exited_with(const ExitStatus& status, PeerExit expected) {
    if (status.exited && !status.timed_out && status.code == exit_code(expected)) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "peer " << describe(status) << ", expected exit " << exit_code(expected)
                                         << " (" << describe(expected) << ")";
}

double test_scale() {
    static const double scale = [] {
        const char* text = std::getenv("DHUB_TEST_SCALE");
        const double parsed = text != nullptr ? std::atof(text) : DEFAULT_SCALE;
        return parsed > 0 ? parsed : DEFAULT_SCALE;
    }();
    return scale;
}

std::uint64_t scaled(std::uint64_t count, std::uint64_t minimum) {
    const auto scaled_count = static_cast<std::uint64_t>(std::llround(static_cast<double>(count) * test_scale()));
    return std::max(scaled_count, minimum);
}

std::chrono::nanoseconds scaled_period(std::chrono::nanoseconds period) {
    return std::chrono::nanoseconds(std::llround(static_cast<double>(period.count()) / test_scale()));
}

Result<shm::Consumer> attach_when_created(const std::string& channel,
                                          shm::ConsumerOptions options,
                                          std::chrono::milliseconds timeout) {
    std::optional<Result<shm::Consumer>> attached;
    wait_until(
        [&] {
            attached.emplace(shm::Consumer::attach(channel, options));
            if (attached->ok()) return true;
            const ErrorCode code = attached->error().code;
            return code != ErrorCode::NotFound && code != ErrorCode::Corrupt && code != ErrorCode::Timeout;
        },
        timeout);
    return std::move(*attached);
}

std::string sizes_argument(PayloadSizes sizes) {
    return std::string(sizes == PayloadSizes::Full ? FULL_SIZES_NAME : RANDOM_SIZES_NAME);
}

Received read_until_quiet(shm::Consumer& consumer, PayloadSizes sizes, shm::WaitOptions wait) {
    Received received;
    const std::size_t capacity = consumer.view().slot_payload_bytes();
    for (;;) {
        shm::ReadSlot slot = consumer.acquire_read(wait);
        if (!slot) {
            received.final_status = slot.status();
            return received;
        }
        const std::uint64_t sequence = slot.sequence();
        const bool intact = is_expected_payload(sequence, slot.payload(), capacity, sizes);
        if (slot.release() == shm::Status::Overwritten) {
            ++received.overwritten;
        } else {
            (intact ? received.sequences : received.corrupt).push_back(sequence);
        }
    }
}

std::vector<std::uint64_t> consecutive(std::uint64_t first, std::uint64_t count) {
    std::vector<std::uint64_t> sequences(count);
    for (std::uint64_t index = 0; index < count; ++index)
        sequences[index] = first + index;
    return sequences;
}

}  // namespace dhub::testing
