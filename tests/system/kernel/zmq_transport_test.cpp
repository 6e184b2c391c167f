// SPDX-License-Identifier: Apache-2.0
// The zmq transport between real dhub-kernel processes over loopback TCP: a sender kernel serves its channel,
// a receiver kernel writes it into its own channel of the same name. Byte for byte in chunks, back-pressure from
// a slow far reader, a receiver kernel SIGKILLed and restarted, a sender kernel SIGKILLed and restarted, latest
// delivery, refused mismatches, garbage from a raw ZeroMQ client, CURVE keys and the allowlist.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include "kernel_support.hpp"
#include "support/loopback_port.hpp"
#include "transport_graphs.hpp"
#include "wire.hpp"

namespace dhub::testing {
namespace {

using namespace std::chrono_literals;
namespace wire = dhub::zmq_transport;

constexpr std::uint64_t SLOT_BYTES = 4096;
constexpr std::uint32_t SLOTS = 64;
constexpr std::uint32_t WINDOW = 64;

nlohmann::json waveform_channel(std::uint64_t slot_bytes = SLOT_BYTES) {
    return testing::waveform_channel(slot_bytes, SLOTS);
}

/// sim (counter waveform, `frames` at `rate_hz`; 0 frames: no end) -> raw -> tx (zmq_send on endpoint), and with
/// `record_here` also -> rec_a (dir/a.dhr): what left.
nlohmann::json sender_graph(const TempDir& dir,
                            const std::string& endpoint,
                            std::uint64_t frames,
                            double rate_hz,
                            nlohmann::json tx_params = nlohmann::json::object(),
                            bool record_here = false,
                            std::uint64_t slot_bytes = SLOT_BYTES,
                            std::uint32_t samples = 500) {
    tx_params["bind"] = endpoint;
    tx_params["window"] = WINDOW;
    nlohmann::json nodes = {counter_source(frames, rate_hz, samples),
                            {{"id", "tx"},
                             {"plugin", "zmq"},
                             {"component", "dhub.transport.zmq_send"},
                             {"params", tx_params},
                             {"inputs", {"raw"}}}};
    if (record_here) nodes.push_back(raw_recorder("rec_a", dir / "a.dhr", false));
    return {{"schema_version", 1}, {"name", "sender"}, {"channels", {waveform_channel(slot_bytes)}}, {"nodes", nodes}};
}

/// rx (zmq_receive from endpoint) -> raw -> rec (dir/b.dhr, flushed per slot).
nlohmann::json receiver_graph(const TempDir& dir,
                              const std::string& endpoint,
                              nlohmann::json rx_params = nlohmann::json::object(),
                              std::uint64_t slot_bytes = SLOT_BYTES) {
    rx_params["connect"] = endpoint;
    return {{"schema_version", 1},
            {"name", "receiver"},
            {"channels", {waveform_channel(slot_bytes)}},
            {"nodes",
             {{{"id", "rx"},
               {"plugin", "zmq"},
               {"component", "dhub.transport.zmq_receive"},
               {"params", rx_params},
               {"outputs", {"raw"}}},
              raw_recorder("rec", dir / "b.dhr", true)}}};
}

/// tick (test_ticker, `count` as fast as it can) -> ticks -> tx; rx -> ticks -> sink (slow): the graphs of the
/// tests about pace rather than bytes.
nlohmann::json tick_sender_graph(const std::string& endpoint,
                                 std::uint64_t count,
                                 const std::string& delivery,
                                 double rate_hz = 0,
                                 const std::string& input_delivery = "") {
    nlohmann::json tick = {{"id", "tick"},
                           {"plugin", "test_ticker"},
                           {"component", "test.source.ticker"},
                           {"params", {{"count", count}}},
                           {"outputs", {"ticks"}}};
    if (rate_hz > 0) tick["pacing"] = {{"rate_hz", rate_hz}};
    return {{"schema_version", 1},
            {"name", "tick-sender"},
            {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}}}},
            {"nodes",
             {tick,
              {{"id", "tx"},
               {"plugin", "zmq"},
               {"component", "dhub.transport.zmq_send"},
               {"params", {{"bind", endpoint}, {"window", WINDOW}, {"delivery", delivery}}},
               {"inputs",
                {input_delivery.empty() ? nlohmann::json("ticks")
                                        : nlohmann::json{{"channel", "ticks"}, {"delivery", input_delivery}}}}}}}};
}

