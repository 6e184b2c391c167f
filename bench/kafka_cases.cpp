// SPDX-License-Identifier: Apache-2.0
// The kafka transport at 4 KiB into librdkafka's mock cluster, hosted by this process on loopback TCP: a
// dhub-kernel process publishing a channel (bench_source -> kafka_publish) against a bare idempotent librdkafka
// producer. Both are timed the same way, from outside: by the partition's high watermark, as records become
// readable in the cluster (from a tenth of them to all). The mock cluster keeps records in memory: this measures
// the clients and the protocol, not a broker's disks.
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "bench_cases.hpp"
#include "produce.hpp"
#include "support/child_process.hpp"
#include "support/kafka_mock_cluster.hpp"
#include "support/temp_dir.hpp"

namespace dhub::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t PAYLOAD = 4096;
/// Records per batch for both rows, a tenth of librdkafka's default: the watermark moves a batch at a time, and
/// the timed window must span many of them even in a --quick run.
constexpr const char* BATCH_RECORDS = "1000";
constexpr std::uint32_t SLOTS = 64;

/// When a topic's partition 0 holds records: its high watermark, polled.
class WatermarkClock {
public:
    explicit WatermarkClock(const std::string& brokers)
        : client_(testing::make_kafka_client(RD_KAFKA_CONSUMER,
                                             {{"bootstrap.servers", brokers}, {"group.id", "bench-clock"}})) {}
    ~WatermarkClock() { rd_kafka_destroy(client_); }
    WatermarkClock(const WatermarkClock&) = delete;
    WatermarkClock& operator=(const WatermarkClock&) = delete;

