// SPDX-License-Identifier: Apache-2.0
// The counters page: what a kernel writes into its records is what a reader in any process reads back, names
// and all; a reader refuses what is not a page of its layout, and a page a killed kernel left is taken over.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "dhub/counters/counters_page.hpp"
#include "dhub/counters/page_reader.hpp"
#include "support/child_process.hpp"

namespace dhub::counters {
namespace {

std::string unique_prefix(const std::string& what) {
    return "unit-" + what + "-" + std::to_string(::getpid());
}

PageShape two_nodes(const std::string& prefix) {
    PageShape shape;
    shape.graph = "unit";
    shape.segment_prefix = prefix;
    shape.nodes = {{"cam", "test.source.frames", "thread", {}},
                   {"viewer", "test.sink.frames", "process", {{"raw", true}, {"meta", false}}}};
    shape.channels = {{"raw", prefix + ".raw", 0}, {"meta", prefix + ".meta", NO_NODE}};
    return shape;
}

TEST(CountersPage, NodesAndChannelsAddedWhileTheGraphRunsAreReadUntilRetired) {
    const std::string prefix = unique_prefix("added");
    PageShape shape = two_nodes(prefix);
    shape.spare_nodes = 2;
    shape.spare_inputs = 1;
    shape.spare_channels = 1;
    auto page = CountersPage::create(shape, PageKind::Shared);
    ASSERT_TRUE(page) << page.error().message;
    auto reader = PageReader::open("dhubctr1." + prefix);
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_EQ(reader.value().read().nodes.size(), 2u) << "spare records are not read";

    auto recorder = page.value().add_node({"rec", "dhub.sink.recorder", "thread", {{"raw", false}}});
    ASSERT_TRUE(recorder) << recorder.error().message;
    EXPECT_EQ(recorder.value(), 2u);
    add(page.value().node(recorder.value()).slots_in, 5);
    add(page.value().input(recorder.value(), 0).gaps, 1);
    auto half = page.value().add_channel({"half", prefix + ".half", recorder.value()});
    ASSERT_TRUE(half) << half.error().message;
    KernelCounters read = reader.value().read();
    ASSERT_EQ(read.nodes.size(), 3u);
    EXPECT_EQ(read.nodes[2].id, "rec");
    EXPECT_EQ(read.nodes[2].slots_in, 5u);
    ASSERT_EQ(read.inputs.size(), 3u);
    EXPECT_EQ(read.inputs[2].node, "rec");
    EXPECT_EQ(read.inputs[2].gaps, 1u);
    ASSERT_EQ(read.channels.size(), 3u);
    EXPECT_EQ(read.channels[2].producer, "rec");

    // The spares are used up: one more input, one more channel, is refused with why; a node without inputs fits.
    const auto no_input = page.value().add_node({"more", "c", "thread", {{"raw", false}}});
    ASSERT_FALSE(no_input);
    EXPECT_NE(no_input.error().message.find("no record left for node 'more'"), std::string::npos);
    EXPECT_FALSE(page.value().add_channel({"more", prefix + ".more", NO_NODE}));
    auto source = page.value().add_node({"src", "c", "thread", {}});
    ASSERT_TRUE(source) << source.error().message;
    EXPECT_FALSE(page.value().add_node({"last", "c", "thread", {}}));

    // Retired: the node, its inputs and its channel leave every reading; its id may come back in a new record.
    page.value().retire_node(recorder.value());
    page.value().retire_channel(half.value());
    read = reader.value().read();
    ASSERT_EQ(read.nodes.size(), 3u);
    EXPECT_EQ(read.nodes[2].id, "src");
    EXPECT_EQ(read.inputs.size(), 2u);
    EXPECT_EQ(read.channels.size(), 2u);
}

TEST(CountersPage, WhatTheOwnersWriteIsWhatAReaderReads) {
    const std::string prefix = unique_prefix("roundtrip");
    auto page = CountersPage::create(two_nodes(prefix), PageKind::Shared);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_EQ(page.value().file_name(), "dhubctr1." + prefix);
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/dhubctr1." + prefix));

    NodeRecord& camera = page.value().node(0);
    bump(camera.slots_out);
    add(camera.bytes_out, 4096);
    CountersPage::set_state(camera, NodeState::Running);
    NodeRecord& viewer = page.value().node(1);
    add(viewer.slots_in, 7);
    bump(viewer.handler_histogram[histogram_bucket(1500)]);
    CountersPage::set_state(viewer, NodeState::Stopped, "input_closed");
    CountersPage::set_state(viewer, NodeState::Failed, "crashed");  // a final state is never left
    InputRecord& meta = page.value().input(1, 1);
    add(meta.gaps, 3);

    auto reader = PageReader::open("dhubctr1." + prefix);
    ASSERT_TRUE(reader) << reader.error().message;
    const KernelCounters read = reader.value().read();
    EXPECT_EQ(read.graph, "unit");
    EXPECT_EQ(read.segment_prefix, prefix);
    EXPECT_EQ(read.pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_TRUE(read.alive);
    ASSERT_EQ(read.nodes.size(), 2u);
    EXPECT_EQ(read.nodes[0].id, "cam");
    EXPECT_EQ(read.nodes[0].state, NodeState::Running);
    EXPECT_EQ(read.nodes[0].slots_out, 1u);
    EXPECT_EQ(read.nodes[0].bytes_out, 4096u);
    EXPECT_EQ(read.nodes[1].isolation, "process");
    EXPECT_EQ(read.nodes[1].state, NodeState::Stopped);
    EXPECT_EQ(read.nodes[1].end_reason, "input_closed");
    EXPECT_EQ(read.nodes[1].slots_in, 7u);
    EXPECT_EQ(handler_p99_ns(read.nodes[1]), 2048u);  // 1500 ns is in [1024, 2048)
    ASSERT_EQ(read.inputs.size(), 2u);
    EXPECT_EQ(read.inputs[0].node, "viewer");
    EXPECT_EQ(read.inputs[0].channel, "raw");
    EXPECT_TRUE(read.inputs[0].latest);
    EXPECT_EQ(read.inputs[1].channel, "meta");
    EXPECT_EQ(read.inputs[1].gaps, 3u);
    ASSERT_EQ(read.channels.size(), 2u);
    EXPECT_EQ(read.channels[0].producer, "cam");
    EXPECT_EQ(read.channels[1].producer, "");  // another kernel writes it
    EXPECT_EQ(read.channels[1].segment, prefix + ".meta");

    const nlohmann::json json = to_json(read);
    EXPECT_EQ(json["nodes"][1]["end_reason"], "input_closed");
    EXPECT_EQ(json["nodes"][1]["handler_p99_ns"], 2048);

    page.value() = CountersPage();  // the kernel ends: its page goes
    EXPECT_FALSE(std::filesystem::exists("/dev/shm/dhubctr1." + prefix));
}

TEST(CountersPage, APrivatePageLeavesNoFile) {
    auto page = CountersPage::create(two_nodes(unique_prefix("private")), PageKind::Private);
    ASSERT_TRUE(page) << page.error().message;
    EXPECT_FALSE(page.value().shared());
    EXPECT_FALSE(std::filesystem::exists("/dev/shm/dhubctr1." + unique_prefix("private")));
    bump(page.value().node(1).errors);
    EXPECT_EQ(read(page.value().node(1).errors), 1u);
}

TEST(CountersPage, ALivePagesNameIsNotTakenButADeadKernelsIs) {
    const std::string prefix = unique_prefix("taken");
    auto first = CountersPage::create(two_nodes(prefix), PageKind::Shared);
    ASSERT_TRUE(first);
    auto second = CountersPage::create(two_nodes(prefix), PageKind::Shared);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, ErrorCode::AlreadyExists);
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/dhubctr1." + prefix)) << "a failed create removes nothing";

    // A child creates a page under another prefix and dies without removing it (as a SIGKILLed kernel would).
    const std::string orphan = unique_prefix("orphan");
    testing::ChildProcess child = testing::ChildProcess::fork([&] {
        auto page = CountersPage::create(two_nodes(orphan), PageKind::Shared);
        if (!page) return 1;
        new CountersPage(std::move(page.value()));  // never destroyed: the file stays
        return 0;
    });
    ASSERT_EQ(child.wait().code, 0);
    ASSERT_TRUE(std::filesystem::exists("/dev/shm/dhubctr1." + orphan));
    auto stale = PageReader::open("dhubctr1." + orphan);
    ASSERT_TRUE(stale);
    EXPECT_FALSE(stale.value().read().alive);
    auto taken_over = CountersPage::create(two_nodes(orphan), PageKind::Shared);
    ASSERT_TRUE(taken_over) << taken_over.error().message;
    EXPECT_TRUE(PageReader::open("dhubctr1." + orphan).value().read().alive);
}

/// Writes bytes as /dev/shm/<name>.
void write_file(const std::string& name, const void* data, std::size_t size) {
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, data, size), static_cast<ssize_t>(size));
    ::close(fd);
}