nlohmann::json tick_receiver_graph(const std::string& endpoint, double delay_ms, bool skips_allowed) {
    return {{"schema_version", 1},
            {"name", "tick-receiver"},
            // The far channel's schema is the ticker's: said here, as the receiver writes no schema of its own.
            {"channels", {{{"name", "ticks"}, {"slot_bytes", 64}, {"slot_count", 8}, {"schema", "test.tick@1"}}}},
            {"nodes",
             {{{"id", "rx"},
               {"plugin", "zmq"},
               {"component", "dhub.transport.zmq_receive"},
               {"params", {{"connect", endpoint}}},
               {"outputs", {"ticks"}}},
              {{"id", "sink"},
               {"plugin", "test_ticker"},
               {"component", "test.sink.ticker"},
               {"params", {{"delay_ms", delay_ms}, {"skips_allowed", skips_allowed}}},
               {"inputs", {"ticks"}}}}}};
}

/// The first far sequence number a receiver accounted from, as its last log line says ("far sequences 12 to 1999:
/// committed ..."); a test failure and ~0 when it does not say.
std::uint64_t first_far_sequence(const std::string& output) {
    const std::string words = "far sequences ";
    const std::size_t at = output.find(words);
    EXPECT_NE(at, std::string::npos) << output;
    return at == std::string::npos ? ~std::uint64_t{0} : std::stoull(output.substr(at + words.size()));
}

/// A TCP relay on loopback between a receiver and its sender, whose connections the test can cut: what a flaky
/// network does to a transport, without restarting either end.
class CuttableRelay {
public:
    explicit CuttableRelay(int target_port) : target_port_(target_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 8) != 0) {
            throw std::runtime_error("relay: cannot listen");
        }
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { relay(); });
    }
    ~CuttableRelay() {
        stop_ = true;
        thread_.join();
        close_pairs();
        ::close(listener_);
    }
    std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
    /// Drops every connection now (the peers reconnect through the relay by themselves).
    void cut() { cut_requested_ = true; }
    int cuts() const { return cuts_.load(); }

