// SPDX-License-Identifier: Apache-2.0
#include "top.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "dhub/base/clock.hpp"
#include "text.hpp"
#include "views.hpp"

namespace dhub::ctl {
namespace {

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
    interrupted.store(true);
}

/// The terminal in the mode top needs (keys one by one, not echoed, cursor hidden), restored however top ends.
class RawTerminal {
public:
    RawTerminal() {
        if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
        termios raw = saved_;
        raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        std::fputs("\033[?25l", stdout);  // hide the cursor
    }
    ~RawTerminal() {
        std::fputs("\033[?25h\n", stdout);  // the cursor back, below the last frame
        std::fflush(stdout);
        if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
    }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    termios saved_{};
    bool active_ = false;
};

struct Size {
    int columns = 80;
    int rows = 24;
};

Size terminal_size() {
    winsize size{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
        return {size.ws_col, size.ws_row};
    }
    return {};
}

/// CPU time (user + system, clock ticks) of a process or of one thread (/proc/PID[/task/TID]/stat).
std::uint64_t cpu_ticks(const std::string& stat_path) {
    std::ifstream file(stat_path);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');  // the name may hold spaces and parentheses
    if (close == std::string::npos || close + 2 > text.size()) return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    std::uint64_t utime = 0;
    std::uint64_t stime = 0;
    try {
        for (int index = 3; fields >> field; ++index) {  // field 3 is the state
            if (index == 14) utime = std::stoull(field);
            if (index == 15) {
                stime = std::stoull(field);
                break;
            }
        }
    } catch (const std::exception&) {
        return 0;  // a thread that ended as it was read: no CPU to show
    }
    return utime + stime;
}

/// Each node thread's CPU ticks, by thread name (the kernel names a node's thread after its id, cut to 15).
std::map<std::string, std::uint64_t> thread_ticks(std::uint32_t pid) {
    std::map<std::string, std::uint64_t> ticks;
    std::error_code error;
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& entry : std::filesystem::directory_iterator(task, error)) {
        std::ifstream comm(entry.path() / "comm");
        std::string name;
        std::getline(comm, name);
        ticks[name] += cpu_ticks((entry.path() / "stat").string());
    }
    return ticks;
}

/// One moment of the kernel: its counters and the CPU its node threads and host processes used so far.
struct Sample {
    counters::KernelCounters counters;
    std::map<std::string, std::uint64_t> thread_cpu;
    std::map<std::uint32_t, std::uint64_t> process_cpu;
    std::uint64_t at_ns = 0;
};

Sample take_sample(const counters::PageReader& page) {
    Sample sample;
    sample.counters = page.read();
    sample.at_ns = monotonic_ns();
    sample.thread_cpu = thread_ticks(sample.counters.pid);
    for (const counters::NodeCounts& node : sample.counters.nodes) {
        if (node.process_pid != 0) {
            sample.process_cpu[node.process_pid] = cpu_ticks("/proc/" + std::to_string(node.process_pid) + "/stat");
        }
    }
    return sample;
}

std::string fit(std::string line, int columns) {
    if (static_cast<int>(line.size()) > columns) line.resize(static_cast<std::size_t>(columns));
    return line;
}

/// The handler calls sampled since the previous frame: the upper bound of their p99's bucket, ns.
std::uint64_t interval_p99(const counters::NodeCounts& now, const counters::NodeCounts* before) {
    counters::NodeCounts delta = now;
    if (before != nullptr) {
        for (std::size_t bucket = 0; bucket < counters::HISTOGRAM_BUCKETS; ++bucket)
            delta.handler_histogram[bucket] -=
                std::min(delta.handler_histogram[bucket], before->handler_histogram[bucket]);
    }
    return counters::handler_p99_ns(delta);
}

