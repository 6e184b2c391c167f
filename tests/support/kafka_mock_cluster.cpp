// SPDX-License-Identifier: Apache-2.0
#include "support/kafka_mock_cluster.hpp"

#include <cstdint>
#include <stdexcept>

namespace dhub::testing {

rd_kafka_t* make_kafka_client(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& settings) {
    char reason[512] = "";
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    for (const auto& [name, value] : settings) {
        if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason, sizeof reason) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            throw std::runtime_error("librdkafka refused " + name + "=" + value + ": " + reason);
        }
    }
    rd_kafka_t* client = rd_kafka_new(type, conf, reason, sizeof reason);
    if (client == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("cannot make a librdkafka client: ") + reason);
    }
    return client;
}

KafkaMockCluster::KafkaMockCluster(int brokers) : brokers_(brokers) {
    // The hosting handle talks to no cluster: without log_level 3 it warns that it has no bootstrap.servers.
    host_ = make_kafka_client(RD_KAFKA_PRODUCER, {{"log_level", "3"}});
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
    if (cluster_ == nullptr) {
        rd_kafka_destroy(host_);
        throw std::runtime_error("cannot start librdkafka's mock cluster");
    }
}

KafkaMockCluster::~KafkaMockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(host_);
}

std::string KafkaMockCluster::bootstraps() const {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
}

void KafkaMockCluster::create_topic(const std::string& name, int partitions) {
    const rd_kafka_resp_err_t error = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, brokers_);
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw std::runtime_error("cannot create mock topic '" + name + "': " + rd_kafka_err2str(error));
    }
}

void KafkaMockCluster::fail_next_produce(rd_kafka_resp_err_t error, int count) {
    constexpr std::int16_t PRODUCE = 0;  // Kafka's ApiKey of Produce requests
    for (int i = 0; i < count; ++i)
        rd_kafka_mock_push_request_errors(cluster_, PRODUCE, 1, error);
}

void KafkaMockCluster::set_all_down(bool down) {
    for (int broker = 1; broker <= brokers_; ++broker) {
        if (down)
            (void)rd_kafka_mock_broker_set_down(cluster_, broker);
        else
            (void)rd_kafka_mock_broker_set_up(cluster_, broker);
    }
}

}  // namespace dhub::testing
