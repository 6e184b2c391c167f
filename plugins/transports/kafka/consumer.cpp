// SPDX-License-Identifier: Apache-2.0
#include "consumer.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace dhub::kafka_transport {
namespace {

constexpr std::int64_t MS = 1'000'000;
constexpr int POLL_MS = 100;
/// How long one wait for a free local slot lasts before the node looks at stop again.
constexpr std::int64_t LOCAL_WAIT_NS = 100 * MS;
constexpr std::uint64_t COMPLAINT_EVERY_NS = 1'000 * MS;
/// librdkafka's fetch.max.bytes default, and what a fetch response holds besides the records' values at most.
constexpr std::uint64_t DEFAULT_FETCH_MAX_BYTES = 52'428'800;
constexpr std::uint64_t LARGEST_RECORD_OVERHEAD = 1 << 20;
/// Publisher sessions whose accounts are kept (a restarted publisher is a new one).
constexpr std::size_t SESSIONS_KEPT = 16;

std::string where(const rd_kafka_message_t& record) {
    return "record " + std::to_string(record.offset) + " of partition " + std::to_string(record.partition) +
           " of topic '" + rd_kafka_topic_name(record.rkt) + "'";
}

/// The record's headers as name/value views (valid while the record lives).
std::vector<std::pair<std::string_view, std::string_view>> raw_headers(const rd_kafka_message_t& record) {
    std::vector<std::pair<std::string_view, std::string_view>> raw;
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&record, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return raw;
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
        raw.emplace_back(
            name, value == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(value), size));
    }
    return raw;
}

}  // namespace

KafkaConsumer::KafkaConsumer(sdk::NodeContext& context)
    : brokers_(context.params().string("brokers")),
      topic_(context.params().string("topic")),
      far_channel_(context.params().string("channel")),
      group_(context.params().string("group")),
      start_(context.params().string("start")),
      properties_(context.params().string("properties")),
      stop_on_mismatch_(context.params().string("on_mismatch") == "stop"),
      events_(context) {
    if (brokers_.empty()) throw std::runtime_error("brokers is empty: name the cluster's bootstrap servers");
}