TEST(PageReader, RefusesWhatIsNotAPageOfItsLayoutAndNamesTheFile) {
    const std::string name = "dhubctr1." + unique_prefix("bad");
    EXPECT_EQ(PageReader::open(name).error().code, ErrorCode::NotFound);

    const std::string junk(sizeof(PageHeader) + 64, 'x');
    write_file(name, junk.data(), junk.size());
    auto not_a_page = PageReader::open(name);
    ASSERT_FALSE(not_a_page);
    EXPECT_NE(not_a_page.error().message.find("/dev/shm/" + name + " is not a dhub counters page"), std::string::npos)
        << not_a_page.error().message;

    write_file(name, "tiny", 4);
    auto tiny = PageReader::open(name);
    ASSERT_FALSE(tiny);
    EXPECT_NE(tiny.error().message.find("too small"), std::string::npos) << tiny.error().message;

    // A real page with another layout version, then one cut short.
    const std::string prefix = unique_prefix("copy");
    auto page = CountersPage::create(two_nodes(prefix), PageKind::Shared);
    ASSERT_TRUE(page);
    const std::size_t bytes = page.value().header().page_bytes;
    std::string copy(reinterpret_cast<const char*>(&page.value().header()), bytes);
    reinterpret_cast<PageHeader*>(copy.data())->layout_version = LAYOUT_VERSION + 1;
    write_file(name, copy.data(), copy.size());
    auto other_layout = PageReader::open(name);
    ASSERT_FALSE(other_layout);
    EXPECT_EQ(other_layout.error().code, ErrorCode::Incompatible);
    EXPECT_NE(other_layout.error().message.find("layout " + std::to_string(LAYOUT_VERSION + 1)), std::string::npos)
        << other_layout.error().message;

    reinterpret_cast<PageHeader*>(copy.data())->layout_version = LAYOUT_VERSION;
    write_file(name, copy.data(), copy.size() - sizeof(ChannelRecord));
    auto truncated = PageReader::open(name);
    ASSERT_FALSE(truncated);
    EXPECT_NE(truncated.error().message.find("damaged"), std::string::npos) << truncated.error().message;

    write_file(name, copy.data(), copy.size());
    EXPECT_TRUE(PageReader::open(name)) << "the same bytes with the right layout and size are a page";
    ::shm_unlink(("/" + name).c_str());
}

