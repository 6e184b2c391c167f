// SPDX-License-Identifier: Apache-2.0
#include "commands.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

#include "dhub/base/process_identity.hpp"
#include "dhub/counters/page_reader.hpp"
#include "dhub/shm/inspect.hpp"
#include "dhub/shm/layout.hpp"
#include "dhub/shm/segment.hpp"
#include "json_format.hpp"
#include "text_format.hpp"

namespace dhub::tools {
namespace {

/// Channel names reach shm_open, so a malformed one is rejected as a usage error before any OS call.
bool check_name(const Console& console, std::string_view command, std::string_view channel) {
    if (auto valid = shm::validate_channel_name(channel); !valid) {
        console.err << "dhub-shm " << command << ": " << valid.error().message << "\n";
        return false;
    }
    return true;
}

ExitCode report_error(const Console& console, std::string_view command, std::string_view channel, const Error& error) {
    console.err << "dhub-shm " << command << ": ";
    // Most library messages already name the channel; say it once.
    if (error.message.find(channel) == std::string::npos) console.err << "channel '" << channel << "': ";
    console.err << error.message << "\n";
    // An OS call that failed is a runtime failure; anything about the channel itself is the input's fault.
    return error.code == ErrorCode::Io ? ExitCode::RuntimeError : ExitCode::InvalidInput;
}

/// Who is still using the channel, one entry per live process ("producer pid 12", "consumer pid 34 (seat
/// 0)").
std::vector<std::string> live_users(const shm::ChannelInfo& info) {
    std::vector<std::string> users;
    if (info.producer_pid != 0 && info.producer_alive)
        users.push_back("producer pid " + std::to_string(info.producer_pid));
    for (const auto& consumer : info.consumers) {
        if (consumer.alive) {
            users.push_back("consumer pid " + std::to_string(consumer.pid) + " (seat " + std::to_string(consumer.seat) +
                            (consumer.name.empty() ? "" : ", '" + consumer.name + "'") + ")");
        }
    }
    return users;
}

/// For a segment inspect_channel() cannot read (half-created, corrupt): the lease word is the first thing
/// a creator writes, so a live creator can still be recognised from it.
std::vector<std::string> live_users_of_unreadable(std::string_view channel) {
    auto segment = shm::Segment::open(channel);
    if (!segment || segment->size() < sizeof(shm::layout::SegmentHeader)) return {};
    const auto* header = reinterpret_cast<const shm::layout::SegmentHeader*>(segment->data());
    const std::uint64_t lease = header->writer_lease.load(std::memory_order_acquire);
    if (liveness_of(lease) != Liveness::Alive) return {};
    return {"producer pid " + std::to_string(token_pid(lease))};
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string text;
    for (const auto& part : parts) {
        if (!text.empty()) text += separator;
        text += part;
    }
    return text;
}

}  // namespace

ExitCode list_channels(const Console& console) {
    std::vector<std::string> channels = shm::Segment::list();
    std::sort(channels.begin(), channels.end());
    if (channels.empty()) {
        console.out << "no DataBlock segments (/dev/shm/" << shm::SEGMENT_PREFIX << "*)\n";
        return ExitCode::Ok;
    }
    write_list_header(console.out);
    for (const auto& channel : channels) {
        // A broken segment is a row with its error, never the end of the listing.
        auto info = shm::inspect_channel(channel);
        if (info) {
            write_list_row(console.out, info.value());
        } else {
            write_list_error_row(console.out, channel, info.error());
        }
    }
    return ExitCode::Ok;
}

ExitCode inspect(const Console& console, std::string_view channel, bool json) {
    if (!check_name(console, "inspect", channel)) return ExitCode::Usage;
    auto info = shm::inspect_channel(channel);
    if (!info) return report_error(console, "inspect", channel, info.error());
    if (json) {
        console.out << to_json(info.value()).dump(2) << "\n";
    } else {
        write_inspect_text(console.out, info.value());
    }
    return ExitCode::Ok;
}

ExitCode recover(const Console& console, std::string_view channel, bool dry_run) {
    if (!check_name(console, "recover", channel)) return ExitCode::Usage;
    auto report = shm::recover_channel(channel, dry_run);
    if (!report) return report_error(console, "recover", channel, report.error());
    console.out << "recover channel '" << channel << "'" << (dry_run ? " (dry run: nothing changed)" : "") << "\n";
    for (const auto& action : report->actions)
        console.out << (dry_run ? "  would: " : "  done: ") << action << "\n";
    for (const auto& refusal : report->refused)
        console.out << "  refused: " << refusal << "\n";
    if (report->actions.empty()) console.out << "  nothing to recover\n";
    return ExitCode::Ok;
}

ExitCode remove(const Console& console, std::string_view channel, bool force) {
    if (!check_name(console, "remove", channel)) return ExitCode::Usage;
    auto info = shm::inspect_channel(channel);
    std::vector<std::string> users;
    if (info) {
        users = live_users(info.value());
    } else if (info.error().code == ErrorCode::NotFound) {
        return report_error(console, "remove", channel, info.error());
    } else {
        // Unreadable segments are exactly what remove is for; it only needs to know nobody is creating it.
        users = live_users_of_unreadable(channel);
        console.err << "dhub-shm remove: warning: " << info.error().message << "\n";
    }
    if (!users.empty() && !force) {
        console.err << "dhub-shm remove: channel '" << channel << "' is in use by " << join(users, ", ")
                    << "; stop those processes first, or pass --force to remove it anyway\n";
        return ExitCode::InvalidInput;
    }
    if (auto removed = shm::Segment::unlink(channel); !removed) {
        return report_error(console, "remove", channel, removed.error());
    }
    console.out << "removed channel '" << channel << "' (/dev/shm/" << shm::SEGMENT_PREFIX << channel << ")\n";
    if (!users.empty()) {
        console.out << "  still mapped by " << join(users, ", ")
                    << ": they keep their memory but nobody new can attach\n";
    }
    return ExitCode::Ok;
}

ExitCode collect_garbage(const Console& console, bool dry_run, bool force) {
    const shm::GarbageReport report = shm::collect_garbage(dry_run, force);
    for (const auto& channel : report.removed)
        console.out << (dry_run ? "would remove: " : "removed: ") << channel << "\n";
    for (const auto& kept : report.kept)
        console.out << "kept: " << kept << "\n";
    for (const auto& corrupt : report.corrupt) {
        console.out << "corrupt, " << (force ? (dry_run ? "would remove" : "removed") : "kept (remove with --force)")
                    << ": " << corrupt << "\n";
    }
    if (report.removed.empty() && report.kept.empty() && report.corrupt.empty()) {
        console.out << "no DataBlock segments (/dev/shm/" << shm::SEGMENT_PREFIX << "*)\n";
    }
    // A kernel killed outright leaves its counters page too (docs/counters.md): the pages of dead kernels go
    // with their segments; one that cannot be read only with --force (and once it is too old to be a setup).
    for (const std::string& page : counters::list_pages()) {
        auto reader = counters::PageReader::open(page);
        const bool dead = reader ? !reader.value().read().alive : force && counters::left_by_dead_kernel(page);
        if (!dead) continue;
        if (!dry_run) ::shm_unlink(("/" + page).c_str());
        console.out << (dry_run ? "would remove: " : "removed: ") << "counters page /dev/shm/" << page
                    << " of a kernel that no longer runs\n";
    }
    return ExitCode::Ok;
}

}  // namespace dhub::tools
