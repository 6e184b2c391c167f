// SPDX-License-Identifier: Apache-2.0
// dhub::testing::ChildProcess, the one fork/wait/kill helper of the tests and the bench: deadlines, stop()
// escalating to SIGKILL, CPU pinning, the parent-death signal and std::exit in the child.
#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace dhub::testing {
namespace {

using namespace std::chrono_literals;

// Gone, or a zombie waiting for whichever process inherited it (some containers' pid 1 reaps slowly or never).
bool is_dead(pid_t pid) {
    const std::string stat = read_text_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    return close == std::string::npos || stat.compare(close + 1, 2, " Z") == 0;
}

TEST(ChildProcess_test, WaitReportsTheExitCodeAndKillsAChildPastItsDeadline) {
    ChildProcess quick = ChildProcess::fork([] { return 7; });
    const ExitStatus done = quick.wait(10s);
    EXPECT_TRUE(done.exited);
    EXPECT_EQ(done.code, 7);
    EXPECT_FALSE(done.timed_out);

    ChildProcess stuck = ChildProcess::fork([] {
        for (;;)
            ::pause();
        return 0;
    });
    const ExitStatus killed = stuck.wait(50ms);
    EXPECT_TRUE(killed.timed_out);
    EXPECT_TRUE(killed.signalled);
    EXPECT_EQ(killed.signal, SIGKILL);
    EXPECT_TRUE(stuck.reaped());
}

TEST(ChildProcess_test, TryWaitIsEmptyWhileTheChildRunsAndStopSendsTheSignalFirst) {
    ChildProcess child = ChildProcess::fork([] {
        for (;;)
            ::pause();
        return 0;
    });
    EXPECT_FALSE(child.try_wait().has_value());
    const ExitStatus stopped = child.stop(10s);  // SIGTERM ends it: no escalation
    EXPECT_TRUE(stopped.signalled);
    EXPECT_EQ(stopped.signal, SIGTERM);
    EXPECT_FALSE(stopped.timed_out);
    ASSERT_TRUE(child.try_wait().has_value());
    EXPECT_EQ(child.try_wait()->signal, SIGTERM);
}

TEST(ChildProcess_test, StopEscalatesToSigkillWhenTheSignalIsIgnored) {
    ReadySignal ready;
    ChildProcess child = ChildProcess::fork([&] {
        ::signal(SIGTERM, SIG_IGN);
        ready.notify();
        for (;;)
            ::pause();
        return 0;
    });
    ASSERT_TRUE(ready.wait());
    const ExitStatus stopped = child.stop(100ms);
    EXPECT_TRUE(stopped.timed_out);
    EXPECT_EQ(stopped.signal, SIGKILL);
}

TEST(ChildProcess_test, PinsTheChildToTheCoreAsked) {
    ChildOptions options;
    options.cpu_core = 0;
    ChildProcess child = ChildProcess::fork(
        [] {
            cpu_set_t set;
            CPU_ZERO(&set);
            if (::sched_getaffinity(0, sizeof set, &set) != 0) return 2;
            return CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set) ? 0 : 1;
        },
        options);
    const ExitStatus status = child.wait(10s);
    EXPECT_TRUE(status.exited);
    EXPECT_EQ(status.code, 0) << "the child ran on more cores than core 0";
}

TEST(ChildProcess_test, AChildThatCannotBePinnedEndsWithCode99BeforeItsBody) {
    ChildOptions options;
    options.cpu_core = CPU_SETSIZE;  // no such core
    ChildProcess child = ChildProcess::fork([] { return 0; }, options);
    const ExitStatus status = child.wait(10s);
    EXPECT_TRUE(status.exited);
    EXPECT_EQ(status.code, 99);
}

TEST(ChildProcess_test, TheDeathSignalReachesAGrandchildWhenItsParentDies) {
    // The middle process starts a grandchild with death_signal SIGKILL and dies; the grandchild, which would
    // otherwise sleep for a minute, must be gone right after.
    const TempDir dir("dhub-child-test");
    const std::string pid_file = dir.file("grandchild.pid");
    ChildProcess middle = ChildProcess::fork([&] {
        ChildOptions options;
        options.death_signal = SIGKILL;
        ChildProcess grandchild = ChildProcess::fork(
            [] {
                std::this_thread::sleep_for(60s);
                return 0;
            },
            options);
        std::ofstream(pid_file) << grandchild.pid();
        ::_exit(0);  // no destructor: the grandchild is not killed by its handle
        return 0;
    });
    ASSERT_TRUE(middle.wait(10s).exited);
    pid_t grandchild = 0;
    std::ifstream(pid_file) >> grandchild;
    ASSERT_GT(grandchild, 0);
    EXPECT_TRUE(wait_until([&] { return is_dead(grandchild); }, 10s)) << "the grandchild outlived its parent";
}

TEST(ChildProcess_test, RunExitHandlersEndsTheChildWithStdExit) {
    const TempDir dir("dhub-child-test");
    static std::string marker;  // atexit handlers take no arguments
    marker = dir.file("exit-handler-ran");
    ChildOptions options;
    options.run_exit_handlers = true;
    ChildProcess with = ChildProcess::fork(
        [] {
            std::atexit([] { std::ofstream(marker) << "ran"; });
            return 0;
        },
        options);
    ASSERT_TRUE(with.wait(10s).exited);
    EXPECT_EQ(read_text_file(marker), "ran");

    std::filesystem::remove(marker);
    ChildProcess without = ChildProcess::fork([] {
        std::atexit([] { std::ofstream(marker) << "ran"; });
        return 0;
    });
    ASSERT_TRUE(without.wait(10s).exited);
    EXPECT_EQ(read_text_file(marker), "") << "_exit must run none of the parent's exit handlers";
}

TEST(ChildProcess_test, SpawnWritesStdoutAndStderrToTheirFilesOrBothToOne) {
    const TempDir dir("dhub-child-test");
    ChildOptions separate;
    separate.output_file = dir.file("out");
    separate.error_file = dir.file("err");
    ASSERT_TRUE(ChildProcess::spawn("/bin/sh", {"-c", "echo to-out; echo to-err >&2"}, separate).wait(10s).exited);
    EXPECT_EQ(read_text_file(separate.output_file), "to-out\n");
    EXPECT_EQ(read_text_file(separate.error_file), "to-err\n");

    const std::string both = dir.file("both");
    ASSERT_TRUE(ChildProcess::spawn("/bin/sh", {"-c", "echo to-out; echo to-err >&2"}, both).wait(10s).exited);
    EXPECT_EQ(read_text_file(both), "to-out\nto-err\n");
}

TEST(ChildProcess_test, WaitUntilPollsAtTheGivenPeriodUntilTheDeadline) {
    int calls = 0;
    EXPECT_TRUE(wait_until([&] { return ++calls == 3; }, 10s, 10us));
    EXPECT_EQ(calls, 3);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(wait_until([] { return false; }, 30ms, 1ms));
    EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

}  // namespace
}  // namespace dhub::testing
