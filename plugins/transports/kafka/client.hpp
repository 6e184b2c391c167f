// SPDX-License-Identifier: Apache-2.0
// librdkafka handles for the kafka transport: the configuration both halves build the same way (bootstrap
// servers, a properties file, then the settings the transport's guarantees rest on), and owning pointers that
// free what librdkafka allocates.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace dhub::kafka_transport {

struct HandleDeleter {
    void operator()(rd_kafka_t* handle) const noexcept { rd_kafka_destroy(handle); }
};
struct MessageDeleter {
    void operator()(rd_kafka_message_t* message) const noexcept { rd_kafka_message_destroy(message); }
};
struct ConfDeleter {
    void operator()(rd_kafka_conf_t* conf) const noexcept { rd_kafka_conf_destroy(conf); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using Message = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

using Settings = std::vector<std::pair<std::string, std::string>>;

/// The lines "name=value" of a Java-style properties file (what Kafka's own tools read: '#' and '!' start
/// comments, blank lines are skipped). Throws std::runtime_error naming the file and line of a bad one.
Settings read_properties(const std::string& path);

/// A configuration: bootstrap servers, `defaults` (the transport's choices, which a properties file may change),
/// the properties file's settings (if any), then `fixed` (what the transport's guarantees rest on: a file that
/// sets one otherwise is refused). Throws std::runtime_error naming the setting refused and why.
Conf make_conf(const std::string& brokers,
               const Settings& defaults,
               const std::string& properties_path,
               const Settings& fixed);

/// A producer or consumer made from conf (which it takes). Throws std::runtime_error with librdkafka's reason.
Handle make_client(rd_kafka_type_t type, Conf conf);

}  // namespace dhub::kafka_transport