private:
    void close_pairs() {
        for (auto [a, b] : pairs_) {
            ::close(a);
            ::close(b);
        }
        pairs_.clear();
    }
    void relay() {
        std::vector<char> buffer(1 << 16);
        while (!stop_) {
            if (cut_requested_.exchange(false)) {
                close_pairs();
                ++cuts_;
            }
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (auto [a, b] : pairs_) {
                fds.push_back({a, POLLIN, 0});
                fds.push_back({b, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
            if ((fds[0].revents & POLLIN) != 0) {
                const int client = ::accept(listener_, nullptr, nullptr);
                const int server = ::socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in target{};
                target.sin_family = AF_INET;
                target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                target.sin_port = htons(static_cast<std::uint16_t>(target_port_));
                if (client >= 0 && ::connect(server, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0) {
                    pairs_.emplace_back(client, server);
                } else {
                    if (client >= 0) ::close(client);
                    ::close(server);
                }
                continue;  // the pair list changed: poll again
            }
            for (std::size_t i = 0; i < pairs_.size(); ++i) {
                const auto [a, b] = pairs_[i];
                for (const auto& [from, to, revents] :
                     {std::tuple{a, b, fds[1 + 2 * i].revents}, std::tuple{b, a, fds[2 + 2 * i].revents}}) {
                    if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                    const ssize_t got = ::read(from, buffer.data(), buffer.size());
                    if (got <= 0 || ::send(to, buffer.data(), static_cast<std::size_t>(got), MSG_NOSIGNAL) != got) {
                        cut_requested_ = true;  // one side went: drop the pair (and, simply, every other)
                    }
                }
            }
        }
    }

    int target_port_;
    int listener_ = -1;
    int port_ = 0;
    std::vector<std::pair<int, int>> pairs_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> cut_requested_{false};
    std::atomic<int> cuts_{0};
    std::thread thread_;
};

/// Waits for a sender kernel, then for its receiver kernel (the sender's end of stream ends the receiver).
std::pair<KernelRun, KernelRun> finish(ChildProcess& sender,
                                       const TempDir& sender_dir,
                                       ChildProcess& receiver,
                                       const TempDir& receiver_dir) {
    KernelRun sent = collect(sender_dir, sender.wait(60s));
    KernelRun received = collect(receiver_dir, receiver.wait(30s));
    return {std::move(sent), std::move(received)};
}

/// Both kernels exited with code 0; otherwise what each of them said.
::testing::AssertionResult both_ended_cleanly(const KernelRun& sent, const KernelRun& received) {
    const auto clean = [](const KernelRun& run) { return run.status.exited && run.status.code == 0; };
    if (clean(sent) && clean(received)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "sender kernel:\n"
                                         << sent.output << "\nreceiver kernel:\n"
                                         << received.output;
}

/// What the sender logged a receiver had committed when it forgot it, the last time it did: a receiver slow to
/// acknowledge (as under a sanitizer) may have been forgotten and welcomed back before.
std::optional<std::uint64_t> committed_when_forgotten(const std::string& sender_output, int receiver_pid) {
    const std::size_t line =
        sender_output.rfind("receiver 'raw receiver, pid " + std::to_string(receiver_pid) + "' silent");
    const std::string words = "it had committed every slot below ";
    const std::size_t at = line == std::string::npos ? line : sender_output.find(words, line);
    if (at == std::string::npos) return std::nullopt;
    return std::stoull(sender_output.substr(at + words.size()));
}

class ZmqTransport_test : public ::testing::Test {
protected:
    TempDir sender_dir_;
    TempDir receiver_dir_;
    const std::string endpoint_ = restartable_loopback_endpoint();
};

TEST_F(ZmqTransport_test, LosslessBridgeCarriesEverySlotByteForByteInChunks) {
    // 4 KiB slots in 1 KiB chunks; the receiver kernel starts first, the sender's end of stream ends both.
    auto receiver = start_kernel(receiver_dir_, write_graph(receiver_dir_, receiver_graph(receiver_dir_, endpoint_)));
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 3000, 3000,
                                                                                  {{"chunk_bytes", 1024}}, true)));
    const auto [sent, received] = finish(sender, sender_dir_, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_EQ(sent.node("tx")["end_reason"], "end_of_stream") << sent.output;
    EXPECT_EQ(received.node("rx")["end_reason"], "end_of_stream") << received.output;
    EXPECT_EQ(count_of(received.node("rx"), "upstream_lost"), 0u);

    const Recording left = read_recording(sender_dir_ / "a.dhr");
    const Recording arrived = read_recording(receiver_dir_ / "b.dhr");
    ASSERT_TRUE(left.error.empty() && arrived.error.empty()) << left.error << arrived.error;
    ASSERT_EQ(left.slots.size(), 3000u);
    ASSERT_EQ(arrived.slots.size(), left.slots.size());
    for (std::size_t i = 0; i < left.slots.size(); ++i) {
        ASSERT_EQ(arrived.slots[i].bytes, left.slots[i].bytes) << "slot " << i << " differs";
        // The far producer's stamps and sequence numbers travel with the slots.
        ASSERT_EQ(arrived.slots[i].timestamp_ns, left.slots[i].timestamp_ns) << "slot " << i;
        ASSERT_EQ(arrived.slots[i].sequence, left.slots[i].sequence) << "slot " << i;
    }
}

TEST_F(ZmqTransport_test, SlowFarReaderHoldsTheProducerBackAndNothingIsLost) {
    constexpr std::uint64_t TICKS = 1500;
    auto receiver = start_kernel(receiver_dir_, write_graph(receiver_dir_, tick_receiver_graph(endpoint_, 2.0, false)));
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, tick_sender_graph(endpoint_, TICKS, "lossless")));
    const std::string sender_pid = std::to_string(sender.pid());
    const std::string receiver_pid = std::to_string(receiver.pid());
    // While the far sink works, the near source is never further ahead of it than the buffers between them hold:
    // its ring, the sender's window, the receiver's credits and ring, and a slot in each hand.
    const std::uint64_t buffered = 8 + WINDOW + 8 + 8 + 4;
    wait_flowing(receiver_dir_, receiver_pid, "sink", 50);
    for (int sample = 0; sample < 10; ++sample) {
        const std::uint64_t produced = count_of(node_of(sender_dir_, sender_pid, "tick"), "slots_out");
        const std::uint64_t consumed = slots_in(receiver_dir_, receiver_pid, "sink");
        if (produced >= TICKS) break;
        EXPECT_LE(produced, consumed + buffered) << "the source ran ahead of the far reader";
        std::this_thread::sleep_for(100ms);
    }
    const auto [sent, received] = finish(sender, sender_dir_, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_EQ(count_of(received.node("sink"), "handled"), TICKS) << received.output;
    EXPECT_EQ(count_of(received.node("sink"), "errors"), 0u) << "a tick arrived out of order:\n" << received.output;
    EXPECT_EQ(count_of(received.node("rx"), "upstream_lost"), 0u);
}

TEST_F(ZmqTransport_test, LatestDeliveryNeverHoldsTheProducerBackAndCountsWhatItSkipped) {
    constexpr std::uint64_t TICKS = 3000;
    auto receiver = start_kernel(receiver_dir_, write_graph(receiver_dir_, tick_receiver_graph(endpoint_, 5.0, true)));
    // Paced, so that the receiver is there before the last tick (latest delivery waits for nobody).
    auto sender =
        start_kernel(sender_dir_, write_graph(sender_dir_, tick_sender_graph(endpoint_, TICKS, "latest", 2000)));
    const auto [sent, received] = finish(sender, sender_dir_, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_EQ(count_of(sent.node("tick"), "slots_out"), TICKS);
    const std::uint64_t delivered = count_of(received.node("rx"), "slots_out");
    const std::uint64_t lost = count_of(received.node("rx"), "upstream_lost");
    // The receiver may have been welcomed after the first ticks were made: from then on, every one counts.
    const std::uint64_t first = first_far_sequence(received.output);
    // A 5 ms reader cannot take ticks made every 0.5 ms: most are skipped, and every one is accounted for.
    EXPECT_GT(lost, 0u) << received.output;
    EXPECT_EQ(delivered + lost, TICKS - first) << received.output;
    EXPECT_EQ(count_of(received.node("sink"), "handled"), delivered);
    EXPECT_EQ(count_of(received.node("sink"), "errors"), 0u) << "a tick repeated or went back:\n" << received.output;
}

TEST_F(ZmqTransport_test, LosslessOfAnInputReadLatestOnlyCountsTheSendersOwnGapsAndNeverStalls) {
    // The sender reads its input latest-only, so while the slow far reader holds its window full it skips ticks:
    // gaps in its own stream, which the receiver counts as lost rather than asking for them again (and waiting
    // forever for slots the sender never had).
    constexpr std::uint64_t TICKS = 2000;
    auto receiver = start_kernel(receiver_dir_, write_graph(receiver_dir_, tick_receiver_graph(endpoint_, 2.0, true)));
    auto sender = start_kernel(
        sender_dir_, write_graph(sender_dir_, tick_sender_graph(endpoint_, TICKS, "lossless", 2000, "latest")));
    const auto [sent, received] = finish(sender, sender_dir_, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    const std::uint64_t delivered = count_of(received.node("rx"), "slots_out");
    const std::uint64_t lost = count_of(received.node("rx"), "upstream_lost");
    const std::uint64_t first = first_far_sequence(received.output);
    EXPECT_GT(lost, 0u) << "the sender skipped nothing: the test did not test";
    EXPECT_EQ(delivered + lost, TICKS - first) << received.output;
    EXPECT_EQ(count_of(received.node("sink"), "errors"), 0u) << received.output;
}

TEST_F(ZmqTransport_test, ReceiverKernelKilledAndRestartedResumesWhereItsSenderKeptSlots) {
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 4000, 1000,
                                                                                  {{"peer_timeout_ms", 500}})));
    auto first = start_kernel(receiver_dir_, write_graph(receiver_dir_, receiver_graph(receiver_dir_, endpoint_)));
    const int first_pid = first.pid();
    wait_flowing(receiver_dir_, std::to_string(first_pid), "rec", 500);
    (void)first.stop(5s, SIGKILL);
    const std::vector<std::uint64_t> before = recorded_frames(receiver_dir_ / "b.dhr");
    ASSERT_FALSE(before.empty());

    TempDir again;
    auto second = start_kernel(again, write_graph(again, receiver_graph(again, endpoint_)));
    const auto [sent, received] = finish(sender, sender_dir_, second, again);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    const std::vector<std::uint64_t> after = recorded_frames(again / "b.dhr");
    ASSERT_FALSE(after.empty());
    expect_contiguous(after, "the restarted receiver");
    EXPECT_EQ(after.back(), 3999u) << "the restarted receiver did not get to the end";
    // It starts no later than the first slot the killed one had not acknowledged, as the sender logged when it
    // forgot it: nothing unacknowledged is lost. (Acknowledgements trail commits, so the two receivers may both have
    // a few; slots the killed kernel had committed but its recorder not yet written died with that kernel.)
    const std::optional<std::uint64_t> committed = committed_when_forgotten(sent.output, first_pid);
    ASSERT_TRUE(committed) << sent.output;
    EXPECT_LE(after.front(), *committed) << "slots between the two receivers were lost\n" << sent.output;
    EXPECT_GE(after.front() + SLOTS + WINDOW, before.back()) << "the restarted receiver got far older slots";
    EXPECT_EQ(count_of(received.node("rx"), "upstream_lost"), 0u);
}

