// SPDX-License-Identifier: Apache-2.0
// The --events stream: whole lines a reader can poll, the fields it promises, and errors that name the file.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "dhub/events/event_log.hpp"
#include "support/event_file.hpp"
#include "support/temp_dir.hpp"

using dhub::events::EventLog;
using dhub::testing::count_events_in;
using dhub::testing::read_event_file;
using dhub::testing::TempDir;

TEST(EventLog, EachEventIsOneJsonLineWithItsTimeNameAndFields) {
    TempDir dir;
    auto log = EventLog::open(dir / "events.jsonl");
    ASSERT_TRUE(log.ok()) << log.error().message;
    log.value()->emit("stop_requested", {{"cause", "SIGINT"}});
    log.value()->emit("graph_stopped", {{"exit_code", 0}});
    const auto events = read_event_file(dir / "events.jsonl");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["event"], "stop_requested");
    EXPECT_EQ(events[0]["cause"], "SIGINT");
    EXPECT_GT(events[0]["t_ns"].get<std::uint64_t>(), 0u);
    EXPECT_LE(events[0]["t_ns"].get<std::uint64_t>(), events[1]["t_ns"].get<std::uint64_t>());
    EXPECT_EQ(events[1]["exit_code"], 0);
}

TEST(EventLog, InvalidUtf8InAFieldIsReplacedAndTheEventKept) {
    TempDir dir;
    auto log = EventLog::open(dir / "events.jsonl");
    ASSERT_TRUE(log.ok());
    log.value()->emit("input_attached", {{"node", std::string("bad\xff\xfename")}});
    const auto events = read_event_file(dir / "events.jsonl");
    ASSERT_EQ(events.size(), 1u);
    ASSERT_TRUE(events[0].is_object()) << "the line must still parse";
    EXPECT_EQ(events[0]["event"], "input_attached");
}

TEST(EventLog, ThreadsEmittingAtOnceNeverInterleaveALine) {
    TempDir dir;
    auto log = EventLog::open(dir / "events.jsonl");
    ASSERT_TRUE(log.ok());
    constexpr int THREADS = 4;
    constexpr int EACH = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < THREADS; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < EACH; ++i)
                log.value()->emit("tick", {{"thread", t}, {"padding", std::string(200, 'x')}});
        });
    }
    for (auto& thread : threads)
        thread.join();
    const auto events = read_event_file(dir / "events.jsonl");
    ASSERT_EQ(events.size(), static_cast<std::size_t>(THREADS * EACH));
    for (int t = 0; t < THREADS; ++t)
        EXPECT_EQ(count_events_in(dir / "events.jsonl", "tick", {{"thread", t}}), static_cast<std::size_t>(EACH));
}

TEST(EventLog, AListenerHearsEveryLineInTheFilesOrderWithOrWithoutAFile) {
    dhub::testing::TempDir dir;
    auto log = EventLog::open(dir.path() / "events.jsonl");
    ASSERT_TRUE(log);
    std::vector<std::string> heard;
    log.value()->set_listener([&](std::string_view line) { heard.emplace_back(line); });
    log.value()->emit("first", {{"n", 1}});
    log.value()->emit("second");
    const auto written = dhub::testing::read_event_file(dir.path() / "events.jsonl");
    ASSERT_EQ(heard.size(), 2u);
    ASSERT_EQ(written.size(), 2u);
    EXPECT_EQ(nlohmann::json::parse(heard[0]), written[0]) << "the same line, without its newline";
    EXPECT_EQ(nlohmann::json::parse(heard[1]), written[1]);

    EventLog no_file;  // a log that writes nothing still tells its listener
    std::vector<std::string> only_heard;
    no_file.set_listener([&](std::string_view line) { only_heard.emplace_back(line); });
    no_file.emit("alone", {{"x", "y"}});
    ASSERT_EQ(only_heard.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(only_heard[0])["event"], "alone");
}

TEST(EventLog, AFileThatCannotBeWrittenIsAnErrorNamingIt) {
    const auto log = EventLog::open("/nonexistent-dir/events.jsonl");
    ASSERT_FALSE(log.ok());
    EXPECT_NE(log.error().message.find("/nonexistent-dir/events.jsonl"), std::string::npos) << log.error().message;
}
