// SPDX-License-Identifier: Apache-2.0
// dhub-shm and dhub-shm-demo run as real programs (ChildProcess::spawn, output captured in temporary files)
// against real segments that the test creates, kills and inspects.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dhub/shm/consumer.hpp"
#include "dhub/shm/inspect.hpp"
#include "dhub/shm/producer.hpp"
#include "dhub/shm/segment.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_channel.hpp"

#if !defined(DHUB_SHM_CLI) || !defined(DHUB_SHM_DEMO) || !defined(DHUB_VERSION)
#error "the build must define DHUB_SHM_CLI, DHUB_SHM_DEMO (paths of the programs) and DHUB_VERSION"
#endif

namespace dhub::testing {
namespace {

/// Generous: sanitizer builds run the tools many times slower.
constexpr std::chrono::milliseconds TOOL_DEADLINE{60'000};

struct ToolRun {
    ExitStatus status;
    std::string out;
    std::string err;

    bool exited_with(int code) const { return status.exited && status.code == code; }
    /// For assertion messages: how it ended and everything it printed.
    std::string describe() const {
        std::ostringstream text;
        if (status.timed_out) text << "timed out; ";
        if (status.exited) text << "exit " << status.code;
        if (status.signalled) text << "killed by signal " << status.signal;
        text << "\n--- stdout ---\n" << out << "--- stderr ---\n" << err;
        return text.str();
    }
};

/// Runs program with arguments as a separate process and waits for it; stdout and stderr are captured in
/// files of a private temporary directory.
ToolRun run_program(const std::string& program, const std::vector<std::string>& arguments) {
    const TempDir capture("dhub-cli-test");
    ChildOptions options;
    options.output_file = capture.file("stdout");
    options.error_file = capture.file("stderr");
    ChildProcess child = ChildProcess::spawn(program, arguments, options);
    ToolRun run;
    run.status = child.wait(TOOL_DEADLINE);
    run.out = read_text_file(options.output_file);
    run.err = read_text_file(options.error_file);
    return run;
}

ToolRun run_cli(const std::vector<std::string>& arguments) {
    return run_program(DHUB_SHM_CLI, arguments);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/// The line of text that mentions part, or "" if none does.
std::string line_with(const std::string& text, const std::string& part) {
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (contains(line, part)) return line;
    }
    return {};
}

shm::ChannelConfig small_config(const std::string& channel) {
    shm::ChannelConfig config;
    config.name = channel;
    config.slot_bytes = 256;
    config.ring = shm::RingPolicy::Ring;
    config.slot_count = 8;
    config.sync = shm::SyncPolicy::EveryReader;
    config.max_consumers = 4;
    return config;
}

[[noreturn]] void block_until_killed() {
    for (;;)
        ::pause();
}

/// A child process attached to channel as consumer "cli-test-reader", reading nothing until it is killed.
ChildProcess spawn_idle_consumer(const std::string& channel) {
    ReadySignal attached;
    ChildProcess child = ChildProcess::fork([&] {
        auto consumer = shm::Consumer::attach(channel, {.name = "cli-test-reader"});
        if (!consumer) {
            std::fprintf(stderr, "consumer child: %s\n", consumer.error().message.c_str());
            return 1;
        }
        attached.notify();
        block_until_killed();
    });
    EXPECT_TRUE(attached.wait()) << "the consumer child did not attach to " << channel;
    return child;
}

TEST(DhubShmCli, VersionComesFromTheProjectAndUsageErrorsExitWith2) {
    const ToolRun version = run_cli({"--version"});
    EXPECT_TRUE(version.exited_with(0)) << version.describe();
    EXPECT_EQ(version.out, "dhub-shm " DHUB_VERSION "\n");

    const ToolRun help = run_cli({"--help"});
    EXPECT_TRUE(help.exited_with(0)) << help.describe();
    EXPECT_TRUE(contains(help.out, "exit codes")) << help.out;

    for (const std::vector<std::string>& wrong :
         {std::vector<std::string>{}, {"frobnicate"}, {"inspect"}, {"gc", "--json"}, {"inspect", "bad/name"}}) {
        const ToolRun run = run_cli(wrong);
        EXPECT_TRUE(run.exited_with(2)) << run.describe();
        EXPECT_FALSE(run.err.empty());
    }
}

TEST(DhubShmCli, ListShowsTheChannelAndItsLiveProducer) {
    const std::string channel = unique_channel_name("cli-list");
    ChannelCleanup cleanup(channel);
    auto producer = shm::Producer::create(small_config(channel));
    ASSERT_TRUE(producer) << producer.error().message;

    const ToolRun run = run_cli({"list"});
    ASSERT_TRUE(run.exited_with(0)) << run.describe();
    const std::string line = line_with(run.out, channel);
    ASSERT_FALSE(line.empty()) << run.describe();
    EXPECT_TRUE(contains(line, "every_reader")) << line;
    EXPECT_TRUE(contains(line, "8 x 256 B")) << line;
    EXPECT_TRUE(contains(line, std::to_string(::getpid()) + " alive")) << line;
}

TEST(DhubShmCli, InspectJsonReportsProducerSlotsAndConsumerSeat) {
    const std::string channel = unique_channel_name("cli-inspect");
    ChannelCleanup cleanup(channel);
    auto producer = shm::Producer::create(small_config(channel));
    ASSERT_TRUE(producer) << producer.error().message;
    ChildProcess consumer = spawn_idle_consumer(channel);
    for (int frame = 0; frame < 3; ++frame) {
        shm::WriteSlot slot = producer->acquire_write();
        ASSERT_TRUE(slot) << shm::to_string(slot.status());
        ASSERT_EQ(slot.commit(100), shm::Status::Ok);
    }

    const ToolRun run = run_cli({"inspect", channel, "--json"});
    ASSERT_TRUE(run.exited_with(0)) << run.describe();
    const nlohmann::json info = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(info.is_discarded()) << "not JSON:\n" << run.out;
    EXPECT_EQ(info["channel"], channel);
    EXPECT_EQ(info["producer"]["pid"], ::getpid());
    EXPECT_EQ(info["producer"]["alive"], true);
    EXPECT_EQ(info["header"]["slot_count"], 8);
    EXPECT_EQ(info["header"]["slot_payload_bytes"], 256);
    EXPECT_EQ(info["header"]["sync_policy"], "every_reader");
    EXPECT_EQ(info["write_seq"], 3);
    ASSERT_EQ(info["slots"].size(), 8u);
    EXPECT_EQ(info["slots"][2]["state"], "committed");
    EXPECT_EQ(info["slots"][2]["payload_bytes"], 100);
    EXPECT_EQ(info["slots"][5]["state"], "empty");
    ASSERT_EQ(info["consumers"].size(), 1u) << run.out;
    const auto& seat = info["consumers"][0];
    EXPECT_EQ(seat["seat"], 0);
    EXPECT_EQ(seat["pid"], consumer.pid());
    EXPECT_EQ(seat["name"], "cli-test-reader");
    EXPECT_EQ(seat["state"], "active");
    EXPECT_EQ(seat["alive"], true);
    EXPECT_EQ(seat["lag"], 3) << "the consumer has read none of the 3 frames";

    const ToolRun text = run_cli({"inspect", channel});
    ASSERT_TRUE(text.exited_with(0)) << text.describe();
    EXPECT_TRUE(contains(text.out, "consumers (1 live of 1 attached")) << text.out;
    EXPECT_TRUE(contains(text.out, "cli-test-reader")) << text.out;
    consumer.kill();
}

TEST(DhubShmCli, InspectShowsTheStoredSchemasFieldsAndFingerprint) {
    const std::string channel = unique_channel_name("cli-schema");
    ChannelCleanup cleanup(channel);
    shm::ChannelConfig config = small_config(channel);
    // What the kernel stores for a channel of a declared schema (docs/schemas.md): the document with defaults.
    config.schema_descriptor =
        R"({"align":8,"doc":"a reading","encoding":"struct","fields":[)"
        R"({"dtype":"<u8","name":"timestamp_ns","offset":0,"shape":[]},)"
        R"({"dtype":"<f8","name":"celsius","offset":8,"shape":[4]}],"name":"lab.probe","size":40,"version":3})";
    auto producer = shm::Producer::create(config);
    ASSERT_TRUE(producer) << producer.error().message;

    const ToolRun json_run = run_cli({"inspect", channel, "--json"});
    ASSERT_TRUE(json_run.exited_with(0)) << json_run.describe();
    const nlohmann::json info = nlohmann::json::parse(json_run.out, nullptr, false);
    ASSERT_FALSE(info.is_discarded()) << json_run.out;
    EXPECT_EQ(info["schema"]["id"], "lab.probe@3");
    EXPECT_EQ(info["schema"]["fingerprint"].get<std::string>().rfind("dhs1_", 0), 0u);
    EXPECT_EQ(info["schema"]["descriptor"]["fields"][1]["shape"], nlohmann::json::array({4}));
    EXPECT_EQ(info["schema"]["descriptor"]["doc"], "a reading");

    const ToolRun text = run_cli({"inspect", channel});
    ASSERT_TRUE(text.exited_with(0)) << text.describe();
    EXPECT_TRUE(contains(text.out, "lab.probe@3")) << text.out;
    EXPECT_TRUE(contains(text.out, "struct, 40 bytes, align 8")) << text.out;
    EXPECT_TRUE(contains(line_with(text.out, "celsius"), "<f8")) << text.out;
    EXPECT_TRUE(contains(line_with(text.out, "celsius"), "[4]")) << text.out;
    EXPECT_TRUE(contains(text.out, info["schema"]["fingerprint"].get<std::string>())) << text.out;
}

TEST(DhubShmCli, AStoredDescriptorThatIsNotASchemaIsShownAsUnreadableNotACrash) {
    const std::string channel = unique_channel_name("cli-bad-schema");
    ChannelCleanup cleanup(channel);
    shm::ChannelConfig config = small_config(channel);
    config.schema_descriptor = R"({"name": "x", "version": 1, "fields": [{"name": "a", "dtype": "=f8"}]})";
    auto producer = shm::Producer::create(config);
    ASSERT_TRUE(producer) << producer.error().message;
    const ToolRun text = run_cli({"inspect", channel});
    ASSERT_TRUE(text.exited_with(0)) << text.describe();
    EXPECT_TRUE(contains(text.out, "not a valid schema: /fields/0/dtype")) << text.out;
    const ToolRun json_run = run_cli({"inspect", channel, "--json"});
    ASSERT_TRUE(json_run.exited_with(0)) << json_run.describe();
    EXPECT_TRUE(contains(json_run.out, "\"error\"")) << json_run.out;
}

TEST(DhubShmCli, InspectOfAMissingChannelExits1AndNamesIt) {
    const std::string channel = unique_channel_name("cli-missing");
    const ToolRun run = run_cli({"inspect", channel});
    EXPECT_TRUE(run.exited_with(1)) << run.describe();
    EXPECT_TRUE(contains(run.err, channel)) << run.describe();
    EXPECT_TRUE(run.out.empty()) << run.describe();
}

TEST(DhubShmCli, RecoverResetsTheSlotOfAProducerKilledMidWrite) {
    const std::string channel = unique_channel_name("cli-recover");
    ChannelCleanup cleanup(channel);
    ReadySignal writing;
    ChildProcess writer = ChildProcess::fork([&] {
        auto producer = shm::Producer::create(small_config(channel));
        if (!producer) return 1;
        for (int frame = 0; frame < 2; ++frame) {
            if (producer->acquire_write().commit(10) != shm::Status::Ok) return 2;
        }
        shm::WriteSlot slot = producer->acquire_write();  // sequence 2, slot 2: left busy
        if (!slot) return 3;
        std::memset(slot.payload().data(), 0xAB, slot.payload().size());
        writing.notify();
        block_until_killed();
    });
    ASSERT_TRUE(writing.wait()) << "the producer child never got to write";
    writer.kill(SIGKILL);
    ASSERT_TRUE(writer.wait().signalled);

    auto killed = shm::inspect_channel(channel);
    ASSERT_TRUE(killed) << killed.error().message;
    ASSERT_TRUE(killed->slots[2].busy);
    ASSERT_FALSE(killed->producer_alive);

    const ToolRun dry = run_cli({"recover", channel, "--dry-run"});
    ASSERT_TRUE(dry.exited_with(0)) << dry.describe();
    EXPECT_TRUE(contains(line_with(dry.out, "reset slot 2"), "would")) << dry.describe();
    auto untouched = shm::inspect_channel(channel);
    ASSERT_TRUE(untouched) << untouched.error().message;
    EXPECT_TRUE(untouched->slots[2].busy) << "a dry run changed the slot";
    EXPECT_EQ(untouched->producer_pid, static_cast<std::uint32_t>(writer.pid())) << "a dry run released the lease";

    const ToolRun real = run_cli({"recover", channel});
    ASSERT_TRUE(real.exited_with(0)) << real.describe();
    EXPECT_TRUE(contains(real.out, "reset slot 2")) << real.describe();
    auto recovered = shm::inspect_channel(channel);
    ASSERT_TRUE(recovered) << recovered.error().message;
    EXPECT_FALSE(recovered->slots[2].busy);
    EXPECT_TRUE(recovered->slots[2].empty);
    EXPECT_FALSE(recovered->slots[1].empty) << "a committed slot was reset";
    EXPECT_EQ(recovered->producer_pid, 0u) << "the dead producer's lease was not released";
}

TEST(DhubShmCli, RemoveRefusesWhileAConsumerIsAliveUnlessForced) {
    const std::string channel = unique_channel_name("cli-remove");
    ChannelCleanup cleanup(channel);
    shm::ProducerOptions keep_segment;
    keep_segment.unlink_on_close = false;
    auto producer = shm::Producer::create(small_config(channel), keep_segment);
    ASSERT_TRUE(producer) << producer.error().message;
    ChildProcess consumer = spawn_idle_consumer(channel);
    producer->close();  // from here on only the consumer is alive

    const ToolRun refused = run_cli({"remove", channel});
    EXPECT_TRUE(refused.exited_with(1)) << refused.describe();
    EXPECT_TRUE(contains(refused.err, channel)) << refused.describe();
    EXPECT_TRUE(contains(refused.err, "pid " + std::to_string(consumer.pid()))) << refused.describe();
    EXPECT_TRUE(shm::Segment::open(channel)) << "a refused remove removed the segment";

    const ToolRun forced = run_cli({"remove", channel, "--force"});
    EXPECT_TRUE(forced.exited_with(0)) << forced.describe();
    const auto gone = shm::Segment::open(channel);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code, ErrorCode::NotFound);
    consumer.kill();
}

// ---- gc ------------------------------------------------------------------------------------------------

constexpr int SANDBOX_UNAVAILABLE = 77;

/// Runs body in a child with a private /dev/shm (own mount namespace, fresh tmpfs): gc removes every dead
/// segment on the host, and must not remove those of other tests running at the same time. nullopt when
/// the namespace cannot be made (needs CAP_SYS_ADMIN).
std::optional<ExitStatus> run_with_private_dev_shm(const std::function<int()>& body) {
    ChildProcess sandbox = ChildProcess::fork([&] {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") != 0) {
            return SANDBOX_UNAVAILABLE;
        }
        return body();
    });
    const ExitStatus status = sandbox.wait(TOOL_DEADLINE);
    if (status.exited && status.code == SANDBOX_UNAVAILABLE) return std::nullopt;
    return status;
}

/// A segment whose producer died without closing it, and one whose producer (this process) is alive:
/// gc --dry-run reports and keeps both, gc removes the first only. Returns what went wrong, "" if nothing.
std::string gc_scenario(const std::string& dead, const std::string& live) {
    ChildProcess dying = ChildProcess::fork([&] {
        auto producer = shm::Producer::create(small_config(dead));
        if (!producer) return 1;
        ::_exit(0);  // without the destructor, which would close the channel and remove the segment
    });
    const ExitStatus died = dying.wait(TOOL_DEADLINE);
    if (!died.exited || died.code != 0) return "the producer child for " + dead + " failed";
    auto producer = shm::Producer::create(small_config(live));
    if (!producer) return producer.error().message;
    const std::string kept_line = "kept: " + live + ": producer pid " + std::to_string(::getpid()) + " is alive";

    const ToolRun dry = run_cli({"gc", "--dry-run"});
    if (!dry.exited_with(0) || !contains(dry.out, "would remove: " + dead) || !contains(dry.out, kept_line)) {
        return "gc --dry-run: " + dry.describe();
    }
    if (!shm::Segment::open(dead)) return "gc --dry-run removed " + dead;

    const ToolRun real = run_cli({"gc"});
    if (!real.exited_with(0) || !contains(real.out, "removed: " + dead) || !contains(real.out, kept_line)) {
        return "gc: " + real.describe();
    }
    if (shm::Segment::open(dead)) return "gc reported but did not remove " + dead;
    if (auto still = shm::Segment::open(live); !still)
        return "gc removed the live " + live + ": " + still.error().message;
    return {};
}

/// Runs a gc scenario (returns "" or what went wrong) in a private /dev/shm where it can be made, else on the
/// real one (which may remove other tests' dead segments).
void expect_gc_scenario_passes(const std::function<std::string()>& scenario) {
    const auto sandboxed = run_with_private_dev_shm([&] {
        const std::string failure = scenario();
        if (failure.empty()) return 0;
        std::fprintf(stderr, "gc scenario: %s\n", failure.c_str());
        return 1;
    });
    if (sandboxed) {
        EXPECT_TRUE(sandboxed->exited && sandboxed->code == 0) << "the gc scenario failed (its stderr says why)";
    } else {
        EXPECT_EQ(scenario(), "");
    }
}

TEST(DhubShmCli, GcRemovesADeadProducersSegmentAndKeepsALiveOnes) {
    const std::string dead = unique_channel_name("cli-gc-dead");
    const std::string live = unique_channel_name("cli-gc-live");
    ChannelCleanup dead_cleanup(dead);
    ChannelCleanup live_cleanup(live);
    expect_gc_scenario_passes([&] { return gc_scenario(dead, live); });
}

/// A dead producer's segment whose header magic was then corrupted: list shows it as corrupt; gc must not
/// trust its owner fields, so it lists it as corrupt and keeps it; gc --force removes it. Returns what went wrong, ""
/// if nothing.
std::string gc_corrupt_scenario(const std::string& corrupt) {
    ChildProcess dying = ChildProcess::fork([&] {
        auto producer = shm::Producer::create(small_config(corrupt));
        if (!producer) return 1;
        ::_exit(0);
    });
    const ExitStatus died = dying.wait(TOOL_DEADLINE);
    if (!died.exited || died.code != 0) return "the producer child for " + corrupt + " failed";
    {
        auto segment = shm::Segment::open(corrupt);
        if (!segment) return segment.error().message;
        std::memset(segment->data(), 0x5A, sizeof(std::uint64_t));  // the magic
    }
    const ToolRun listed = run_cli({"list"});
    if (!listed.exited_with(0) || !contains(listed.out, " corrupt: channel '" + corrupt + "': header field magic")) {
        return "list: " + listed.describe();
    }
    const ToolRun kept = run_cli({"gc"});
    if (!kept.exited_with(0) || !contains(kept.out, "corrupt, kept (remove with --force): " + corrupt) ||
        contains(kept.out, "removed: " + corrupt)) {
        return "gc: " + kept.describe();
    }
    if (!shm::Segment::open(corrupt)) return "gc removed the corrupt " + corrupt + " without --force";
    const ToolRun forced = run_cli({"gc", "--force"});
    if (!forced.exited_with(0) || !contains(forced.out, "corrupt, removed: " + corrupt)) {
        return "gc --force: " + forced.describe();
    }
    if (shm::Segment::open(corrupt)) return "gc --force reported but did not remove " + corrupt;
    return {};
}

TEST(DhubShmCli, GcListsACorruptSegmentAndRemovesItOnlyWithForce) {
    const std::string corrupt = unique_channel_name("cli-gc-corrupt");
    ChannelCleanup cleanup(corrupt);
    expect_gc_scenario_passes([&] { return gc_corrupt_scenario(corrupt); });
}

// ---- the demo ------------------------------------------------------------------------------------------

TEST(DhubShmDemo, RunsForOneSecondWithoutLossAndRemovesItsSegment) {
    const ToolRun run = run_program(DHUB_SHM_DEMO, {"--seconds", "1"});
    EXPECT_TRUE(run.exited_with(0)) << run.describe();
    EXPECT_TRUE(contains(run.out, "0 missed, 0 bad")) << run.describe();
    EXPECT_TRUE(contains(run.out, "latency p50")) << run.describe();
    // The producer is the process the test started, so its channel is demo-<that pid>.
    std::string channel;
    const std::string producer_line = line_with(run.out, "producer: pid ");
    if (const auto quote = producer_line.find('\''); quote != std::string::npos) {
        channel = producer_line.substr(quote + 1, producer_line.find('\'', quote + 1) - quote - 1);
    }
    ASSERT_FALSE(channel.empty()) << run.describe();
    ChannelCleanup cleanup(channel);
    EXPECT_FALSE(shm::Segment::open(channel)) << "the demo left " << channel << " behind";
}

}  // namespace
}  // namespace dhub::testing