TEST_F(ZmqTransport_test, DroppedConnectionsReconnectAndLoseNothingInLosslessDelivery) {
    const int port = std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1));
    CuttableRelay relay(port);
    auto receiver =
        start_kernel(receiver_dir_, write_graph(receiver_dir_, receiver_graph(receiver_dir_, relay.endpoint())));
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 3000, 1500)));
    const std::string receiver_pid = std::to_string(receiver.pid());
    for (const std::uint64_t after : {300, 1200, 2100}) {
        wait_flowing(receiver_dir_, receiver_pid, "rec", after);
        relay.cut();
    }
    const auto [sent, received] = finish(sender, sender_dir_, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_GE(relay.cuts(), 3);
    const std::vector<std::uint64_t> frames = recorded_frames(receiver_dir_ / "b.dhr");
    ASSERT_EQ(frames.size(), 3000u) << received.output << sent.output;
    expect_contiguous(frames, "the receiver behind a cut connection");
    EXPECT_EQ(frames.front(), 0u);
    EXPECT_EQ(count_of(received.node("rx"), "upstream_lost"), 0u);
}

// Slots larger than a batch are sent from the sender's shared memory (SDK 1.6 peek), in chunks, each kept there
// until the receivers committed it: a connection cut mid-stream loses nothing, a receiver kernel killed and restarted
// gets again from the kept slots what it had not acknowledged, and every byte arrives as it left.
TEST_F(ZmqTransport_test, LargeSlotsSentInPlaceSurviveCutsAndAKilledReceiverByteForByte) {
    constexpr std::uint64_t FRAMES = 900;
    constexpr std::uint64_t LARGE_SLOT = 96 * 1024;  // above the 64 KiB that go in batches
    constexpr std::uint32_t SAMPLES = 12'000;        // 96,000 bytes of f64 and the frame header
    const int port = std::stoi(endpoint_.substr(endpoint_.rfind(':') + 1));
    CuttableRelay relay(port);
    auto sender = start_kernel(
        sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, FRAMES, 600,
                                                           {{"chunk_bytes", 32 * 1024}, {"peer_timeout_ms", 500}}, true,
                                                           LARGE_SLOT, SAMPLES)));
    auto first = start_kernel(
        receiver_dir_, write_graph(receiver_dir_, receiver_graph(receiver_dir_, relay.endpoint(), {}, LARGE_SLOT)));
    const int first_pid = first.pid();
    wait_flowing(receiver_dir_, std::to_string(first_pid), "rec", 150);
    relay.cut();
    wait_flowing(receiver_dir_, std::to_string(first_pid), "rec", 300);
    (void)first.stop(5s, SIGKILL);

    TempDir again;
    auto second = start_kernel(again, write_graph(again, receiver_graph(again, endpoint_, {}, LARGE_SLOT)));
    const auto [sent, received] = finish(sender, sender_dir_, second, again);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_NE(sent.output.find("lossless, sent in place"), std::string::npos) << "not sent in place:\n" << sent.output;
    EXPECT_EQ(sent.output.find("reading the input failed"), std::string::npos) << sent.output;
    EXPECT_GE(relay.cuts(), 1);
    EXPECT_EQ(count_of(received.node("rx"), "upstream_lost"), 0u);

    const Recording left = read_recording(sender_dir_ / "a.dhr");
    const Recording arrived = read_recording(again / "b.dhr");
    ASSERT_TRUE(left.error.empty() && arrived.error.empty()) << left.error << arrived.error;
    ASSERT_EQ(left.slots.size(), FRAMES);
    // Frame counters, not sequence numbers: the restarted receiver's channel numbers its slots from 0.
    const std::vector<std::uint64_t> frames = recorded_frames(again / "b.dhr");
    ASSERT_EQ(frames.size(), arrived.slots.size());
    ASSERT_FALSE(frames.empty());
    expect_contiguous(frames, "the restarted receiver");
    EXPECT_EQ(frames.back(), FRAMES - 1) << "the restarted receiver stopped short";
    for (std::size_t i = 0; i < frames.size(); ++i) {
        ASSERT_LT(frames[i], left.slots.size());
        const RecordedSlot& sent_slot = left.slots[frames[i]];
        ASSERT_GT(sent_slot.bytes.size(), 65536u);
        // Not ASSERT_EQ: a failure would print 96 KiB twice.
        ASSERT_TRUE(arrived.slots[i].bytes == sent_slot.bytes) << "frame " << frames[i] << " differs";
        ASSERT_EQ(arrived.slots[i].timestamp_ns, sent_slot.timestamp_ns) << "frame " << frames[i];
    }
    // The restarted receiver starts no later than the first slot the killed one had not acknowledged: those came
    // again from the slots the sender kept in place.
    const std::optional<std::uint64_t> committed = committed_when_forgotten(sent.output, first_pid);
    ASSERT_TRUE(committed) << sent.output;
    EXPECT_LE(frames.front(), *committed) << sent.output;
}

