// SPDX-License-Identifier: Apache-2.0
// The default mode: two real processes. The consumer is this same program re-executed with
// --role consumer (exec, not just fork, so it shares no memory or state with the producer but the
// segment); the producer runs in this process, so the channel is demo-<pid of this process>.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "roles.hpp"

namespace dhub::demo {
namespace {

std::vector<std::string> consumer_arguments(const DemoOptions& options, const std::string& channel) {
    return {"dhub-shm-demo",
            "--role",
            "consumer",
            "--channel",
            channel,
            "--seconds",
            std::to_string(options.seconds),
            "--rate",
            std::to_string(options.rate_hz),
            "--frame-bytes",
            std::to_string(options.frame_bytes),
            "--slots",
            std::to_string(options.slots)};
}

pid_t spawn_consumer(const std::vector<std::string>& arguments) {
    std::vector<char*> argv;
    for (const auto& argument : arguments)
        argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        // Ctrl-C reaches the whole process group. The consumer ignores it (SIG_IGN survives exec) and ends
        // when the producer, which does handle it, closes the channel: so nothing in flight is lost.
        ::signal(SIGINT, SIG_IGN);
        ::execv("/proc/self/exe", argv.data());
        std::perror("dhub-shm-demo: cannot exec /proc/self/exe for the consumer");
        ::_exit(127);
    }
    return pid;
}

/// The child's exit code; 1 if it was killed by a signal or cannot be waited for.
int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return 1;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    std::fprintf(stderr, "dhub-shm-demo: the consumer (pid %d) was killed by signal %d\n", static_cast<int>(pid),
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 1;
}

}  // namespace

int run_producer_and_consumer(const DemoOptions& options) {
    DemoOptions producer_options = options;
    producer_options.channel = "demo-" + std::to_string(::getpid());
    const pid_t consumer = spawn_consumer(consumer_arguments(options, producer_options.channel));
    if (consumer < 0) {
        std::perror("dhub-shm-demo: cannot fork the consumer");
        return 1;
    }
    const int producer_code = run_producer(producer_options, consumer);
    // A producer that failed before or while writing never closes the channel cleanly for the consumer
    // to notice quickly: stop it (SIGTERM makes it print its summary and exit).
    if (producer_code != 0) ::kill(consumer, SIGTERM);
    const int consumer_code = wait_for(consumer);
    return consumer_code != 0 ? consumer_code : producer_code;
}

}  // namespace dhub::demo