dhub_status KafkaConsumer::run(sdk::NodeContext& context) {
    log_.emplace(context.log());
    local_ = context.channel(sdk::Direction::Output);
    if (far_channel_.empty()) far_channel_ = local_.name;
    local_.name = far_channel_;  // compared under the far name, as the records carry it
    if (topic_.empty()) topic_ = far_channel_;
    if (group_.empty()) group_ = "dhub." + far_channel_;
    try {
        // Offsets are stored by hand, once a slot is committed locally; librdkafka commits the stored ones
        // every second and at close.
        // A member that died unannounced holds its partitions until its session times out: 6 s (the least
        // brokers allow by default) rather than librdkafka's 45 s, so a restarted consumer kernel goes on soon.
        Settings defaults{
            {"auto.commit.interval.ms", "1000"}, {"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}};
        // A fetch must hold the largest record: raised from librdkafka's 50 MB for slots near or above it.
        if (const std::uint64_t fetch = local_.slot_bytes + LARGEST_RECORD_OVERHEAD; fetch > DEFAULT_FETCH_MAX_BYTES) {
            defaults.emplace_back("fetch.max.bytes", std::to_string(fetch));
            defaults.emplace_back("receive.message.max.bytes", std::to_string(fetch + LARGEST_RECORD_OVERHEAD));
        }
        const Settings fixed{{"group.id", group_},
                             {"auto.offset.reset", start_},
                             {"enable.partition.eof", "true"},
                             {"enable.auto.commit", "true"},
                             {"enable.auto.offset.store", "false"}};
        Conf conf = make_conf(brokers_, defaults, properties_, fixed);
        events_.attach_consumer(conf.get());
        consumer_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
        events_.after_create(consumer_.get());
    } catch (const std::exception& error) {
        context.report_error(DHUB_ERR_INVALID_ARGUMENT, error.what());
        return DHUB_ERR_INVALID_ARGUMENT;
    }
    (void)rd_kafka_poll_set_consumer(consumer_.get());  // logs and errors come with the records
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    (void)rd_kafka_topic_partition_list_add(topics, topic_.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t subscribed = rd_kafka_subscribe(consumer_.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
        context.report_error(DHUB_ERR_IO,
                             "cannot subscribe to topic '" + topic_ + "': " + rd_kafka_err2str(subscribed));
        return DHUB_ERR_IO;
    }
    context.log().info("consuming channel " + sdk::describe(local_) + " from topic '" + topic_ + "' at " + brokers_ +
                       " (group '" + group_ + "')");

    Outcome outcome = Outcome::Continue;
    while (outcome == Outcome::Continue && !context.stop_requested()) {
        const Message record(rd_kafka_consumer_poll(consumer_.get(), POLL_MS));
        if (events_.fatal()) {
            context.report_error(DHUB_ERR_IO, "the Kafka consumer failed: " + *events_.fatal());
            failure_ = DHUB_ERR_IO;
            outcome = Outcome::Fail;
        } else if (record) {
            outcome = handle(context, *record);
        }
    }
    // Close commits the offsets stored: those of the slots committed here, and no others.
    (void)rd_kafka_consumer_close(consumer_.get());
    consumer_.reset();
    const std::string span = current_session_ ? "up to far sequence " + std::to_string(last_sequence_) + ": "
                                              : std::string("no far sequence: ");
    context.log().info(span + "committed " + std::to_string(committed_) + " slots; " + std::to_string(lost_) +
                       " never arrived, " + std::to_string(duplicates_) + " duplicates dropped, " +
                       std::to_string(passed_over_) + " records passed over, " + std::to_string(other_records_) +
                       " of other channels");
    if (outcome == Outcome::End) return DHUB_END_OF_STREAM;
    return outcome == Outcome::Fail ? failure_ : DHUB_OK;
}

KafkaConsumer::Outcome KafkaConsumer::handle(sdk::NodeContext& context, const rd_kafka_message_t& record) {
    if (record.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (record.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            // Read to the end: an end record of this channel with nothing of it after is the far channel's end.
            if (pending_end_ && pending_end_->partition == record.partition) {
                context.log().info("the far channel '" + far_channel_ + "' closed after sequence " +
                                   std::to_string(pending_end_->sequence) + " (record " +
                                   std::to_string(pending_end_->offset) + " of partition " +
                                   std::to_string(record.partition) + " of topic '" + topic_ + "')");
                return Outcome::End;
            }
            return Outcome::Continue;
        }
        {  // A broker away: librdkafka goes on by itself.
            const std::uint64_t now = context.now_ns();
            if (now - complained_ns_ >= COMPLAINT_EVERY_NS) {
                complained_ns_ = now;
                context.log().warn(std::string("Kafka: ") + rd_kafka_message_errstr(&record) + " (retrying)");
            }
        }
        return Outcome::Continue;
    }
    const auto decoded = decode(raw_headers(record));
    if (const auto* problem = std::get_if<std::string>(&decoded)) {
        pass_over(context, record, *problem);
        return Outcome::Continue;
    }
    const RecordHeaders& headers = std::get<RecordHeaders>(decoded);
    if (headers.channel != far_channel_) {  // a topic may carry several channels: the others are not ours
        ++other_records_;
        store_offset(record);
        if (other_channels_.size() < 64 && other_channels_.insert(headers.channel).second) {
            context.log().info("passing over the records of channel '" + headers.channel + "' on topic '" + topic_ +
                               "' (this node takes '" + far_channel_ + "'; first seen at " + where(record) + ")");
        }
        return Outcome::Continue;
    }
    sdk::ChannelInfo far;
    far.name = headers.channel;
    far.slot_bytes = headers.slot_bytes;
    far.slot_count = headers.slot_count;
    far.schema_hash = headers.schema_hash;
    if (const std::string mismatch = sdk::channel_mismatch(far, local_); !mismatch.empty()) {
        const std::string text = mismatch + " (the publisher's schema is " + headers.schema_id + ")";
        if (stop_on_mismatch_) {
            context.report_error(DHUB_ERR_SCHEMA_MISMATCH,
                                 where(record) + ": " + text + " (on_mismatch \"skip\" passes such records over)");
            failure_ = DHUB_ERR_SCHEMA_MISMATCH;
            return Outcome::Fail;
        }
        pass_over(context, record, text);
        return Outcome::Continue;
    }
    if (record.len > local_.slot_bytes) {
        pass_over(context, record,
                  "its " + std::to_string(record.len) + " bytes do not fit the " + std::to_string(local_.slot_bytes) +
                      "-byte slots its headers promise");
        return Outcome::Continue;
    }
    if (pending_end_ && pending_end_->partition == record.partition) {
        context.log().info("passing over an earlier run's end of channel '" + far_channel_ + "' (record " +
                           std::to_string(pending_end_->offset) + "): " + where(record) + " follows it");
        pending_end_.reset();
    }
    Account& account = account_of(context, headers);
    sdk::SequenceLedger& ledger = account.ledger;
    const std::uint64_t lost_before = ledger.lost();
    if (headers.end) {
        ledger.skip_to(headers.sequence);  // slots sent before the end that never came count as lost
        count_lost(context, ledger, lost_before);
        account.ended = true;
        on_end(context, record, headers);
        return Outcome::Continue;
    }
    if (!ledger.started()) {
        context.log().info("taking far sequence numbers from " + std::to_string(headers.sequence) + ", " +
                           where(record));
    }
    if (ledger.arrive(headers.sequence) == sdk::SequenceLedger::Verdict::Duplicate) {
        ++duplicates_;
        store_offset(record);
        return Outcome::Continue;
    }
    count_lost(context, ledger, lost_before);
    last_sequence_ = headers.sequence;
    return write(context, record, headers);
}

KafkaConsumer::Account& KafkaConsumer::account_of(sdk::NodeContext& context, const RecordHeaders& headers) {
    const auto known = std::find_if(accounts_.begin(), accounts_.end(),
                                    [&](const Account& account) { return account.session == headers.session; });
    if (known != accounts_.end()) {
        std::rotate(known, known + 1, accounts_.end());  // the most recently used goes last
        current_session_ = headers.session;
        return accounts_.back();
    }
    Account account{headers.session, {}, false};
    const auto current = std::find_if(accounts_.begin(), accounts_.end(), [&](const Account& candidate) {
        return current_session_ && candidate.session == *current_session_;
    });
    if (current != accounts_.end() && current->ledger.started()) {
        const std::uint64_t next = current->ledger.next();
        // A publisher restarted on a channel that lived on (its node, not its kernel) goes on where the last one
        // was: from a slot that one was handed but never released at the earliest, so at most a ring behind.
        // Lower numbers, and 0 (a channel's first slot), are a new channel's: a restarted publisher kernel.
        // After an end record, the channel is a new one whatever its numbers.
        if (!current->ended && headers.sequence != 0 &&
            headers.sequence + std::max<std::uint64_t>(headers.slot_count, 1) >= next) {
            account.ledger.expect(next);  // what the last one never got to the cluster counts as lost
            context.log().info("the publisher started over (session " + std::to_string(headers.session) +
                               ") on the same channel: its numbers go on from " + std::to_string(next));
        } else {
            context.log().info("the publisher started over (session " + std::to_string(headers.session) +
                               ") on a new channel: its numbers are taken from " + std::to_string(headers.sequence));
        }
    }
    if (accounts_.size() == SESSIONS_KEPT) accounts_.erase(accounts_.begin());
    accounts_.push_back(account);
    current_session_ = headers.session;
    return accounts_.back();
}

void KafkaConsumer::on_end(sdk::NodeContext& context, const rd_kafka_message_t& record, const RecordHeaders& headers) {
    store_offset(record);
    pending_end_ = PendingEnd{record.partition, record.offset, headers.sequence};
    context.log().debug("end record of channel '" + headers.channel + "' at " + where(record) +
                        ": it closes the channel if nothing of it follows");
}

void KafkaConsumer::count_lost(sdk::NodeContext& context,
                               const sdk::SequenceLedger& ledger,
                               std::uint64_t lost_before) {
    if (ledger.lost() <= lost_before) return;
    lost_ += ledger.lost() - lost_before;
    context.count_upstream_loss(0, ledger.lost() - lost_before);
}

KafkaConsumer::Outcome KafkaConsumer::write(sdk::NodeContext& context,
                                            const rd_kafka_message_t& record,
                                            const RecordHeaders& headers) {
    dhub_slot slot{};
    slot.struct_size = sizeof slot;
    for (;;) {
        const dhub_status status = context.host()->acquire_write(context.node(), 0, LOCAL_WAIT_NS, &slot);
        if (status == DHUB_OK) break;
        if (status == DHUB_STOPPING) return Outcome::Stop;  // not committed: its offset is not stored
        if (status != DHUB_TIMEOUT) {
            context.report_error(status,
                                 std::string("cannot get a slot of the local channel: ") + dhub_status_name(status));
            failure_ = status;
            return Outcome::Fail;
        }
        if (context.stop_requested()) return Outcome::Stop;
    }
    if (record.len > 0) std::memcpy(slot.data, record.payload, record.len);
    const dhub_status status = context.host()->commit(context.node(), 0, record.len, headers.timestamp_ns);
    if (status != DHUB_OK) {
        (void)context.host()->abort_write(context.node(), 0);
        context.report_error(status, "committing far sequence " + std::to_string(headers.sequence) + " failed");
        failure_ = status;
        return Outcome::Fail;
    }
    ++committed_;
    store_offset(record);
    return Outcome::Continue;
}

void KafkaConsumer::pass_over(sdk::NodeContext& context, const rd_kafka_message_t& record, const std::string& why) {
    ++passed_over_;
    store_offset(record);
    // Each new reason is said at once; the same one again at most once a second.
    const std::uint64_t now = context.now_ns();
    if (why != passed_over_why_ || now - passed_over_ns_ >= COMPLAINT_EVERY_NS) {
        passed_over_ns_ = now;
        passed_over_why_ = why;
        context.log().warn("passed over " + where(record) + ": " + why + " (" + std::to_string(passed_over_) +
                           " so far)");
    }
}

void KafkaConsumer::store_offset(const rd_kafka_message_t& record) {
    // Refused once the partition went to another member (a rebalance, or this node stalled past
    // max.poll.interval.ms): the group then reads the record again, and the sequence ledger drops it.
    if (const rd_kafka_resp_err_t error = rd_kafka_offset_store(record.rkt, record.partition, record.offset);
        error != RD_KAFKA_RESP_ERR_NO_ERROR && store_trouble_logged_ < 10) {
        ++store_trouble_logged_;
        log_->warn("cannot store the offset of " + where(record) + ": " + rd_kafka_err2str(error) +
                   " (the group will read it again)");
    }
}

}  // namespace dhub::kafka_transport