// A receiver whose process stops (SIGSTOP: no crash, no closed connection) while 1 MiB slots are sent in place: more
// is queued for it than TCP buffers hold, so ZeroMQ keeps messages that point into the sender's ring. Its own
// heartbeats close the connection within peer_timeout_ms, which frees them; the other receiver and the producer go on.
TEST_F(ZmqTransport_test, AStoppedReceiverDoesNotPinTheSlotsSentInPlace) {
    constexpr std::uint64_t FRAMES = 300;
    constexpr std::uint32_t RING = 16;
    constexpr std::uint32_t SAMPLES = 128 * 1024;  // 1 MiB of f64
    constexpr std::uint64_t SLOT = SAMPLES * 8 + 64;
    const nlohmann::json channel = testing::waveform_channel(SLOT, RING);
    const nlohmann::json sender_graph = {{"schema_version", 1},
                                         {"name", "sender"},
                                         {"channels", {channel}},
                                         {"nodes",
                                          {counter_source(FRAMES, 150, SAMPLES),
                                           {{"id", "tx"},
                                            {"plugin", "zmq"},
                                            {"component", "dhub.transport.zmq_send"},
                                            {"params", {{"bind", endpoint_}, {"peer_timeout_ms", 500}}},
                                            {"inputs", {"raw"}}}}}};
    const auto receiver = [&](const char* name) {
        return nlohmann::json{{"schema_version", 1},
                              {"name", name},
                              {"channels", {channel}},
                              {"nodes",
                               {{{"id", "rx"},
                                 {"plugin", "zmq"},
                                 {"component", "dhub.transport.zmq_receive"},
                                 {"params", {{"connect", endpoint_}}},
                                 {"outputs", {"raw"}}},
                                {{"id", "sink"}, {"plugin", "stats"}, {"inputs", {"raw"}}}}}};
    };
    TempDir stopped_dir;
    auto stopped = start_kernel(stopped_dir, write_graph(stopped_dir, receiver("stopped")));
    auto going = start_kernel(receiver_dir_, write_graph(receiver_dir_, receiver("going")));
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph));
    wait_flowing(stopped_dir, std::to_string(stopped.pid()), "sink", 20);
    ASSERT_EQ(::kill(stopped.pid(), SIGSTOP), 0);

    const auto [sent, received] = finish(sender, sender_dir_, going, receiver_dir_);
    (void)stopped.stop(5s, SIGKILL);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_NE(sent.output.find("lossless, sent in place"), std::string::npos) << sent.output;
    EXPECT_NE(sent.output.find("forgotten"), std::string::npos) << "the stopped receiver was never let go\n"
                                                                << sent.output;
    // Everything from the first slot it was welcomed at (a receiver that connects late starts at the oldest kept).
    EXPECT_EQ(count_of(received.node("sink"), "handled"), FRAMES - first_far_sequence(received.output))
        << received.output;
    EXPECT_EQ(count_of(received.node("rx"), "upstream_lost"), 0u);
}

