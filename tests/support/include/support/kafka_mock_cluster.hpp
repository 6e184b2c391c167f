// SPDX-License-Identifier: Apache-2.0
// librdkafka's built-in mock cluster, hosted by a test or the bench: real Kafka brokers' protocol on loopback
// TCP ports that kernels in other processes connect to, with no Kafka server installed. Brokers can be taken
// down and brought back. Link dhub::test_kafka_mock.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace dhub::testing {

/// A librdkafka client made with these settings (bootstrap.servers among them, for a client of the cluster).
/// Throws std::runtime_error naming a refused setting. The caller destroys it (rd_kafka_destroy).
rd_kafka_t* make_kafka_client(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings);

class KafkaMockCluster {
public:
    explicit KafkaMockCluster(int brokers = 3);
    ~KafkaMockCluster();
    KafkaMockCluster(const KafkaMockCluster&) = delete;
    KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

    /// The brokers' addresses, as a client's bootstrap.servers (a kafka node's "brokers").
    std::string bootstraps() const;
    /// Makes a topic now (one partition keeps a test's records in one order; auto-created ones get several).
    void create_topic(const std::string& name, int partitions = 1);
    /// The next `count` produce requests fail with `error` (as a broker answers, e.g. a record too large for the
    /// topic's max.message.bytes).
    void fail_next_produce(rd_kafka_resp_err_t error, int count = 1);
    /// Takes every broker down (connections closed, new ones refused) or brings them back.
    void set_all_down(bool down);

private:
    rd_kafka_t* host_ = nullptr;  ///< the client handle the mock cluster lives in
    rd_kafka_mock_cluster_t* cluster_ = nullptr;
    int brokers_;
};

}  // namespace dhub::testing
