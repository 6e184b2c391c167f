// SPDX-License-Identifier: Apache-2.0
#include "publisher.hpp"

#include "produce.hpp"

#include <algorithm>
#include <stdexcept>

namespace dhub::kafka_transport {
namespace {

constexpr std::int64_t MS = 1'000'000;
/// How long one wait on the input lasts before the node serves librdkafka's reports again.
constexpr std::int64_t INPUT_WAIT_NS = 50 * MS;
/// How long it waits for room in librdkafka's queue before it looks at stop and failures again.
constexpr int QUEUE_WAIT_MS = 50;
/// A record's framing and its batch's (Kafka's v2 format: 61 bytes of batch header, up to ~20 per record, varints
/// per header), rounded up: what a record adds to its slot besides key and headers.
constexpr std::size_t RECORD_FRAMING_BYTES = 128;

}  // namespace

KafkaPublisher::KafkaPublisher(sdk::NodeContext& context)
    : brokers_(context.params().string("brokers")),
      topic_(context.params().string("topic")),
      key_(context.params().string("key")),
      properties_(context.params().string("properties")),
      max_message_bytes_(static_cast<std::uint64_t>(context.params().integer("max_message_bytes"))),
      delivery_timeout_ms_(context.params().integer("delivery_timeout_ms")),
      flush_timeout_ms_(context.params().integer("flush_timeout_ms")),
      events_(context) {
    if (brokers_.empty()) throw std::runtime_error("brokers is empty: name the cluster's bootstrap servers");
}

dhub_status KafkaPublisher::run(sdk::NodeContext& context) {
    const std::optional<sdk::ChannelInfo> channel = sdk::wait_for_channel(context, sdk::Direction::Input);
    if (!channel) return DHUB_OK;
    if (topic_.empty()) topic_ = channel->name;
    if (key_.empty()) key_ = channel->name;
    stamp_.channel = channel->name;
    stamp_.slot_bytes = channel->slot_bytes;
    stamp_.slot_count = channel->slot_count;
    stamp_.schema_hash = channel->schema_hash;
    stamp_.schema_id = std::string(context.schema(sdk::Direction::Input));
    if (stamp_.schema_id.empty()) stamp_.schema_id = "*";
    stamp_.session = draw_session();
    headers_.emplace(stamp_);
    // What a record adds to its slot's bytes: key, headers, and the record's and its batch's framing.
    overhead_ = key_.size() + headers_->most_bytes() + RECORD_FRAMING_BYTES;

    events_.on_delivery = [this](const rd_kafka_message_t& message) { on_delivery(message); };
    try {
        // Defaults a properties file may change: a bounded queue (the back-pressure point; room for two of the
        // largest records at least), small batches soon.
        const std::uint64_t queue_kbytes = std::max<std::uint64_t>(65536, 2 * max_message_bytes_ / 1024 + 1);
        const Settings defaults{{"queue.buffering.max.kbytes", std::to_string(queue_kbytes)}, {"linger.ms", "5"}};
        // What the guarantees rest on: idempotence (retries never duplicate nor reorder), the size limit checked
        // here, and how long a record may wait.
        const Settings fixed{{"enable.idempotence", "true"},
                             {"delivery.report.only.error", "false"},
                             {"message.max.bytes", std::to_string(max_message_bytes_)},
                             {"message.timeout.ms", std::to_string(delivery_timeout_ms_)}};
        Conf conf = make_conf(brokers_, defaults, properties_, fixed);
        events_.attach(conf.get());
        producer_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
        events_.after_create(producer_.get());
    } catch (const std::exception& error) {
        context.report_error(DHUB_ERR_INVALID_ARGUMENT, error.what());
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    if (channel->slot_bytes + overhead_ > max_message_bytes_) {
        context.log().warn("channel " + sdk::describe(*channel) +
                           " has slots larger than the topic's records may be (" + std::to_string(max_message_bytes_) +
                           " bytes, max_message_bytes): a slot filled beyond " + "that stops this node");
    }
    context.log().info("publishing channel " + sdk::describe(*channel) + " to topic '" + topic_ + "' at " + brokers_ +
                       " (key '" + key_ + "', session " + std::to_string(stamp_.session) + ")");

    bool ended = false;
    bool ok = true;
    while (ok && !context.stop_requested()) {
        rd_kafka_poll(producer_.get(), 0);
        if (failure_ || events_.fatal()) {
            ok = false;
            break;
        }
        const dhub_status status = context.input<sdk::Bytes>(0).pull(
            [&](const sdk::InputSlot<sdk::Bytes>& slot) {
                const auto bytes = slot.bytes();
                if (bytes.size() + overhead_ > max_message_bytes_) {
                    failure_ = too_large(slot.sequence(), bytes.size());
                    ok = false;
                    return;
                }
                ok = produce(context, slot.sequence(), slot.timestamp_ns(), false, bytes.data(), bytes.size());
                if (ok) next_sequence_ = slot.sequence() + 1;
            },
            INPUT_WAIT_NS);
        if (status == DHUB_END_OF_STREAM) {
            ended = true;
            break;
        }
        if (dhub_status_is_error(status)) {
            // A torn or unreadable slot, or a remote input gone for now: said once a second, and a pause.
            const std::uint64_t now = context.now_ns();
            if (now - input_trouble_ns_ >= 1'000 * MS) {
                input_trouble_ns_ = now;
                context.log().warn(std::string("reading the input failed: ") + dhub_status_name(status));
            }
            (void)context.sleep_until(now + 10 * MS);
        }
    }
    if (ended && ok) {
        // The end record: the consumer's channel closes too, after every slot (its sequence: the next unsent).
        ok = produce(context, next_sequence_, context.now_ns(), true, nullptr, 0);
    }
    // An ended input waits for every confirmation (lossless is lossless); a stop waits flush_timeout_ms at most.
    const bool drained = drain(context, ended ? -1 : flush_timeout_ms_ * MS);
    if (failure_) context.report_error(DHUB_ERR_IO, *failure_);
    if (events_.fatal()) context.report_error(DHUB_ERR_IO, "the Kafka producer failed: " + *events_.fatal());
    context.log().info("handed " + std::to_string(handed_) + " records (" + std::to_string(bytes_) +
                       " bytes) to the producer; the cluster confirmed " + std::to_string(confirmed_));
    producer_.reset();
    if (failure_ || events_.fatal() || !ok) return DHUB_ERR_IO;
    if (!drained) return DHUB_ERR_IO;
    return ended ? DHUB_END_OF_STREAM : DHUB_OK;
}

bool KafkaPublisher::produce(sdk::NodeContext& context,
                             std::uint64_t sequence,
                             std::uint64_t timestamp_ns,
                             bool end,
                             const void* bytes,
                             std::size_t size) {
    for (;;) {
        rd_kafka_headers_t* record_headers = rd_kafka_headers_new(8);
        headers_->write(sequence, timestamp_ns, end, [&](const char* name, const char* value, std::size_t length) {
            (void)rd_kafka_header_add(record_headers, name, -1, value, static_cast<ssize_t>(length));
        });
        const rd_kafka_resp_err_t error =
            kafka_transport::produce(producer_.get(), topic_.c_str(), key_, bytes, size, record_headers,
                                     reinterpret_cast<void*>(static_cast<std::uintptr_t>(sequence)));
        if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {  // the headers are the record's now
            ++handed_;
            bytes_ += size;
            if (queue_full_) {
                queue_full_ = false;
                context.log().info("the producer's queue has room again: reading the input");
            }
            return true;
        }
        rd_kafka_headers_destroy(record_headers);
        if (error == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            failure_ = too_large(sequence, size);
            return false;
        }
        if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL && handed_ == confirmed_ + failed_) {
            // Full while empty: this record alone is larger than the queue a properties file allows.
            failure_ = "sequence " + std::to_string(sequence) + " (" + std::to_string(size) +
                       " bytes) does not fit the producer's queue at all: raise queue.buffering.max.kbytes";
            return false;
        }
        if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            failure_ = "sequence " + std::to_string(sequence) + " (" + std::to_string(size) +
                       " bytes) refused by the producer: " + rd_kafka_err2str(error);
            return false;
        }
        // The cluster is slow or away: wait for room, and the input waits meanwhile (lossless back-pressure).
        if (!queue_full_) {
            queue_full_ = true;
            context.log().info("the producer's queue is full (" + std::to_string(handed_ - confirmed_ - failed_) +
                               " records wait for the cluster): holding the input back");
        }
        rd_kafka_poll(producer_.get(), QUEUE_WAIT_MS);
        if (context.stop_requested() || failure_ || events_.fatal()) {
            if (!failure_ && !events_.fatal()) {
                failure_ = "stopped while the producer's queue was full: sequence " + std::to_string(sequence) +
                           " was read but never handed over";
            }
            return false;
        }
    }
}