TEST_F(ZmqTransport_test, SenderKernelKilledAndRestartedIsSurvivedByTheReceiver) {
    auto receiver =
        start_kernel(receiver_dir_,
                     write_graph(receiver_dir_, receiver_graph(receiver_dir_, endpoint_, {{"peer_timeout_ms", 500}})));
    auto first = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 0, 1000)));
    wait_flowing(receiver_dir_, std::to_string(receiver.pid()), "rec", 200);
    (void)first.stop(5s, SIGKILL);
    // What the killed sender had sent is committed by now (the receiver's ring and socket drain in milliseconds).
    std::this_thread::sleep_for(500ms);
    const std::size_t before = recorded_frames(receiver_dir_ / "b.dhr").size();

    TempDir again;
    auto second = start_kernel(again, write_graph(again, sender_graph(again, endpoint_, 500, 1000)));
    const auto [sent, received] = finish(second, again, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_NE(received.output.find("restarted"), std::string::npos) << received.output;
    const std::vector<std::uint64_t> frames = recorded_frames(receiver_dir_ / "b.dhr");
    ASSERT_EQ(frames.size(), before + 500) << "every frame of the second sender arrived after those of the first\n"
                                           << received.output;
    const std::vector<std::uint64_t> second_run(frames.begin() + static_cast<std::ptrdiff_t>(before), frames.end());
    expect_contiguous(second_run, "the second sender's frames");
    EXPECT_EQ(second_run.front(), 0u);
}

