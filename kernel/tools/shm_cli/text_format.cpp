// SPDX-License-Identifier: Apache-2.0
#include "text_format.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "channel_facts.hpp"
#include "dhub/schema/schema_text.hpp"
#include "stored_schema.hpp"

namespace dhub::tools {
namespace {

/// printf into a std::string: the table needs fixed widths, which iostream manipulators make unreadable.
template <typename... Args>
std::string printf_string(const char* format, Args... args) {
    const int length = std::snprintf(nullptr, 0, format, args...);
    if (length <= 0) return {};
    std::string text(static_cast<std::size_t>(length) + 1, '\0');
    std::snprintf(text.data(), text.size(), format, args...);
    text.pop_back();
    return text;
}

/// Channel names are up to 200 characters; the first column grows for long ones instead of truncating.
constexpr int CHANNEL_COLUMN = 24;

std::string producer_summary(const shm::ChannelInfo& info) {
    if (info.producer_pid == 0) return info.closed ? "none (closed)" : "none";
    return std::to_string(info.producer_pid) + (info.producer_alive ? " alive" : " dead");
}

std::string yes_no(bool value) {
    return value ? "yes" : "no";
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(units)) {
        value /= 1024.0;
        ++unit;
    }
    return printf_string("%.1f %s", value, units[unit]);
}

std::string format_duration(std::uint64_t ns) {
    if (ns < 1'000) return std::to_string(ns) + " ns";
    const double value = static_cast<double>(ns);
    if (ns < 1'000'000) return printf_string("%.1f us", value / 1e3);
    if (ns < 1'000'000'000) return printf_string("%.1f ms", value / 1e6);
    return printf_string("%.1f s", value / 1e9);
}

void write_list_header(std::ostream& out) {
    out << printf_string("%-*s %10s %-13s %-18s %-16s %-9s %s\n", CHANNEL_COLUMN, "CHANNEL", "SIZE", "SYNC", "SLOTS",
                         "PRODUCER", "CONSUMERS", "WRITE_SEQ");
}

void write_list_row(std::ostream& out, const shm::ChannelInfo& info) {
    const std::string slots = std::to_string(info.slot_count) + " x " + format_bytes(info.slot_payload_bytes);
    const std::string consumers =
        std::to_string(live_consumer_count(info)) + "/" + std::to_string(info.consumers.size());
    out << printf_string("%-*s %10s %-13s %-18s %-16s %-9s %llu\n", CHANNEL_COLUMN, info.channel.c_str(),
                         format_bytes(info.segment_bytes).c_str(), shm::to_string(info.sync), slots.c_str(),
                         producer_summary(info).c_str(), consumers.c_str(),
                         static_cast<unsigned long long>(info.write_seq));
}

void write_list_error_row(std::ostream& out, std::string_view channel, const Error& error) {
    // The word says why the segment cannot be read; `dhub-shm gc` keeps such segments unless --force (but for a
    // truncated one of a dead creator, or one still being created: see gc's own report).
    const char* state = error.code == ErrorCode::Corrupt        ? "corrupt"
                        : error.code == ErrorCode::Incompatible ? "incompatible"
                                                                : "unreadable";
    out << printf_string("%-*s %s: %s\n", CHANNEL_COLUMN, std::string(channel).c_str(), state, error.message.c_str());
}

namespace {

/// The stored typed schema: id, fingerprint, layout and a table of its fields.
void write_schema_text(std::ostream& out, const shm::ChannelInfo& info) {
    const auto stored = read_stored_schema(info.schema_descriptor);
    if (!stored) return;  // an opaque schema id: the header's hash says all there is
    out << "schema\n";
    if (!stored->schema) {
        out << "  unreadable      " << stored->error << "\n";
        return;
    }
    const schema::Schema& typed = *stored->schema;
    out << "  id              " << typed.id() << "\n"
        << "  fingerprint     " << schema::fingerprint_string(typed) << "\n"
        << "  layout          " << schema::layout_summary(typed) << "\n";
    out << schema::field_table(typed, "  ");
}

}  // namespace

void write_inspect_text(std::ostream& out, const shm::ChannelInfo& info) {
    out << "channel " << info.channel << "\n";
    out << "header\n"
        << "  segment         " << format_bytes(info.segment_bytes) << " (" << info.segment_bytes << " bytes)\n"
        << "  layout version  " << info.layout_version << "\n"
        << "  ring            " << shm::to_string(info.ring) << ", " << info.slot_count << " slots x "
        << info.slot_payload_bytes << " bytes (stride " << info.slot_stride_bytes << ")\n"
        << "  sync            " << shm::to_string(info.sync) << "\n"
        << "  checksum        " << shm::to_string(info.checksum) << "\n"
        << "  flex zone       " << info.flex_zone_bytes << " bytes\n"
        << "  consumer seats  " << info.consumer_capacity << "\n"
        << "  schema hash     " << info.schema_hash_hex << "\n"
        << "  mode            " << octal_mode(info.mode) << ", owner uid " << info.owner_uid << "\n"
        << "  created         " << iso8601_utc(info.creation_realtime_ns) << "\n";
    write_schema_text(out, info);
    out << "producer\n"
        << "  pid             " << (info.producer_pid == 0 ? std::string("none") : std::to_string(info.producer_pid))
        << "\n"
        << "  alive           " << yes_no(info.producer_alive) << "\n"
        << "  start ticks     " << info.producer_start_ticks << "\n"
        << "  epoch           " << info.producer_epoch << "\n"
        << "  heartbeat age   " << format_duration(info.producer_heartbeat_age_ns) << "\n"
        << "  closed          " << yes_no(info.closed) << "\n";
    out << "write_seq         " << info.write_seq << "\n";
    out << "flex zone\n"
        << "  size            " << info.flex_zone_bytes << " bytes\n"
        << "  version         " << info.flex_version << "\n"
        << "  locked          " << yes_no(info.flex_locked) << "\n";
    out << "counters\n";
    for (const auto& [name, value] : info.counters)
        out << printf_string("  %-18s%llu\n", name.c_str(), static_cast<unsigned long long>(value));

    out << "slots\n" << printf_string("  %6s %-10s %12s %10s %s\n", "INDEX", "STATE", "SEQ", "BYTES", "TIMESTAMP_NS");
    for (const auto& slot : info.slots) {
        const std::string seq = slot.empty ? "-" : std::to_string(slot.seq);
        out << printf_string("  %6u %-10s %12s %10u %llu\n", slot.index, slot_state(slot), seq.c_str(),
                             slot.payload_bytes, static_cast<unsigned long long>(slot.timestamp_ns));
    }

    if (!info.gates.empty()) {
        out << "validators (rejected slots, never published)\n"
            << printf_string("  %-24s %-24s %-11s %10s\n", "VALIDATOR", "REASON", "ON_REJECT", "REJECTED");
        for (const auto& gate : info.gates) {
            out << printf_string("  %-24s %-24s %-11s %10llu\n", gate.validator.c_str(), gate.reason.c_str(),
                                 gate.on_reject, static_cast<unsigned long long>(gate.rejected));
        }
    }

    out << "consumers (" << live_consumer_count(info) << " live of " << info.consumers.size() << " attached, "
        << info.consumer_capacity << " seats)\n";
    if (info.consumers.empty()) return;
    out << printf_string("  %4s %8s %-23s %-9s %-5s %-8s %10s %8s %10s %10s %9s %8s %9s %9s %8s\n", "SEAT", "PID",
                         "NAME", "STATE", "ALIVE", "DELIVERY", "CURSOR", "LAG", "HEARTBEAT", "READS", "SKIPPED",
                         "CHECKSUM", "RETRIES", "TORN", "TIMEOUTS");
    for (const auto& consumer : info.consumers) {
        const auto lag = consumer_lag(info, consumer);
        out << printf_string("  %4u %8u %-23s %-9s %-5s %-8s %10llu %8s %10s %10llu %9llu %8llu %9llu %9llu %8llu\n",
                             consumer.seat, consumer.pid, consumer.name.empty() ? "-" : consumer.name.c_str(),
                             consumer.state, yes_no(consumer.alive).c_str(), consumer.latest ? "latest" : "lossless",
                             static_cast<unsigned long long>(consumer.cursor), lag ? std::to_string(*lag).c_str() : "-",
                             format_duration(consumer.heartbeat_age_ns).c_str(),
                             static_cast<unsigned long long>(consumer.reads),
                             static_cast<unsigned long long>(consumer.skipped),
                             static_cast<unsigned long long>(consumer.checksum_failures),
                             static_cast<unsigned long long>(consumer.overwritten_retries),
                             static_cast<unsigned long long>(consumer.overwritten_releases),
                             static_cast<unsigned long long>(consumer.read_timeouts));
    }
}

}  // namespace dhub::tools
