// SPDX-License-Identifier: Apache-2.0
// The counters page of a running dhub-kernel, read by dhub-ctl in another process: counts that move while the
// graph runs, a latest-only input's loss ledger, handler times, a kernel stopped with SIGSTOP still readable and
// reported as not responding, a killed kernel's page found stale and cleaned, several kernels told apart, and a
// file that is not a counters page refused without harm.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "kernel_support.hpp"

namespace dhub::testing {
namespace {

using nlohmann::json;

constexpr std::uint64_t FRAME_BYTES = 64 * 1024;

/// src (as fast as it can) -> cam (latest-only, 2 slots of 64 KiB) -> check (1 ms per frame): the sink misses
/// most frames, and its ledger says so.
json lossy_graph(const std::string& name) {
    return {
        {"schema_version", 1},
        {"name", name},
        {"channels", {{{"name", "cam"}, {"slot_bytes", FRAME_BYTES}, {"slot_count", 2}, {"sync", "latest_only"}}}},
        {"nodes",
         {{{"id", "src"}, {"plugin", "test_frames"}, {"component", "test.source.counter_frames"}, {"outputs", {"cam"}}},
          {{"id", "check"},
           {"plugin", "test_frames"},
           {"component", "test.sink.whole_frames"},
           {"params", {{"delay_us", 1000}}},
           {"inputs", {"cam"}}}}}};
}

std::string page_of(const std::string& graph, pid_t pid) {
    return "/dev/shm/dhubctr1." + graph + "-" + std::to_string(pid);
}

TEST(Counters_test, ARunningKernelsCountsLedgerAndHandlerTimesAreReadFromAnotherProcess) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, lossy_graph("ctr")));
    const std::string pid = std::to_string(kernel.pid());
    json nodes;
    ASSERT_TRUE(wait_until(
        [&] {
            nodes = ctl(dir, {"nodes", "--json", "--kernel", pid}).value;
            const json check = node_named(nodes, "check");
            return !check.is_null() && check["slots_in"].get<std::uint64_t>() >= 100;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50)))
        << nodes.dump() << read_text_file((dir / "kernel.log").string());

    const json source = node_named(nodes, "src");
    const json check = node_named(nodes, "check");
    EXPECT_EQ(source["state"], "running");
    EXPECT_EQ(check["state"], "running");
    EXPECT_EQ(check["component"], "test.sink.whole_frames");
    EXPECT_EQ(check["isolation"], "thread");
    // The source outruns the sink (that is what latest-only is for), and every frame is counted with its bytes.
    EXPECT_GT(source["slots_out"].get<std::uint64_t>(), 2 * check["slots_in"].get<std::uint64_t>()) << nodes.dump();
    const auto slots_in = check["slots_in"].get<std::uint64_t>();
    const auto bytes_in = check["bytes_in"].get<std::uint64_t>();
    // bytes_in is read after slots_in, and the sink counts a slot's bytes just before the slot: a slot or two
    // more may be in it.
    EXPECT_GE(bytes_in, slots_in * FRAME_BYTES) << nodes.dump();
    EXPECT_LE(bytes_in, (slots_in + 2) * FRAME_BYTES) << nodes.dump();
    EXPECT_GT(source["bytes_out"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(check["errors"], 0) << nodes.dump();
    // Its handler sleeps 1 ms per frame: the sampled p99 is in the bucket of 2^20 ns or above.
    EXPECT_GT(check["sampled_steps"].get<std::uint64_t>(), 0u) << nodes.dump();
    EXPECT_GE(check["handler_p99_ns"].get<std::uint64_t>(), 1'000'000u) << nodes.dump();

    const CtlRun channels = ctl(dir, {"channels", "--json", "--kernel", pid});
    ASSERT_EQ(channels.code, 0) << channels.err;
    ASSERT_TRUE(channels.value.is_array() && channels.value.size() == 1) << channels.out;
    const json& cam = channels.value[0];
    EXPECT_EQ(cam["name"], "cam");
    EXPECT_EQ(cam["producer"], "src");
    EXPECT_EQ(cam["sync"], "latest_only");
    ASSERT_EQ(cam["inputs"].size(), 1u) << cam.dump();
    const json& ledger = cam["inputs"][0];
    EXPECT_EQ(ledger["node"], "check");
    EXPECT_EQ(ledger["latest"], true);
    EXPECT_GT(ledger["gaps"].get<std::uint64_t>(), 0u) << cam.dump();
    EXPECT_GT(ledger["gap_events"].get<std::uint64_t>(), 0u) << cam.dump();
    EXPECT_GT(ledger["first_gap_ns"].get<std::uint64_t>(), 0u) << cam.dump();
    EXPECT_GE(ledger["last_gap_ns"].get<std::uint64_t>(), ledger["first_gap_ns"].get<std::uint64_t>());
    ASSERT_EQ(cam["consumers"].size(), 1u) << cam.dump();
    EXPECT_EQ(cam["consumers"][0]["name"], "check");

    const CtlRun status = ctl(dir, {"status", "--json", "--kernel", pid});
    ASSERT_EQ(status.code, 0) << status.err;
    EXPECT_EQ(status.value["state"], "running");
    EXPECT_EQ(status.value["responding"], true);
    EXPECT_EQ(status.value["graph"], "ctr");
    EXPECT_EQ(status.value["nodes_running"], 2);

    // The text views print the same facts for people.
    const CtlRun text = ctl(dir, {"nodes", "--kernel", pid});
    EXPECT_EQ(text.code, 0);
    EXPECT_NE(text.out.find("test.sink.whole_f"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("check"), std::string::npos) << text.out;

    const ExitStatus stopped = kernel.stop(std::chrono::seconds(20), SIGINT);
    EXPECT_TRUE(stopped.exited && stopped.code == 0);
    // The page goes with its kernel.
    EXPECT_FALSE(std::filesystem::exists(page_of("ctr", kernel.pid())));
}

TEST(Counters_test, AStoppedKernelIsStillReadableAndReportedAsNotResponding) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, lossy_graph("ctrstop")));
    const std::string pid = std::to_string(kernel.pid());
    ASSERT_TRUE(wait_until(
        [&] {
            const json check = node_named(ctl(dir, {"nodes", "--json", "--kernel", pid}).value, "check");
            return !check.is_null() && check["slots_in"].get<std::uint64_t>() > 10;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50)));
    kernel.kill(SIGSTOP);
    // Wedged: its counts stand still, and they can still be read.
    const json before = node_named(ctl(dir, {"nodes", "--json", "--kernel", pid}).value, "check");
    ASSERT_FALSE(before.is_null());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const CtlRun after = ctl(dir, {"nodes", "--json", "--kernel", pid});
    ASSERT_EQ(after.code, 0) << after.err;
    EXPECT_EQ(node_named(after.value, "check")["slots_in"], before["slots_in"]);
    EXPECT_EQ(node_named(after.value, "check")["progress"], before["progress"]);
    // Its main thread beats once a second; after three seconds without one it is reported as not responding.
    json status;
    EXPECT_TRUE(wait_until(
        [&] {
            status = ctl(dir, {"status", "--json", "--kernel", pid}).value;
            return status.is_object() && status["responding"] == false;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(200)))
        << status.dump();
    EXPECT_GE(status["heartbeat_age_ns"].get<std::uint64_t>(), 3'000'000'000u);
    EXPECT_NE(ctl(dir, {"status", "--kernel", pid}).out.find("NOT RESPONDING"), std::string::npos);
    kernel.kill(SIGCONT);
    EXPECT_TRUE(wait_until(
        [&] {
            status = ctl(dir, {"status", "--json", "--kernel", pid}).value;
            return status.is_object() && status["responding"] == true;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(100)))
        << status.dump();
    const ExitStatus stopped = kernel.stop(std::chrono::seconds(20), SIGINT);
    EXPECT_TRUE(stopped.exited && stopped.code == 0);
}

TEST(Counters_test, AKilledKernelsPageIsListedAsStaleAndCleanRemovesIt) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, lossy_graph("ctrkill")));
    const std::string pid = std::to_string(kernel.pid());
    const std::string page = page_of("ctrkill", kernel.pid());
    ASSERT_TRUE(wait_until(
        [&] {
            return ctl(dir, {"status", "--kernel", pid}).code == 0;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50)));
    kernel.kill(SIGKILL);
    (void)kernel.wait();
    ASSERT_TRUE(std::filesystem::exists(page));

    const CtlRun kernels = ctl(dir, {"kernels", "--json"});
    ASSERT_EQ(kernels.code, 0) << kernels.err;
    bool listed = false;
    ASSERT_TRUE(kernels.value.is_array()) << kernels.out;
    for (const json& entry : kernels.value) {
        if (entry.value("pid", 0) != kernel.pid()) continue;
        listed = true;
        EXPECT_EQ(entry["alive"], false) << entry.dump();
    }
    EXPECT_TRUE(listed) << kernels.out;
    // Only live kernels are talked to.
    const CtlRun status = ctl(dir, {"status", "--kernel", pid});
    EXPECT_EQ(status.code, 1);
    EXPECT_NE(status.err.find("no running kernel matches"), std::string::npos) << status.err;

    // A file that is not a page is listed with what is wrong, and clean leaves it alone (this is the one test
    // that runs clean: it removes every dead kernel's page on the host, which tests running beside it must not
    // be looking at).
    const std::string junk_name = "dhubctr1.junk-" + std::to_string(::getpid());
    const int fd = ::shm_open(("/" + junk_name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    const std::string junk(4096, 'x');
    ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    ::close(fd);
    const CtlRun cleaned = ctl(dir, {"clean", "--json"});
    ASSERT_EQ(cleaned.code, 0) << cleaned.err;
    EXPECT_NE(cleaned.out.find("dhubctr1.ctrkill-" + pid), std::string::npos) << cleaned.out;
    EXPECT_NE(cleaned.out.find("ctrkill-" + pid + ".ctl"), std::string::npos) << "and its control socket\n"
                                                                              << cleaned.out;
    EXPECT_FALSE(std::filesystem::exists(page));
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/" + junk_name)) << "clean removes dead kernels' pages only";
    // --force removes unreadable pages too, once they are old enough to be nobody's setup in progress.
    EXPECT_EQ(ctl(dir, {"clean", "--force"}).code, 0);
    EXPECT_TRUE(std::filesystem::exists("/dev/shm/" + junk_name)) << "younger than 10 s: it may be a kernel starting";
    ::shm_unlink(("/" + junk_name).c_str());
    // Its channel's segment is dhub-shm's to clean.
    (void)ChildProcess::spawn(DHUB_SHM_CLI, {"remove", "ctrkill-" + pid + ".cam", "--force"}).wait();
}

TEST(Counters_test, SeveralKernelsAreToldApartAndAMissingOneIsNamed) {
    TempDir first_dir;
    TempDir second_dir;
    ChildProcess first = start_kernel(first_dir, write_graph(first_dir, lossy_graph("ctrone")));
    ChildProcess second = start_kernel(second_dir, write_graph(second_dir, lossy_graph("ctrtwo")));
    ASSERT_TRUE(wait_until(
        [&] {
            return ctl(first_dir, {"status", "--kernel", "ctrone"}).code == 0 &&
                   ctl(first_dir, {"status", "--kernel", "ctrtwo"}).code == 0;
        },
        std::chrono::seconds(30), std::chrono::milliseconds(50)));
    // By graph name, by pid.
    EXPECT_EQ(ctl(first_dir, {"status", "--json", "--kernel", "ctrtwo"}).value["pid"], second.pid());
    EXPECT_EQ(ctl(first_dir, {"status", "--json", "--kernel", std::to_string(first.pid())}).value["graph"], "ctrone");
    // Without --kernel, two (or more) running kernels are listed, not guessed between.
    const CtlRun ambiguous = ctl(first_dir, {"status"});
    EXPECT_EQ(ambiguous.code, 1);
    EXPECT_NE(ambiguous.err.find("--kernel"), std::string::npos) << ambiguous.err;
    EXPECT_NE(ambiguous.err.find(std::to_string(first.pid())), std::string::npos) << ambiguous.err;
    EXPECT_NE(ambiguous.err.find(std::to_string(second.pid())), std::string::npos) << ambiguous.err;

    const CtlRun missing = ctl(first_dir, {"nodes", "--kernel", "no-such-graph"});
    EXPECT_EQ(missing.code, 1);
    EXPECT_NE(missing.err.find("no-such-graph"), std::string::npos) << missing.err;
    const CtlRun unknown = ctl(first_dir, {"restart-everything"});
    EXPECT_EQ(unknown.code, 2);
    EXPECT_NE(unknown.err.find("unknown command 'restart-everything'"), std::string::npos) << unknown.err;

    EXPECT_TRUE(first.stop(std::chrono::seconds(20), SIGINT).exited);
    EXPECT_TRUE(second.stop(std::chrono::seconds(20), SIGINT).exited);
}

TEST(Counters_test, AFileThatIsNotACountersPageIsListedWithWhatIsWrongAndLeftAlone) {
    TempDir dir;
    const std::string name = "dhubctr1.garbage-" + std::to_string(::getpid());
    const int fd = ::shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    ASSERT_GE(fd, 0);
    const std::string junk(4096, 'x');
    ASSERT_EQ(::write(fd, junk.data(), junk.size()), static_cast<ssize_t>(junk.size()));
    ::close(fd);

    const CtlRun kernels = ctl(dir, {"kernels", "--json"});
    EXPECT_EQ(kernels.code, 0) << kernels.err;
    bool listed = false;
    ASSERT_TRUE(kernels.value.is_array()) << kernels.out;
    for (const json& entry : kernels.value) {
        if (entry.value("file", "") != name) continue;
        listed = true;
        EXPECT_NE(entry.value("error", "").find("is not a dhub counters page"), std::string::npos) << entry.dump();
    }
    EXPECT_TRUE(listed) << kernels.out;
    // dhub-ctl status still finds no kernel in it, and says so.
    EXPECT_EQ(ctl(dir, {"status", "--kernel", "garbage-" + std::to_string(::getpid())}).code, 1);
    ::shm_unlink(("/" + name).c_str());
}

TEST(Counters_test, NoCountersPublishesNoPageAndTheReportIsTheSame) {
    TempDir dir;
    ChildProcess kernel = start_kernel(dir, write_graph(dir, lossy_graph("ctroff")), {"--no-counters"});
    ASSERT_TRUE(wait_until([&] { return count_events(dir, "graph_started") == 1; }, std::chrono::seconds(30)));
    EXPECT_FALSE(std::filesystem::exists(page_of("ctroff", kernel.pid())));
    EXPECT_EQ(ctl(dir, {"status", "--kernel", std::to_string(kernel.pid())}).code, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const KernelRun run = collect(dir, kernel.stop(std::chrono::seconds(20), SIGINT));
    ASSERT_TRUE(run.status.exited && run.status.code == 0) << run.output;
    EXPECT_GT(run.node("check")["slots_in"].get<std::uint64_t>(), 0u) << run.report.dump();
    EXPECT_EQ(run.node("check")["bytes_in"].get<std::uint64_t>(),
              run.node("check")["slots_in"].get<std::uint64_t>() * FRAME_BYTES)
        << run.report.dump();
}

}  // namespace
}  // namespace dhub::testing
