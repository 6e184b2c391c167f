// SPDX-License-Identifier: Apache-2.0
#include "host_link.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace dhub::runtime {
namespace {

std::uint64_t count_of(const nlohmann::json& object, const char* key) {
    const auto found = object.find(key);
    return found != object.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

std::string text_of(const nlohmann::json& object, const char* key) {
    const auto found = object.find(key);
    return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

}  // namespace

Result<std::pair<HostLink, HostLink>> HostLink::pair() {
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
        return Error{ErrorCode::Io,
                     std::string("cannot create the node host's control socket: ") + std::strerror(errno)};
    }
    return std::pair<HostLink, HostLink>(HostLink(fds[0]), HostLink(fds[1]));
}

HostLink& HostLink::operator=(HostLink&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

HostLink::~HostLink() {
    close();
}

void HostLink::close() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool HostLink::send(const nlohmann::json& message, Wait wait) const noexcept {
    if (fd_ < 0) return false;
    try {
        const std::string packet = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (packet.size() > MAX_HOST_PACKET) return false;
        for (;;) {
            const ssize_t sent =
                ::send(fd_, packet.data(), packet.size(), MSG_NOSIGNAL | (wait == Wait::No ? MSG_DONTWAIT : 0));
            if (sent >= 0) return true;
            if (errno != EINTR) return false;
        }
    } catch (...) {
        return false;
    }
}

std::optional<Result<nlohmann::json>> HostLink::receive(std::chrono::milliseconds timeout) {
    pollfd waiting{fd_, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
    if (ready == 0 || (ready < 0 && errno == EINTR)) return std::nullopt;
    if (ready < 0) return Result<nlohmann::json>(Error{ErrorCode::Io, std::strerror(errno)});
    std::string& packet = packet_;
    if (packet.size() != MAX_HOST_PACKET) packet.resize(MAX_HOST_PACKET);  // once: never filled again
    ssize_t got = -1;
    bool reset_seen = false;
    for (;;) {
        got = ::recv(fd_, packet.data(), packet.size(), MSG_TRUNC);
        if (got >= 0 || errno == EINTR) {
            if (got >= 0) break;
            continue;
        }
        // The peer closed with messages of ours unread: Linux reports that once, before what it sent us (which
        // is still there to read: a host's last beat and its end).
        if (errno == ECONNRESET && !reset_seen) {
            reset_seen = true;
            continue;
        }
        break;
    }
    if (got == 0 || (got < 0 && errno == ECONNRESET)) {
        return Result<nlohmann::json>(Error{ErrorCode::NotFound, "the other side closed the link"});
    }
    if (got < 0) return Result<nlohmann::json>(Error{ErrorCode::Io, std::strerror(errno)});
    if (static_cast<std::size_t>(got) > packet.size()) {
        return Result<nlohmann::json>(Error{ErrorCode::Incompatible, "a packet of " + std::to_string(got) +
                                                                         " bytes, over the link's limit of " +
                                                                         std::to_string(MAX_HOST_PACKET)});
    }
    const auto end = packet.begin() + got;
    auto message = nlohmann::json::parse(packet.begin(), end, nullptr, false);
    if (message.is_discarded() || !message.is_object() || !message.contains("t") || !message["t"].is_string()) {
        return Result<nlohmann::json>(
            Error{ErrorCode::Incompatible,
                  "a packet that is not a message (" + std::to_string(got) +
                      " bytes: " + packet.substr(0, std::min<std::size_t>(60, static_cast<std::size_t>(got))) + ")"});
    }
    return Result<nlohmann::json>(std::move(message));
}

nlohmann::json to_json(const PacingReport& pacing) {
    if (pacing.rate_hz <= 0) return nullptr;  // not paced
    const std::uint64_t mean = pacing.ticks == 0 ? 0 : pacing.total_lateness_ns / pacing.ticks;
    return {{"rate_hz", pacing.rate_hz},
            {"ticks", pacing.ticks},
            {"late_ticks", pacing.late_ticks},
            {"skipped_ticks", pacing.skipped_ticks},
            {"max_lateness_ns", pacing.max_lateness_ns},
            {"mean_lateness_ns", mean},
            {"total_lateness_ns", pacing.total_lateness_ns}};
}

nlohmann::json to_json(const NodeReport& report) {
    return {{"id", report.id},
            {"component", report.component},
            {"isolation", report.isolation},
            {"restarts", report.restarts},
            {"handled", report.handled},
            {"slots_in", report.slots_in},
            {"slots_out", report.slots_out},
            {"skipped", report.skipped},
            {"errors", report.errors},
            {"rejected", report.rejected},
            {"checksum_failures", report.checksum_failures},
            {"burst_calls", report.burst_calls},
            {"overwritten", report.overwritten},
            {"latest_skipped", report.latest_skipped},
            {"upstream_lost", report.upstream_lost},
            {"bytes_in", report.bytes_in},
            {"bytes_out", report.bytes_out},
            {"end_reason", to_string(report.end_reason)},
            {"end_detail", report.end_detail},
            {"pacing", to_json(report.pacing)}};
}

NodeReport node_report_from_json(const nlohmann::json& value) {
    NodeReport report;
    if (!value.is_object()) return report;
    report.id = text_of(value, "id");
    report.component = text_of(value, "component");
    report.handled = count_of(value, "handled");
    report.slots_in = count_of(value, "slots_in");
    report.slots_out = count_of(value, "slots_out");
    report.skipped = count_of(value, "skipped");
    report.errors = count_of(value, "errors");
    report.rejected = count_of(value, "rejected");
    report.checksum_failures = count_of(value, "checksum_failures");
    report.burst_calls = count_of(value, "burst_calls");
    report.overwritten = count_of(value, "overwritten");
    report.latest_skipped = count_of(value, "latest_skipped");
    report.upstream_lost = count_of(value, "upstream_lost");
    report.bytes_in = count_of(value, "bytes_in");
    report.bytes_out = count_of(value, "bytes_out");
    report.end_reason = end_reason_from_string(text_of(value, "end_reason"));
    report.end_detail = text_of(value, "end_detail");
    if (const auto pacing = value.find("pacing"); pacing != value.end() && pacing->is_object()) {
        report.pacing.rate_hz = pacing->value("rate_hz", 0.0);
        report.pacing.ticks = count_of(*pacing, "ticks");
        report.pacing.late_ticks = count_of(*pacing, "late_ticks");
        report.pacing.skipped_ticks = count_of(*pacing, "skipped_ticks");
        report.pacing.max_lateness_ns = count_of(*pacing, "max_lateness_ns");
        report.pacing.total_lateness_ns = count_of(*pacing, "total_lateness_ns");
    }
    return report;
}

nlohmann::json to_json(const std::vector<ValidatorReport>& reports) {
    nlohmann::json list = nlohmann::json::array();
    for (const ValidatorReport& report : reports) {
        list.push_back({{"channel", report.channel},
                        {"validator", report.validator},
                        {"on_reject", report.on_reject},
                        {"quarantine", report.quarantine},
                        {"judged", report.judged},
                        {"rejected", report.rejected},
                        {"reasons", report.reasons}});
    }
    return list;
}

std::vector<ValidatorReport> validator_reports_from_json(const nlohmann::json& value) {
    std::vector<ValidatorReport> reports;
    if (!value.is_array()) return reports;
    for (const nlohmann::json& entry : value) {
        if (!entry.is_object()) continue;
        ValidatorReport& report = reports.emplace_back();
        report.channel = text_of(entry, "channel");
        report.validator = text_of(entry, "validator");
        report.on_reject = text_of(entry, "on_reject");
        report.quarantine = text_of(entry, "quarantine");
        report.judged = count_of(entry, "judged");
        report.rejected = count_of(entry, "rejected");
        if (const auto reasons = entry.find("reasons"); reasons != entry.end() && reasons->is_object()) {
            for (const auto& [kind, count] : reasons->items()) {
                if (count.is_number_unsigned()) report.reasons[kind] = count.get<std::uint64_t>();
            }
        }
    }
    return reports;
}

}  // namespace dhub::runtime
