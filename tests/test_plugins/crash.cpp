// SPDX-License-Identifier: Apache-2.0
// Plugins that fail the way vendor libraries do, for the crash isolation tests: a stage that copies numbered
// frames (test_gate's tick_frames: the frame number in the first 8 bytes) and, after `after` of them in its
// process, crashes, aborts, exits, hangs or eats memory; and a sink that checks it sees every frame number
// exactly once, in order, and writes what it saw to a file when it stops.
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "dhub/sdk/plugin.hpp"

namespace {

using dhub::sdk::Bytes;

std::uint64_t frame_number(std::span<const std::byte> bytes) {
    std::uint64_t number = 0;
    if (bytes.size() >= sizeof number) std::memcpy(&number, bytes.data(), sizeof number);
    return number;
}

[[noreturn]] void fail_as(const std::string& how) {
    if (how == "abort") std::abort();
    if (how == "exit") ::_exit(3);
    if (how == "hang") {
        for (;;)
            ::pause();  // never returns, never calls the host: only the watchdog sees it
    }
    if (how == "hog") {
        // Like a library that aborts when malloc fails: under an address-space limit this ends in SIGABRT.
        std::vector<void*> blocks;
        for (;;) {
            void* block = std::malloc(std::size_t{16} << 20);
            if (block == nullptr) std::abort();
            std::memset(block, 1, std::size_t{16} << 20);
            blocks.push_back(block);
        }
    }
    // "segv", the default: a real fault on a page that allows no access (a null store would be undefined
    // behaviour, which UBSan reports instead of letting it fault).
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED) *static_cast<volatile int*>(page) = 1;
    std::abort();
}

class Crashy : public dhub::sdk::Stage<Bytes, Bytes> {
public:
    static constexpr const char* id = "test.stage.crashy";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "copies frames; fails as `how` after `after` of them in its process";
    static constexpr const char* input_schema = "*";
    static constexpr const char* output_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"after","type":"integer","default":0,"min":0,"doc":"fail after this many frames in this process (0: never)"},
{"name":"how","type":"string","default":"segv","doc":"segv, abort, exit (code 3), hang or hog"},
{"name":"fail_create","type":"boolean","default":false,"doc":"refuse to be created"},
{"name":"pid_file","type":"string","default":"","doc":"write the process id here when created"},
{"name":"message_every","type":"integer","default":0,"min":0,"doc":"send \"frame N\" on the output channel every N frames"},
{"name":"flex","type":"boolean","default":false,"doc":"keep the number of frames copied in the output's flex zone"}
])json";

    explicit Crashy(dhub::sdk::NodeContext& context)
        : after_(static_cast<std::uint64_t>(context.params().integer("after"))),
          how_(std::string(context.params().string("how"))),
          message_every_(static_cast<std::uint64_t>(context.params().integer("message_every"))),
          flex_(context.params().boolean("flex")) {
        if (context.params().boolean("fail_create")) throw std::runtime_error("the device is not connected");
        if (const std::string pid_file(context.params().string("pid_file")); !pid_file.empty()) {
            std::ofstream(pid_file) << ::getpid() << "\n";
        }
    }

    dhub_status process(dhub::sdk::NodeContext& context,
                        const dhub::sdk::InputSlot<Bytes>& in,
                        dhub::sdk::OutputSlot<Bytes>& out) {
        if (after_ != 0 && seen_ == after_) fail_as(how_);
        ++seen_;
        const std::uint64_t number = frame_number(in.bytes());
        if (message_every_ != 0 && number % message_every_ == 0) {
            (void)context.send_message(dhub::sdk::Direction::Output, 0, "frame " + std::to_string(number));
        }
        if (flex_) (void)context.flex<std::uint64_t>(dhub::sdk::Direction::Output).write(number + 1);
        const auto frame = in.bytes();
        if (out.capacity() < frame.size()) return DHUB_ERR_INVALID_ARGUMENT;
        std::memcpy(out.bytes().data(), frame.data(), frame.size());
        out.set_bytes(frame.size());
        out.set_timestamp_ns(in.timestamp_ns());
        return DHUB_OK;
    }

private:
    std::uint64_t after_;
    std::string how_;
    std::uint64_t message_every_;
    bool flex_;
    std::uint64_t seen_ = 0;
};

class SequenceCheck : public dhub::sdk::Sink<Bytes> {
public:
    static constexpr const char* id = "test.sink.sequence_check";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description =
        "checks that frame numbers arrive once each, in order; writes {count, duplicates, missing, last} to file";
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([
{"name":"file","type":"string","default":"","doc":"where the summary goes when the node stops"},
{"name":"delay_ms","type":"integer","default":0,"min":0,"doc":"time spent on each frame (a slow reader)"}
])json";

    explicit SequenceCheck(dhub::sdk::NodeContext& context)
        : file_(std::string(context.params().string("file"))),
          delay_(std::chrono::milliseconds(context.params().integer("delay_ms"))) {}

    dhub_status consume(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<Bytes>& in) {
        if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
        const std::uint64_t number = frame_number(in.bytes());
        if (count_ != 0 && number < next_) {
            ++duplicates_;
        } else {
            if (count_ != 0 || number != 0) missing_ += number - next_;
            next_ = number + 1;
        }
        ++count_;
        return DHUB_OK;
    }
    void on_message(dhub::sdk::NodeContext&, std::string_view /*channel*/, std::string_view text) {
        if (text.starts_with("frame ")) ++messages_;
    }
    void stop(dhub::sdk::NodeContext& context) {
        std::uint64_t flex = 0;
        (void)context.flex<std::uint64_t>(dhub::sdk::Direction::Input).read(flex);
        const std::string summary =
            "{\"count\": " + std::to_string(count_) + ", \"duplicates\": " + std::to_string(duplicates_) +
            ", \"missing\": " + std::to_string(missing_) + ", \"last\": " + std::to_string(next_ == 0 ? 0 : next_ - 1) +
            ", \"messages\": " + std::to_string(messages_) + ", \"flex\": " + std::to_string(flex) + "}";
        context.log().info("sequence check: " + summary);
        if (!file_.empty()) std::ofstream(file_) << summary << "\n";
    }

private:
    std::string file_;
    std::chrono::milliseconds delay_;
    std::uint64_t count_ = 0;
    std::uint64_t next_ = 0;
    std::uint64_t duplicates_ = 0;
    std::uint64_t missing_ = 0;
    std::uint64_t messages_ = 0;
};

}  // namespace

DHUB_PLUGIN("test_crash",
            "1.0.0",
            "Apache-2.0",
            "test components that crash, hang or eat memory, and a sink that checks frame numbers",
            dhub::sdk::component<Crashy>(),
            dhub::sdk::component<SequenceCheck>());
