// SPDX-License-Identifier: Apache-2.0
// The kernel's child processes: descriptors passed at 3, 4, ...; limits applied before exec; exits told in
// words; a child that dies with its parent.
#include "child_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;

ChildExit run(const std::string& script, ChildSpec spec = {}) {
    spec.executable = "/bin/sh";
    spec.arguments = {"-c", script};
    auto child = ChildProcess::spawn(spec);
    if (!child) throw std::runtime_error(child.error().message);
    return child->reap();
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(ChildProcess, ExitsAreToldInWords) {
    EXPECT_TRUE(run("exit 0").clean());
    const ChildExit three = run("exit 3");
    EXPECT_EQ(three.describe(), "exit code 3");
    const ChildExit segv = run("kill -SEGV $$");
    EXPECT_TRUE(segv.signaled);
    EXPECT_EQ(segv.describe(), "killed by SIGSEGV (signal 11)");
    ChildSpec missing;
    missing.executable = "/nonexistent/dhub-node-host";
    auto refused = ChildProcess::spawn(missing);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("/nonexistent/dhub-node-host"), std::string::npos);
}

TEST(ChildProcess, PassedDescriptorsArriveAtThreeAndFourAndNothingElseLeaks) {
    testing::TempDir dir;
    int one[2];
    int two[2];
    ASSERT_EQ(::pipe2(one, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(two, O_CLOEXEC), 0);
    ChildSpec spec;
    spec.pass_fds = {one[1], two[1]};
    // Descriptors the child holds, besides 0-2 and the two passed (ls itself opens one for the directory).
    const ChildExit exit = run("echo three >&3; echo four >&4; ls /proc/self/fd > " + dir.file("fds"), spec);
    EXPECT_TRUE(exit.clean()) << exit.describe();
    ::close(one[1]);
    ::close(two[1]);
    char buffer[16] = {};
    EXPECT_EQ(::read(one[0], buffer, sizeof buffer), 6);
    EXPECT_STREQ(buffer, "three\n");
    char more[16] = {};
    EXPECT_EQ(::read(two[0], more, sizeof more), 5);
    EXPECT_STREQ(more, "four\n");
    std::istringstream fds(read_file(dir / "fds"));
    int count = 0;
    for (std::string fd; fds >> fd;)
        ++count;
    EXPECT_LE(count, 6) << read_file(dir / "fds");  // 0, 1, 2, 3, 4 and ls's own
    ::close(one[0]);
    ::close(two[0]);
}

TEST(ChildProcess, LimitsAndNiceApplyBeforeExec) {
    testing::TempDir dir;
    ChildSpec spec;
    spec.memory_mb = 300;
    spec.nice = 7;
    spec.cpus = {0};
    const ChildExit exit =
        run("ulimit -v > " + dir.file("as") + "; cut -d' ' -f19 /proc/self/stat > " + dir.file("nice") +
                "; grep Cpus_allowed_list /proc/self/status > " + dir.file("cpus"),
            spec);
    ASSERT_TRUE(exit.clean()) << exit.describe();
    EXPECT_EQ(read_file(dir / "as"), std::to_string(300 * 1024) + "\n");
    EXPECT_EQ(read_file(dir / "nice"), "7\n");
    EXPECT_NE(read_file(dir / "cpus").find("\t0\n"), std::string::npos) << read_file(dir / "cpus");
}

TEST(ChildProcess, DiesWithTheThreadThatStartedIt) {
    testing::TempDir dir;
    // A middle process starts the child, writes its pid, then is killed: the child must go too.
    dhub::testing::ChildProcess middle = dhub::testing::ChildProcess::fork([&] {
        ChildSpec spec;
        spec.executable = "/bin/sleep";
        spec.arguments = {"30"};
        auto child = ChildProcess::spawn(spec);
        if (!child) return 1;
        std::ofstream(dir / "pid") << child->pid() << "\n";
        std::this_thread::sleep_for(30s);
        return 0;
    });
    pid_t pid = 0;
    ASSERT_TRUE(dhub::testing::wait_until([&] {
        std::ifstream(dir / "pid") >> pid;
        return pid > 0;
    }));
    middle.kill(SIGKILL);
    (void)middle.wait();
    EXPECT_TRUE(dhub::testing::wait_until(
        [&] {
            std::ifstream status("/proc/" + std::to_string(pid) + "/status");
            std::string line;
            while (std::getline(status, line)) {
                if (line.starts_with("State:")) return line.find('Z') != std::string::npos;
            }
            return true;
        },
        5s));
}

}  // namespace
}  // namespace dhub::runtime