bool KafkaPublisher::drain(sdk::NodeContext& context, std::int64_t timeout_ns) {
    // Counted from the delivery reports, not from librdkafka's queue, which also holds log lines and events.
    const auto unreported = [this] { return handed_ - confirmed_ - failed_; };
    const std::uint64_t deadline = timeout_ns < 0 ? 0 : context.now_ns() + static_cast<std::uint64_t>(timeout_ns);
    while (unreported() > 0 && !events_.fatal()) {
        if (timeout_ns >= 0 && context.now_ns() >= deadline) break;
        // An ended input waits for the cluster for ever unless stopped; then flush_timeout_ms still applies.
        if (timeout_ns < 0 && context.stop_requested()) return drain(context, flush_timeout_ms_ * MS);
        rd_kafka_poll(producer_.get(), 50);
    }
    if (unreported() > 0 || failed_ > 0) {
        context.log().error(std::to_string(unreported()) +
                            " records were never confirmed by the cluster (they may or may not have reached it), " +
                            std::to_string(failed_) + " were refused");
    }
    return unreported() == 0 && failed_ == 0;
}

std::string KafkaPublisher::too_large(std::uint64_t sequence, std::size_t bytes) const {
    return "sequence " + std::to_string(sequence) + " holds " + std::to_string(bytes) + " bytes (" +
           std::to_string(bytes + overhead_) + " with its key and headers), more than the topic's records may be (" +
           std::to_string(max_message_bytes_) +
           " bytes, max_message_bytes): raise the topic's max.message.bytes and max_message_bytes, or send smaller "
           "slots";
}

void KafkaPublisher::on_delivery(const rd_kafka_message_t& message) {
    if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++confirmed_;
        return;
    }
    ++failed_;
    if (failure_) return;
    const auto sequence = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message._private));
    std::string text = "the cluster did not take sequence " + std::to_string(sequence) + " (" +
                       std::to_string(message.len) + " bytes) on topic '" + topic_ +
                       "': " + rd_kafka_err2str(message.err);
    if (message.err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        text += " (the broker judged its batch, with this record of " + std::to_string(message.len) +
                " bytes, larger than the topic's max.message.bytes; max_message_bytes here is " +
                std::to_string(max_message_bytes_) + ": set it to the topic's)";
    }
    failure_ = text;
}

}  // namespace dhub::kafka_transport