/// The frame's lines, each at most columns wide, at most rows of them.
std::vector<std::string> frame(const Sample& now, const Sample& before, Size size) {
    std::vector<std::string> lines;
    const counters::KernelCounters& kernel = now.counters;
    const double seconds = std::max(1e-9, static_cast<double>(now.at_ns - before.at_ns) / 1e9);
    const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const nlohmann::json status = status_json(kernel);
    lines.push_back(format("dhub-ctl top - graph '%s', pid %u, %s%s   q: quit", kernel.graph.c_str(), kernel.pid,
                           status["state"].get<std::string>().c_str(),
                           status["responding"].get<bool>() ? "" : ", NOT RESPONDING"));
    lines.emplace_back();
    lines.push_back(
        format("%-14s %-9s %10s %8s %7s %8s %6s", "NODE", "STATE", "SLOTS/s", "MB/s", "ERRORS", "P99", "CPU%"));
    for (const counters::NodeCounts& node : kernel.nodes) {
        const counters::NodeCounts* old = nullptr;
        for (const counters::NodeCounts& candidate : before.counters.nodes) {
            if (candidate.id == node.id) old = &candidate;
        }
        const auto delta = [&](std::uint64_t value, std::uint64_t previous) {
            return static_cast<double>(value - std::min(value, previous)) / seconds;
        };
        // A node's rate is what it moves: what it publishes, or for a sink what it takes.
        const bool sink = node.slots_out == 0 && node.slots_in != 0;
        const double slots =
            sink ? delta(node.slots_in, old ? old->slots_in : 0) : delta(node.slots_out, old ? old->slots_out : 0);
        const double bytes =
            sink ? delta(node.bytes_in, old ? old->bytes_in : 0) : delta(node.bytes_out, old ? old->bytes_out : 0);
        double cpu = 0;
        if (node.process_pid != 0) {
            const auto at = now.process_cpu.find(node.process_pid);
            const auto was = before.process_cpu.find(node.process_pid);
            if (at != now.process_cpu.end() && was != before.process_cpu.end())
                cpu = static_cast<double>(at->second - std::min(at->second, was->second));
        } else {
            const std::string name = node.id.substr(0, 15);
            const auto at = now.thread_cpu.find(name);
            const auto was = before.thread_cpu.find(name);
            if (at != now.thread_cpu.end() && was != before.thread_cpu.end())
                cpu = static_cast<double>(at->second - std::min(at->second, was->second));
        }
        const std::string state =
            counters::is_final(node.state) ? node.end_reason : std::string(counters::to_string(node.state));
        lines.push_back(format("%-14.14s %-9.9s %10.0f %8.1f %7llu %8s %5.0f%%", node.id.c_str(), state.c_str(), slots,
                               bytes / 1e6, static_cast<unsigned long long>(node.errors),
                               human_ns(interval_p99(node, old)).c_str(), 100.0 * cpu / ticks_per_second / seconds));
    }
    lines.emplace_back();
    lines.push_back(format("%-14s %-13s %6s %10s  %s", "CHANNEL", "SYNC", "FILL", "SLOW LAG", "GAPS (reader: missed)"));
    for (const nlohmann::json& channel : channels_json(kernel)) {
        std::string gaps;
        for (const nlohmann::json& input : channel["inputs"]) {
            if (input["gaps"].get<std::uint64_t>() == 0) continue;
            gaps += (gaps.empty() ? "" : ", ") + input["node"].get<std::string>() + ": " +
                    std::to_string(input["gaps"].get<std::uint64_t>());
        }
        if (channel.contains("error")) {
            lines.push_back(format("%-14.14s %-13s %6s %10s  %s", channel["name"].get<std::string>().c_str(),
                                   "(elsewhere)", "-", "-", gaps.empty() ? "-" : gaps.c_str()));
            continue;
        }
        lines.push_back(format("%-14.14s %-13.13s %5.0f%% %10llu  %s", channel["name"].get<std::string>().c_str(),
                               channel["sync"].get<std::string>().c_str(), 100.0 * channel["fill"].get<double>(),
                               static_cast<unsigned long long>(channel["slowest_lag"].get<std::uint64_t>()),
                               gaps.empty() ? "-" : gaps.c_str()));
    }
    for (std::string& line : lines)
        line = fit(std::move(line), size.columns);
    if (static_cast<int>(lines.size()) > size.rows - 1) {
        lines.resize(static_cast<std::size_t>(std::max(1, size.rows - 2)));
        lines.push_back(
            fit("... (a bigger terminal shows the rest; dhub-ctl nodes and channels list all)", size.columns));
    }
    return lines;
}

/// Waits for the interval, or until q is pressed or Ctrl-C; true when top should end.
bool wait_for_key(std::chrono::milliseconds interval, bool& terminal) {
    const std::uint64_t until = monotonic_ns() + static_cast<std::uint64_t>(interval.count()) * 1'000'000;
    for (;;) {
        if (interrupted.load()) return true;
        const std::uint64_t now = monotonic_ns();
        if (now >= until) return false;
        pollfd input{STDIN_FILENO, POLLIN, 0};
        const int timeout_ms = static_cast<int>(std::min<std::uint64_t>((until - now) / 1'000'000 + 1, 100));
        if (!terminal) {
            ::poll(nullptr, 0, timeout_ms);
            continue;
        }
        if (::poll(&input, 1, timeout_ms) > 0) {
            // The terminal went away (hung up): only Ctrl-C and SIGTERM can end top now, and it must not spin.
            if ((input.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) terminal = false;
            char key = 0;
            if ((input.revents & POLLIN) != 0 && ::read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
                return true;
        }
    }
}

}  // namespace

int run_top(const counters::PageReader& page, const TopOptions& options) {
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    // Keys are read from a terminal on stdin; frames are redrawn in place on a terminal on stdout.
    bool keys = ::isatty(STDIN_FILENO) != 0;
    const bool terminal = ::isatty(STDOUT_FILENO) != 0;
    std::optional<RawTerminal> raw;
    if (keys && terminal) raw.emplace();
    Sample before = take_sample(page);
    // The first frame comes soon: rates need two samples, but nobody wants to stare at nothing for a second.
    bool quit = wait_for_key(std::min(options.interval, std::chrono::milliseconds(200)), keys);
    for (int drawn = 0; !quit; ++drawn) {
        const Sample now = take_sample(page);
        // Printed one after the other (not a terminal), frames are not cut to a screen.
        const std::vector<std::string> lines = frame(now, before, terminal ? terminal_size() : Size{4096, 1 << 20});
        std::string text = terminal ? "\033[H\033[2J" : "";
        for (const std::string& line : lines)
            text += line + "\n";
        std::fputs(text.c_str(), stdout);
        std::fflush(stdout);
        before = now;
        if (!now.counters.alive || now.counters.state == counters::KernelState::Stopped) {
            std::fputs("the kernel has ended\n", stdout);
            break;
        }
        if (options.frames != 0 && drawn + 1 >= options.frames) break;
        quit = wait_for_key(options.interval, keys);
    }
    return 0;
}

}  // namespace dhub::ctl