    /// The moment partition 0 of topic first holds `records` records (or more); throws after the timeout.
    Clock::time_point when_holding(const std::string& topic, std::int64_t records, std::chrono::seconds timeout) {
        const Clock::time_point deadline = Clock::now() + timeout;
        for (;;) {
            std::int64_t low = 0;
            std::int64_t high = 0;
            if (rd_kafka_query_watermark_offsets(client_, topic.c_str(), 0, &low, &high, 1'000) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR &&
                high >= records) {
                return Clock::now();
            }
            if (Clock::now() > deadline) {
                throw std::runtime_error("topic '" + topic + "' never held " + std::to_string(records) + " records");
            }
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }

private:
    rd_kafka_t* client_;
};

/// Records per second from a tenth of `messages` readable to all of them, while `publish` runs.
template <typename Publish>
double timed_by_watermark(WatermarkClock& clock, const std::string& topic, std::uint64_t messages, Publish&& publish) {
    std::exception_ptr failure;
    std::thread publisher([&] {
        try {
            publish();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    double rate = 0;
    try {
        const auto tenth = static_cast<std::int64_t>(messages / 10);
        const Clock::time_point start = clock.when_holding(topic, tenth, std::chrono::seconds(60));
        const Clock::time_point end =
            clock.when_holding(topic, static_cast<std::int64_t>(messages), std::chrono::seconds(120));
        rate = static_cast<double>(static_cast<std::int64_t>(messages) - tenth) /
               std::chrono::duration<double>(end - start).count();
    } catch (...) {
        publisher.join();
        throw;
    }
    publisher.join();
    if (failure) std::rethrow_exception(failure);
    return rate;
}

/// A bare idempotent producer handing `messages` records of PAYLOAD bytes to the cluster until all are confirmed.
void bare_producer(const std::string& brokers, const std::string& topic, std::uint64_t messages) {
    rd_kafka_t* producer = testing::make_kafka_client(RD_KAFKA_PRODUCER, {{"bootstrap.servers", brokers},
                                                                          {"enable.idempotence", "true"},
                                                                          {"linger.ms", "5"},
                                                                          {"batch.num.messages", BATCH_RECORDS},
                                                                          {"queue.buffering.max.kbytes", "65536"}});
    const std::vector<char> payload(PAYLOAD, 'x');
    for (std::uint64_t i = 0; i < messages; ++i) {
        for (;;) {
            const rd_kafka_resp_err_t error =
                kafka_transport::produce(producer, topic.c_str(), "stream", payload.data(), payload.size());
            if (error == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_destroy(producer);
                throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(error));
            }
            rd_kafka_poll(producer, 10);
        }
        rd_kafka_poll(producer, 0);
    }
    const rd_kafka_resp_err_t flushed = rd_kafka_flush(producer, 60'000);
    rd_kafka_destroy(producer);
    if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error("the bare producer's flush timed out");
}

/// A dhub-kernel process: bench_source (`messages` slots of PAYLOAD bytes) -> stream -> kafka_publish to topic.
void kernel_publisher(const BenchOptions& options,
                      const std::string& brokers,
                      const std::string& topic,
                      std::uint64_t messages) {
    const testing::TempDir scratch("dhub-bench-kafka");
    const std::string properties = (scratch / "kafka.properties").string();
    std::ofstream(properties) << "batch.num.messages=" << BATCH_RECORDS << "\n";
    const nlohmann::json graph = {
        {"schema_version", 1},
        {"name", "kafka-publisher"},
        {"channels", {{{"name", "stream"}, {"slot_bytes", PAYLOAD}, {"slot_count", SLOTS}, {"sync", "single_reader"}}}},
        {"nodes",
         {{{"id", "source"},
           {"plugin", "bench_source"},
           {"params", {{"count", messages}}},
           {"outputs", {"stream"}},
           {"cpu", options.producer_core}},
          {{"id", "tx"},
           {"plugin", "kafka"},
           {"component", "dhub.transport.kafka_publish"},
           {"params", {{"brokers", brokers}, {"topic", topic}, {"properties", properties}}},
           {"inputs", {"stream"}}}}}};
    std::ofstream(scratch / "graph.json") << graph.dump(2);
    testing::ChildOptions child_options;
    child_options.death_signal = SIGKILL;
    child_options.output_file = (scratch / "kernel.log").string();
    testing::ChildProcess kernel =
        testing::ChildProcess::spawn(DHUB_BENCH_KERNEL,
                                     {(scratch / "graph.json").string(), "--plugin-path", DHUB_BENCH_PLUGIN_DIR,
                                      "--plugin-path", DHUB_BENCH_TRANSPORT_DIR, "--log-level", "warn", "--no-control"},
                                     child_options);
    const testing::ExitStatus status =
        kernel.wait(std::chrono::duration_cast<std::chrono::milliseconds>(options.child_timeout));
    if (status.timed_out || !status.exited || status.code != 0) {
        throw std::runtime_error("the publishing kernel failed: " + testing::read_text_file(child_options.output_file));
    }
}

std::vector<CaseResult> run_kafka(const BenchOptions& options) {
    std::vector<CaseResult> results;
    // Not fewer in a --quick run: the watermark is polled (a round trip to the cluster each time), and a run of a
    // fraction of a second would be timed by the polls rather than the records.
    const std::uint64_t messages = options.scaled(200'000);
    testing::KafkaMockCluster cluster;
    cluster.create_topic("bench.bare");
    cluster.create_topic("bench.dhub");
    WatermarkClock clock(cluster.bootstraps());

    CaseResult bare_row{.case_name = "kafka_publish", .transport = "librdkafka", .payload_bytes = PAYLOAD};
    CaseResult dhub_row{.case_name = "kafka_publish", .transport = "dhub", .payload_bytes = PAYLOAD};
    bare_row.wait = dhub_row.wait = "sleep";
    run_case(results, bare_row, [&](CaseResult& row) {
        row.msgs_per_s = timed_by_watermark(clock, "bench.bare", messages,
                                            [&] { bare_producer(cluster.bootstraps(), "bench.bare", messages); });
        row.gb_per_s = row.msgs_per_s * PAYLOAD / 1e9;
        row.note = "bare idempotent producer into librdkafka's mock cluster (3 brokers, in memory)";
    });
    run_case(results, dhub_row, [&](CaseResult& row) {
        row.msgs_per_s = timed_by_watermark(clock, "bench.dhub", messages, [&] {
            kernel_publisher(options, cluster.bootstraps(), "bench.dhub", messages);
        });
        row.gb_per_s = row.msgs_per_s * PAYLOAD / 1e9;
        row.note = "kernel: bench_source -> kafka_publish, every slot a record with dhub's headers";
        if (results.front().msgs_per_s > 0) {
            row.note += ": " +
                        std::to_string(static_cast<int>(row.msgs_per_s * 100.0 / results.front().msgs_per_s + 0.5)) +
                        " % of the bare producer";
        }
    });
    return results;
}

}  // namespace

void register_kafka_cases(Registry& registry) {
    registry.add({"transport.kafka", run_kafka,
                  "a kernel publishing a channel through the kafka transport vs a bare librdkafka producer, 4 KiB, "
                  "into librdkafka's mock cluster"});
}

}  // namespace dhub::bench