TEST(PageReader, AFifoUnderAPagesNameIsRefusedAtOnceNotWaitedOn) {
    const std::string name = "dhubctr1." + unique_prefix("fifo");
    ASSERT_EQ(::mkfifo(("/dev/shm/" + name).c_str(), 0600), 0);
    auto refused = PageReader::open(name);  // would block for ever without O_NONBLOCK
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("not a regular file"), std::string::npos) << refused.error().message;
    EXPECT_FALSE(left_by_dead_kernel(name));
    ::unlink(("/dev/shm/" + name).c_str());
}

TEST(PageReader, AnUnreadablePageIsADeadKernelsOnlyOnceItIsOlderThanAnySetUp) {
    const std::string name = "dhubctr1." + unique_prefix("unreadable");
    const std::string zeros(sizeof(PageHeader), '\0');  // no magic: a page whose kernel died setting it up
    write_file(name, zeros.data(), zeros.size());
    auto being_set_up = PageReader::open(name);
    ASSERT_FALSE(being_set_up);
    EXPECT_EQ(being_set_up.error().code, ErrorCode::Timeout);
    EXPECT_FALSE(left_by_dead_kernel(name)) << "a young one may be a kernel starting";
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
    ASSERT_GE(fd, 0);
    timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= 20;
    times[1] = times[0];
    ASSERT_EQ(::futimens(fd, times), 0);
    ::close(fd);
    EXPECT_TRUE(left_by_dead_kernel(name));
    ::shm_unlink(("/" + name).c_str());
}

TEST(Histogram, BucketsArePowersOfTwoAndTheLastTakesEverythingAbove) {
    EXPECT_EQ(histogram_bucket(0), 0u);
    EXPECT_EQ(histogram_bucket(1), 1u);
    EXPECT_EQ(histogram_bucket(1023), 10u);
    EXPECT_EQ(histogram_bucket(1024), 11u);
    EXPECT_EQ(histogram_bucket(~0ULL), HISTOGRAM_BUCKETS - 1);
}

TEST(Histogram, P99IsTheUpperBoundOfTheBucketThatHoldsThe99thPercentile) {
    NodeCounts node;
    EXPECT_EQ(handler_p99_ns(node), 0u);
    node.handler_histogram[histogram_bucket(100)] = 990;  // [64, 128)
    node.handler_histogram[histogram_bucket(5000)] = 10;  // [4096, 8192)
    EXPECT_EQ(handler_p99_ns(node), 128u);
    node.handler_histogram[histogram_bucket(5000)] = 11;
    EXPECT_EQ(handler_p99_ns(node), 8192u);
}

}  // namespace
}  // namespace dhub::counters
