// SPDX-License-Identifier: Apache-2.0
// dhub-kafka.so: the kafka transport's two halves (docs/transports.md).
#include "dhub/sdk/plugin.hpp"
#include "consumer.hpp"
#include "publisher.hpp"

DHUB_PLUGIN("kafka",
            "1.0.0",
            "Apache-2.0",
            "Publishes channels to Kafka topics and consumes them back, checked, in order, at least once",
            dhub::sdk::component<dhub::kafka_transport::KafkaPublisher>(),
            dhub::sdk::component<dhub::kafka_transport::KafkaConsumer>())