TEST_F(ZmqTransport_test, MismatchedChannelIsRefusedNamingBothSidesAndTheSenderServesOthers) {
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 1500, 1000)));
    const KernelRun wrong = run_kernel(
        receiver_dir_, write_graph(receiver_dir_, receiver_graph(receiver_dir_, endpoint_, {}, 8192)), {}, 30s);
    EXPECT_EQ(wrong.node("rx")["end_reason"], "run_failed") << wrong.output;
    EXPECT_NE(wrong.output.find("slot size differs: the sender's channel is 'raw' (4096-byte slots"), std::string::npos)
        << wrong.output;
    EXPECT_NE(wrong.output.find("the receiver's is 'raw' (8192-byte slots"), std::string::npos) << wrong.output;

    TempDir good;
    const KernelRun received = run_kernel(good, write_graph(good, receiver_graph(good, endpoint_)), {}, 60s);
    const KernelRun sent = collect(sender_dir_, sender.wait(60s));
    ASSERT_TRUE(sent.status.exited && sent.status.code == 0) << sent.output;
    ASSERT_TRUE(received.status.exited && received.status.code == 0) << received.output << sent.output;
    const std::vector<std::uint64_t> frames = recorded_frames(good / "b.dhr");
    ASSERT_FALSE(frames.empty());
    expect_contiguous(frames, "the good receiver");
    EXPECT_EQ(frames.back(), 1499u);
}

/// Sends frames from a raw DEALER and returns the sender's answer, decoded (nullopt: no answer in 2 s).
std::optional<wire::Message> ask(zmq::socket_t& socket, const std::vector<std::vector<std::byte>>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
        socket.send(zmq::buffer(frames[i].data(), frames[i].size()),
                    i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(2000)) == 0) return std::nullopt;
    std::vector<zmq::message_t> parts;
    bool more = true;
    while (more) {
        zmq::message_t part;
        (void)socket.recv(part);
        more = part.more();
        parts.push_back(std::move(part));
    }
    std::vector<std::span<const std::byte>> spans;
    for (const auto& part : parts)
        spans.emplace_back(static_cast<const std::byte*>(part.data()), part.size());
    auto decoded = wire::decode(spans);
    if (!std::holds_alternative<wire::Message>(decoded)) return std::nullopt;
    return std::get<wire::Message>(decoded);
}

/// What a receiver of the test's channel says first (fields assigned one by one: GCC 12 at -O2 takes the nested
/// aggregate initialiser's string for maybe uninitialised).
wire::Hello raw_client_hello() {
    wire::Hello hello;
    hello.channel.name = "raw";
    hello.channel.slot_bytes = SLOT_BYTES;
    hello.channel.slot_count = SLOTS;
    hello.resume_next = wire::RESUME_NONE;
    hello.credits = 4;
    hello.label = "raw client";
    return hello;
}

std::vector<std::byte> bytes_of(const std::string& text) {
    const auto* first = reinterpret_cast<const std::byte*>(text.data());
    return {first, first + text.size()};
}

TEST_F(ZmqTransport_test, GarbageFromARawClientIsRefusedWhileTheReceiverFlows) {
    auto receiver = start_kernel(receiver_dir_, write_graph(receiver_dir_, receiver_graph(receiver_dir_, endpoint_)));
    auto sender = start_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 2000, 1000)));
    wait_flowing(receiver_dir_, std::to_string(receiver.pid()), "rec", 100);

    zmq::context_t context;
    zmq::socket_t raw(context, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 0);
    raw.connect(endpoint_);
    const auto refused = [&](const std::vector<std::vector<std::byte>>& frames, wire::RefuseCode code) {
        const auto answer = ask(raw, frames);
        ASSERT_TRUE(answer.has_value()) << "no answer";
        ASSERT_TRUE(std::holds_alternative<wire::Refuse>(*answer));
        EXPECT_EQ(std::get<wire::Refuse>(*answer).code, code) << std::get<wire::Refuse>(*answer).text;
    };
    refused({bytes_of("hello, is this the printer?")}, wire::RefuseCode::Malformed);
    refused({bytes_of("")}, wire::RefuseCode::Malformed);
    auto credit = wire::encode(wire::Credit{1, 0, 4, 0});
    auto other_version = credit;
    other_version[4] = std::byte{9};
    refused({other_version}, wire::RefuseCode::Version);
    refused({credit}, wire::RefuseCode::UnknownPeer);  // a credit before any hello
    auto hello = wire::encode(raw_client_hello());
    refused({std::vector<std::byte>(hello.begin(), hello.begin() + 20)}, wire::RefuseCode::Malformed);  // truncated
    refused({hello, hello, hello, hello, hello, hello}, wire::RefuseCode::Malformed);  // too many frames
    const auto data = wire::encode(wire::Data{1, 0, 0, 8, 0, wire::RESUME_NONE, wire::DATA_LAST_CHUNK});
    refused({data, bytes_of("1234")}, wire::RefuseCode::Malformed);  // a last chunk that ends short
    // A hello for another schema: refused by name; the channel is the same, its schema is not.
    auto wrong_schema = raw_client_hello();
    wrong_schema.channel.schema_hash.fill(0xAB);
    refused({wire::encode(wrong_schema)}, wire::RefuseCode::Mismatch);

    const auto [sent, received] = finish(sender, sender_dir_, receiver, receiver_dir_);
    ASSERT_TRUE(both_ended_cleanly(sent, received));
    EXPECT_NE(sent.output.find("refused a message from peer"), std::string::npos) << sent.output;
    const std::vector<std::uint64_t> frames = recorded_frames(receiver_dir_ / "b.dhr");
    ASSERT_EQ(frames.size(), 2000u);
    expect_contiguous(frames, "the receiver beside the raw client");
}

