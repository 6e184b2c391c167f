// SPDX-License-Identifier: Apache-2.0
// The kafka transport between real dhub-kernel processes through librdkafka's mock cluster, which this test
// process hosts on loopback TCP: one kernel publishes a channel to a topic, another consumes it into its own
// channel. Byte for byte; every broker down and back mid-stream; a consumer kernel SIGKILLed and restarted (it
// resumes from its group's committed offset); a slot larger than the topic's records; and records this test
// writes itself (duplicates, a publisher that started over, strangers, another schema).
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "kernel_support.hpp"
#include "message_format.hpp"
#include "produce.hpp"
#include "support/kafka_mock_cluster.hpp"
#include "transport_graphs.hpp"

namespace dhub::testing {
namespace {

using namespace std::chrono_literals;
namespace kafka = dhub::kafka_transport;

/// 100 samples a frame: about 850 bytes. Small slots keep a whole run inside what the mock cluster retains of a
/// partition (a few MB: older records are dropped as on a real broker, by size).
constexpr std::uint64_t SLOT_BYTES = 1024;
constexpr std::uint32_t SLOTS = 16;
constexpr const char* TOPIC = "detector.raw";

nlohmann::json waveform_channel(std::uint64_t slot_bytes = SLOT_BYTES) {
    return testing::waveform_channel(slot_bytes, SLOTS);
}

/// sim (counter waveform, `frames` at `rate_hz`) -> raw -> tx (kafka_publish) and -> rec_a (dir/a.dhr).
nlohmann::json publisher_graph(const TempDir& dir,
                               const std::string& brokers,
                               std::uint64_t frames,
                               double rate_hz,
                               std::uint32_t samples = 100,
                               nlohmann::json tx_params = nlohmann::json::object(),
                               std::uint64_t slot_bytes = SLOT_BYTES) {
    tx_params["brokers"] = brokers;
    tx_params["topic"] = TOPIC;
    return {{"schema_version", 1},
            {"name", "publisher"},
            {"channels", {waveform_channel(slot_bytes)}},
            {"nodes",
             {counter_source(frames, rate_hz, samples),
              {{"id", "tx"},
               {"plugin", "kafka"},
               {"component", "dhub.transport.kafka_publish"},
               {"params", tx_params},
               {"inputs", {"raw"}}},
              raw_recorder("rec_a", dir / "a.dhr", false)}}};
}

/// rx (kafka_consume) -> raw -> rec (dir/b.dhr, flushed per slot).
nlohmann::json consumer_graph(const TempDir& dir,
                              const std::string& brokers,
                              nlohmann::json rx_params = nlohmann::json::object(),
                              nlohmann::json channel = waveform_channel()) {
    rx_params["brokers"] = brokers;
    rx_params["topic"] = TOPIC;
    return {{"schema_version", 1},
            {"name", "consumer"},
            {"channels", {channel}},
            {"nodes",
             {{{"id", "rx"},
               {"plugin", "kafka"},
               {"component", "dhub.transport.kafka_consume"},
               {"params", rx_params},
               {"outputs", {"raw"}}},
              raw_recorder("rec", dir / "b.dhr", true)}}};
}

/// Starts a consumer kernel and waits until its group has its partitions: records published from then on are
/// its to read, however fast the publisher is.
ChildProcess start_assigned_consumer(const TempDir& dir, const nlohmann::json& graph) {
    ChildProcess consumer = start_kernel(dir, write_graph(dir, graph));
    const bool assigned = wait_until(
        [&] { return read_text_file((dir / "kernel.log").string()).find("assigned partitions") != std::string::npos; },
        30s, 20ms);
    EXPECT_TRUE(assigned) << read_text_file((dir / "kernel.log").string());
    return consumer;
}

/// A kernel that ended by itself (not killed at the test's timeout) and wrote its report, whatever its nodes did.
::testing::AssertionResult ended_by_itself(const KernelRun& run) {
    if (run.status.exited && !run.status.timed_out && run.report.is_object()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "the kernel did not end by itself:\n" << run.output;
}

::testing::AssertionResult ended_cleanly(const KernelRun& run, const char* what) {
    if (run.status.exited && run.status.code == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << " kernel:\n" << run.output;
}

/// A plain librdkafka producer in the test: records with the headers a publisher would write, or any others.
class RecordWriter {
public:
    explicit RecordWriter(const std::string& brokers)
        : producer_(make_kafka_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", brokers}})) {}
    ~RecordWriter() { rd_kafka_destroy(producer_); }

    void write(const std::string& key, const std::vector<kafka::Header>& headers, const std::string& value) {
        rd_kafka_headers_t* list = rd_kafka_headers_new(headers.size() + 1);
        for (const auto& [name, text] : headers)
            (void)rd_kafka_header_add(list, name.data(), -1, text.data(), -1);
        const rd_kafka_resp_err_t error = kafka::produce(producer_, TOPIC, key, value.data(), value.size(), list);
        if (error != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(list);
        ASSERT_EQ(error, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(error);
    }
    /// A record as a publisher of session `session` writes slot `sequence` of a 1 KiB waveform channel.
    void slot(std::uint64_t session,
              std::uint64_t sequence,
              const std::string& value,
              std::uint64_t slot_bytes = SLOT_BYTES,
              bool end = false,
              const std::string& channel = "raw") {
        kafka::RecordHeaders headers;
        headers.channel = channel;
        headers.slot_bytes = slot_bytes;
        headers.slot_count = SLOTS;
        headers.schema_hash = schema_hash_;
        headers.session = session;
        headers.sequence = sequence;
        headers.timestamp_ns = 1'000'000 + sequence;
        headers.end = end;
        write(channel, kafka::encode(headers), value);
    }
    void flush() { ASSERT_EQ(rd_kafka_flush(producer_, 10'000), RD_KAFKA_RESP_ERR_NO_ERROR); }
    /// The schema hash the records claim (all zeros unless set: no schema).
    void set_schema_hash(const std::array<std::uint8_t, 32>& hash) { schema_hash_ = hash; }

private:
    rd_kafka_t* producer_ = nullptr;
    std::array<std::uint8_t, 32> schema_hash_{};
};

/// A channel of the test's own records: no schema (its hash all zeros, as RecordWriter's records say).
nlohmann::json plain_channel() {
    return {{"name", "raw"}, {"slot_bytes", SLOT_BYTES}, {"slot_count", SLOTS}};
}

/// The offset a consumer group has committed for partition 0 of the topic (-1: none yet), asked as any client
/// may, without joining the group.
std::int64_t committed_offset(const std::string& brokers, const std::string& group) {
    rd_kafka_t* client = make_kafka_client(RD_KAFKA_CONSUMER, {{"bootstrap.servers", brokers}, {"group.id", group}});
    rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(1);
    (void)rd_kafka_topic_partition_list_add(partitions, TOPIC, 0);
    std::int64_t offset = -1;
    if (rd_kafka_committed(client, partitions, 5'000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        partitions->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        offset = partitions->elems[0].offset;
    }
    rd_kafka_topic_partition_list_destroy(partitions);
    rd_kafka_destroy(client);
    return offset;
}

class KafkaTransport_test : public ::testing::Test {
protected:
    void SetUp() override { cluster_.create_topic(TOPIC); }

    KafkaMockCluster cluster_;
    TempDir publisher_dir_;
    TempDir consumer_dir_;
};

TEST_F(KafkaTransport_test, RoundTripCarriesEverySlotByteForByte) {
    auto consumer = start_assigned_consumer(consumer_dir_, consumer_graph(consumer_dir_, cluster_.bootstraps()));
    const KernelRun published =
        run_kernel(publisher_dir_,
                   write_graph(publisher_dir_, publisher_graph(publisher_dir_, cluster_.bootstraps(), 3000, 3000)));
    const KernelRun consumed = collect(consumer_dir_, consumer.wait(30s));
    ASSERT_TRUE(ended_cleanly(published, "publisher"));
    ASSERT_TRUE(ended_cleanly(consumed, "consumer"));
    EXPECT_EQ(published.node("tx")["end_reason"], "end_of_stream") << published.output;
    EXPECT_EQ(consumed.node("rx")["end_reason"], "end_of_stream") << consumed.output;
    EXPECT_EQ(count_of(consumed.node("rx"), "upstream_lost"), 0u);

    const Recording left = read_recording(publisher_dir_ / "a.dhr");
    const Recording arrived = read_recording(consumer_dir_ / "b.dhr");
    ASSERT_TRUE(left.error.empty() && arrived.error.empty()) << left.error << arrived.error;
    ASSERT_EQ(left.slots.size(), 3000u);
    ASSERT_EQ(arrived.slots.size(), left.slots.size()) << consumed.output;
    for (std::size_t i = 0; i < left.slots.size(); ++i) {
        ASSERT_EQ(arrived.slots[i].bytes, left.slots[i].bytes) << "slot " << i << " differs";
        ASSERT_EQ(arrived.slots[i].timestamp_ns, left.slots[i].timestamp_ns) << "slot " << i;
    }
}

TEST_F(KafkaTransport_test, EveryBrokerDownAndBackLosesNothingAndDuplicatesNothing) {
    // The publisher's queue holds 64 KiB (about 70 records) by its properties file: the outage fills it, and the
    // lossless channel then holds the source back until the brokers are back.
    const std::string properties = (publisher_dir_ / "kafka.properties").string();
    std::ofstream(properties) << "# a small queue\nqueue.buffering.max.kbytes = 64\n";
    auto consumer = start_assigned_consumer(consumer_dir_, consumer_graph(consumer_dir_, cluster_.bootstraps()));
    auto publisher = start_kernel(
        publisher_dir_, write_graph(publisher_dir_, publisher_graph(publisher_dir_, cluster_.bootstraps(), 3000, 1000,
                                                                    100, {{"properties", properties}})));
    wait_flowing(consumer_dir_, std::to_string(consumer.pid()), "rec", 500);
    cluster_.set_all_down(true);
    std::this_thread::sleep_for(1500ms);
    cluster_.set_all_down(false);
    const KernelRun published = collect(publisher_dir_, publisher.wait(60s));
    const KernelRun consumed = collect(consumer_dir_, consumer.wait(60s));
    ASSERT_TRUE(ended_cleanly(published, "publisher"));
    ASSERT_TRUE(ended_cleanly(consumed, "consumer"));
    // The outage was seen: the publisher's log says the brokers were away.
    EXPECT_NE(published.output.find("(retrying)"), std::string::npos) << published.output;
    EXPECT_NE(published.output.find("the producer's queue is full"), std::string::npos) << published.output;
    const std::vector<std::uint64_t> frames = recorded_frames(consumer_dir_ / "b.dhr");
    ASSERT_EQ(frames.size(), 3000u) << consumed.output << published.output;
    EXPECT_EQ(frames.front(), 0u);
    expect_contiguous(frames, "the consumer across the outage");
    EXPECT_EQ(count_of(consumed.node("rx"), "upstream_lost"), 0u);
}

TEST_F(KafkaTransport_test, ConsumerKernelKilledAndRestartedResumesFromItsCommittedOffset) {
    auto first = start_assigned_consumer(consumer_dir_, consumer_graph(consumer_dir_, cluster_.bootstraps()));
    auto publisher =
        start_kernel(publisher_dir_,
                     write_graph(publisher_dir_, publisher_graph(publisher_dir_, cluster_.bootstraps(), 4000, 1000)));
    // Killed once its group has committed an offset past 1000 (librdkafka commits the stored ones every second).
    std::int64_t committed = -1;
    ASSERT_TRUE(wait_until([&] { return (committed = committed_offset(cluster_.bootstraps(), "dhub.raw")) >= 1000; },
                           30s, 50ms))
        << "the group committed no offset past 1000 (last: " << committed << ")";
    (void)first.stop(5s, SIGKILL);
    const std::vector<std::uint64_t> before = recorded_frames(consumer_dir_ / "b.dhr");
    ASSERT_FALSE(before.empty());

    TempDir again;
    auto second = start_kernel(again, write_graph(again, consumer_graph(again, cluster_.bootstraps())));
    const KernelRun published = collect(publisher_dir_, publisher.wait(60s));
    const KernelRun consumed = collect(again, second.wait(60s));
    ASSERT_TRUE(ended_cleanly(published, "publisher"));
    ASSERT_TRUE(ended_cleanly(consumed, "restarted consumer"));
    const std::vector<std::uint64_t> after = recorded_frames(again / "b.dhr");
    ASSERT_FALSE(after.empty());
    expect_contiguous(after, "the restarted consumer");
    EXPECT_EQ(after.back(), 3999u) << "the restarted consumer did not get to the end";
    // It went on from its group's committed offset (frame n is record n: one partition), not from the start ...
    EXPECT_GE(after.front(), static_cast<std::uint64_t>(committed))
        << "the restarted consumer did not go on from the offset its group had committed\n"
        << consumed.output;
    // ... which trails what the killed one committed locally: nothing between the two is lost. (Slots the killed
    // kernel had committed but its recorder had not written yet died with that kernel: its ring's worth.)
    EXPECT_LE(after.front(), before.back() + 1 + SLOTS) << "records between the two consumers were lost";
}

TEST_F(KafkaTransport_test, SlotLargerThanTheTopicsRecordsStopsThePublisherNamingBothSizes) {
    // 20000 samples: a 160 KiB frame, where the topic takes 100000-byte records.
    const KernelRun published =
        run_kernel(publisher_dir_,
                   write_graph(publisher_dir_, publisher_graph(publisher_dir_, cluster_.bootstraps(), 5, 100, 20000,
                                                               {{"max_message_bytes", 100000}}, 256 * 1024)));
    ASSERT_TRUE(ended_by_itself(published));
    EXPECT_EQ(published.node("tx")["end_reason"], "run_failed") << published.output;
    const std::size_t at = published.output.find("more than the topic's records may be");
    ASSERT_NE(at, std::string::npos) << published.output;
    const std::string line = published.output.substr(published.output.rfind('\n', at) + 1, 400);
    EXPECT_NE(line.find("160"), std::string::npos) << line;  // the slot's bytes: 160 KiB and its header
    EXPECT_NE(line.find("100000 bytes"), std::string::npos) << line;
}

TEST_F(KafkaTransport_test, ARecordTheClusterRefusesStopsThePublisherNamingItsSequenceAndSize) {
    // The broker says what a topic with a smaller max.message.bytes than max_message_bytes says: too large.
    cluster_.fail_next_produce(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    const KernelRun published = run_kernel(
        publisher_dir_, write_graph(publisher_dir_, publisher_graph(publisher_dir_, cluster_.bootstraps(), 20, 100)));
    ASSERT_TRUE(ended_by_itself(published));
    EXPECT_EQ(published.node("tx")["end_reason"], "run_failed") << published.output;
    const std::size_t at = published.output.find("the cluster did not take sequence 0 (");
    ASSERT_NE(at, std::string::npos) << published.output;
    const std::string line = published.output.substr(at, published.output.find('\n', at) - at);
    EXPECT_NE(line.find("larger than the topic's max.message.bytes"), std::string::npos) << line;
    EXPECT_NE(line.find("max_message_bytes here is 1000000"), std::string::npos) << line;
}

TEST_F(KafkaTransport_test, DuplicatesAreDroppedAndStrangeRecordsPassedOver) {
    RecordWriter writer(cluster_.bootstraps());
    const auto value = [](int n) { return std::string(100, static_cast<char>('a' + n)); };
    writer.slot(7, 0, value(0));
    writer.slot(7, 1, value(1));
    writer.slot(7, 2, value(2));
    writer.slot(7, 1, value(1));  // a producer's retry, or a re-read after a consumer's restart
    writer.slot(7, 2, value(2));
    writer.slot(7, 3, value(9), SLOT_BYTES, false, "other");  // another channel's record on the same topic
    writer.write("raw", {}, "a record of someone else's, without headers");
    writer.write("raw", {{"dhub.seq", "x"}}, "no dhub headers to speak of");
    writer.slot(7, 3, value(3), 2048);        // another slot size: passed over with on_mismatch "skip"
    writer.slot(7, 5, value(5));              // 3 (refused) and 4 never arrive: lost
    writer.slot(7, 6, "", SLOT_BYTES, true);  // an earlier run's end: newer records of the channel follow
    writer.slot(9, 0, value(6));              // the publisher's kernel started over: a new session, numbers from 0
    writer.slot(9, 1, value(7));
    writer.slot(9, 0, value(6), SLOT_BYTES, false, "raw");  // ... read twice
    writer.slot(10, 4, value(8));              // its node started over on the same channel: numbers go on, 2 and 3 lost
    writer.slot(7, 2, value(2));               // a rewind into the first session: still known for a duplicate
    writer.slot(10, 5, "", SLOT_BYTES, true);  // the end record ...
    writer.slot(1, 0, value(9), SLOT_BYTES, false, "other");  // ... which another channel's record does not undo
    writer.flush();

    const KernelRun consumed = run_kernel(
        consumer_dir_,
        write_graph(consumer_dir_,
                    consumer_graph(consumer_dir_, cluster_.bootstraps(), {{"on_mismatch", "skip"}}, plain_channel())),
        {}, 30s);
    ASSERT_TRUE(ended_cleanly(consumed, "consumer"));
    const Recording arrived = read_recording(consumer_dir_ / "b.dhr");
    ASSERT_TRUE(arrived.error.empty()) << arrived.error;
    std::vector<std::string> written;
    for (const RecordedSlot& slot : arrived.slots)
        written.push_back(slot.bytes);
    EXPECT_EQ(written, (std::vector<std::string>{value(0), value(1), value(2), value(5), value(6), value(7), value(8)}))
        << consumed.output;
    EXPECT_NE(consumed.output.find("4 duplicates dropped"), std::string::npos) << consumed.output;
    EXPECT_NE(consumed.output.find("passing over an earlier run's end of channel 'raw' (record 10)"), std::string::npos)
        << consumed.output;
    EXPECT_NE(consumed.output.find("the far channel 'raw' closed after sequence 5"), std::string::npos)
        << consumed.output;
    EXPECT_NE(consumed.output.find("the publisher started over (session 10) on the same channel: its numbers go on "
                                   "from 2"),
              std::string::npos)
        << consumed.output;
    EXPECT_NE(consumed.output.find("no header dhub."), std::string::npos) << consumed.output;
    EXPECT_NE(consumed.output.find("slot size differs"), std::string::npos) << consumed.output;
    EXPECT_NE(consumed.output.find("the publisher started over (session 9) on a new channel"), std::string::npos)
        << consumed.output;
    EXPECT_NE(consumed.output.find("passing over the records of channel 'other'"), std::string::npos)
        << consumed.output;
    EXPECT_NE(consumed.output.find("3 records passed over, 2 of other channels"), std::string::npos) << consumed.output;
    EXPECT_EQ(count_of(consumed.node("rx"), "upstream_lost"), 4u) << consumed.output;
}

TEST_F(KafkaTransport_test, AnotherSchemaStopsTheConsumerNamingBothSidesAndWritesNothing) {
    RecordWriter writer(cluster_.bootstraps());
    std::array<std::uint8_t, 32> other{};
    other.fill(0xab);
    writer.set_schema_hash(other);
    writer.slot(1, 0, std::string(100, 'x'));
    writer.flush();
    const KernelRun consumed = run_kernel(
        consumer_dir_,
        write_graph(consumer_dir_, consumer_graph(consumer_dir_, cluster_.bootstraps(), {}, plain_channel())), {}, 30s);
    ASSERT_TRUE(ended_by_itself(consumed));
    EXPECT_EQ(consumed.node("rx")["end_reason"], "run_failed") << consumed.output;
    EXPECT_NE(consumed.output.find("schema differs: the sender's channel is 'raw' (1024-byte slots, 16 slots, schema "
                                   "abababab), the receiver's is 'raw' (1024-byte slots, 16 slots, schema none)"),
              std::string::npos)
        << consumed.output;
    EXPECT_EQ(count_of(consumed.node("rx"), "slots_out"), 0u) << consumed.output;
}

}  // namespace
}  // namespace dhub::testing