TEST_F(ZmqTransport_test, CurveKeysLetInOnlyTheReceiversTheAllowlistNames) {
    TempDir keys;
    for (const char* name : {"sender", "analysis", "stranger"}) {
        auto keygen =
            ChildProcess::spawn(DHUB_KEYGEN_BIN, {"--dir", keys.path().string(), name}, (keys / "keygen.log").string());
        ASSERT_EQ(keygen.wait(10s).code, 0) << read_text_file((keys / "keygen.log").string());
    }
    const auto key = [&](const std::string& file) {
        std::string line;
        std::ifstream(keys / file) >> line;
        return line;
    };
    std::ofstream(keys / "allow.json") << R"({"clients": [{"public_key": ")" << key("analysis.pub")
                                       << R"(", "name": "analysis", "consume": ["raw"]}, {"public_key": ")"
                                       << key("stranger.pub") << R"(", "name": "stranger", "consume": ["cam*"]}]})";
    auto sender = start_kernel(
        sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, endpoint_, 1500, 1000,
                                                           {{"curve_secret_key", (keys / "sender.key").string()},
                                                            {"allowlist", (keys / "allow.json").string()}})));
    TempDir stranger_dir;
    auto stranger = start_kernel(
        stranger_dir,
        write_graph(stranger_dir, receiver_graph(stranger_dir, endpoint_,
                                                 {{"curve_server_key", (keys / "sender.pub").string()},
                                                  {"curve_secret_key", (keys / "stranger.key").string()}})));
    const KernelRun received =
        run_kernel(receiver_dir_,
                   write_graph(receiver_dir_, receiver_graph(receiver_dir_, endpoint_,
                                                             {{"curve_server_key", key("sender.pub")},
                                                              {"curve_secret_key", (keys / "analysis.key").string()}})),
                   {}, 60s);
    const KernelRun sent = collect(sender_dir_, sender.wait(60s));
    ASSERT_TRUE(received.status.exited && received.status.code == 0) << received.output << sent.output;
    ASSERT_TRUE(sent.status.exited && sent.status.code == 0) << sent.output;
    const std::vector<std::uint64_t> frames = recorded_frames(receiver_dir_ / "b.dhr");
    ASSERT_EQ(frames.size(), 1500u);
    expect_contiguous(frames, "the allowed receiver");

    // The stranger's key may consume cam* only: it never completed a handshake, and got nothing.
    EXPECT_NE(sent.output.find("refused CURVE client key " + key("stranger.pub")), std::string::npos) << sent.output;
    const KernelRun refused = collect(stranger_dir, stranger.stop(10s));
    EXPECT_EQ(count_of(refused.node("rx"), "slots_out"), 0u) << refused.output;
}

TEST_F(ZmqTransport_test, ANonLoopbackBindWithoutKeysIsRefusedUnlessInsecure) {
    const std::string port = endpoint_.substr(endpoint_.rfind(':') + 1);
    const std::string everywhere = "tcp://0.0.0.0:" + port;
    const KernelRun refused =
        run_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, everywhere, 10, 1000)));
    EXPECT_TRUE(refused.status.exited && refused.status.code == 3) << refused.output;
    EXPECT_NE(
        refused.output.find("bind 'tcp://0.0.0.0:" + port + "' reaches other hosts, and no curve_secret_key is set"),
        std::string::npos)
        << refused.output;

    // Said explicitly, it runs (latest delivery ends with its input: there is no receiver to wait for).
    const KernelRun allowed =
        run_kernel(sender_dir_, write_graph(sender_dir_, sender_graph(sender_dir_, everywhere, 10, 1000,
                                                                      {{"insecure", true}, {"delivery", "latest"}})));
    EXPECT_TRUE(allowed.status.exited && allowed.status.code == 0) << allowed.output;
}

}  // namespace
}  // namespace dhub::testing
