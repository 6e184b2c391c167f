// SPDX-License-Identifier: Apache-2.0
#include "dhub/counters/page_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"

namespace dhub::counters {
namespace {

/// A fixed field as text: up to its first NUL, never past its end (a damaged page may have none).
template <std::size_t N>
std::string text_of(const char (&field)[N]) {
    return std::string(field, ::strnlen(field, N));
}

/// The record's component name, copied between two equal even values of its seqlock (a swap rewrites it). A
/// writer that never finishes (a kernel killed mid-write) leaves it odd: after a few tries, the bytes as they are.
std::string component_of(const NodeRecord& record) {
    std::string name;
    for (int attempt = 0; attempt < 64; ++attempt) {
        const std::uint32_t before = record.component_version.load(std::memory_order_acquire);
        name.clear();
        // Byte by byte, relaxed: the writer may be rewriting them (a reader in the kernel's own process, the
        // metrics endpoint, must not race it).
        for (const char& byte : record.component) {
            const char c = std::atomic_ref<char>(const_cast<char&>(byte)).load(std::memory_order_relaxed);
            if (c == '\0') break;
            name.push_back(c);
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if ((before & 1U) == 0 && record.component_version.load(std::memory_order_relaxed) == before) return name;
    }
    return name;
}

Error refused(const std::string& file, const std::string& why) {
    return Error{ErrorCode::Incompatible, "/dev/shm/" + file + " " + why};
}

}  // namespace

Result<PageReader> PageReader::open(std::string_view file) {
    const std::string name(file);
    const std::string path = "/" + name;
    // /dev/shm is everyone's: whatever sits under a page's name is looked at before it is trusted. O_NONBLOCK: a
    // FIFO planted there must not hang the reader (nor a kernel checking for a stale page), O_NOFOLLOW: no links.
    const int fd = ::shm_open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0);
    if (fd < 0) {
        const int saved = errno;
        return Error{saved == ENOENT   ? ErrorCode::NotFound
                     : saved == EACCES ? ErrorCode::PermissionDenied
                                       : ErrorCode::Io,
                     "cannot open the counters page /dev/shm/" + name + ": " + std::strerror(saved) +
                         (saved == EACCES ? " (a page is readable by its kernel's user only)" : "")};
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        return refused(name, "is not a regular file, so not a counters page");
    }
    if (info.st_uid != ::geteuid() && ::geteuid() != 0) {
        ::close(fd);
        return Error{ErrorCode::PermissionDenied, "/dev/shm/" + name + " belongs to uid " +
                                                      std::to_string(info.st_uid) +
                                                      ", not to you: a kernel's page is its own user's (or root's)"};
    }
    if (info.st_size < static_cast<off_t>(sizeof(PageHeader))) {
        ::close(fd);
        return refused(name, "is too small to be a counters page (" + std::to_string(info.st_size) + " bytes)");
    }
    const auto bytes = static_cast<std::size_t>(info.st_size);
    void* memory = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    const int saved = errno;
    ::close(fd);
    if (memory == MAP_FAILED) {
        return Error{ErrorCode::Io, "cannot map the counters page /dev/shm/" + name + ": " + std::strerror(saved)};
    }
    PageReader reader;
    reader.data_ = static_cast<const std::byte*>(memory);
    reader.bytes_ = bytes;
    reader.file_ = name;
    const PageHeader& header = reader.header();
    // The kernel writes the magic last but one (ready is last): none yet is a page being set up, or one whose
    // kernel died setting it up.
    static constexpr char NO_MAGIC[sizeof MAGIC] = {};
    if (std::memcmp(header.magic, NO_MAGIC, sizeof MAGIC) == 0) {
        return Error{ErrorCode::Timeout, "/dev/shm/" + name +
                                             " is not set up (yet): its kernel is starting, or died starting "
                                             "(`dhub-ctl clean --force` removes such a page)"};
    }
    if (std::memcmp(header.magic, MAGIC, sizeof MAGIC) != 0) return refused(name, "is not a dhub counters page");
    // layout_version and header_bytes keep their offsets in every layout: they are read before anything else.
    if (header.layout_version != LAYOUT_VERSION || header.header_bytes != sizeof(PageHeader)) {
        return refused(name, "has counters layout " + std::to_string(header.layout_version) +
                                 "; this reader knows layout " + std::to_string(LAYOUT_VERSION) +
                                 " (use the dhub-ctl of that kernel's version)");
    }
    if (header.ready.load(std::memory_order_acquire) != 1) {
        return Error{ErrorCode::Timeout, "/dev/shm/" + name + " is still being set up by its kernel; try again"};
    }
    if (header.node_record_bytes != sizeof(NodeRecord) || header.input_record_bytes != sizeof(InputRecord) ||
        header.channel_record_bytes != sizeof(ChannelRecord)) {
        return refused(name, "is damaged: its record sizes are not those of layout " + std::to_string(LAYOUT_VERSION));
    }
    if (header.node_count > MAX_NODES || header.input_count > MAX_INPUTS || header.channel_count > MAX_CHANNELS) {
        return refused(name, "is damaged: it claims " + std::to_string(header.node_count) + " nodes, " +
                                 std::to_string(header.input_count) + " inputs and " +
                                 std::to_string(header.channel_count) + " channels");
    }
    const std::size_t expected = page_bytes(header.node_count, header.input_count, header.channel_count);
    if (header.page_bytes != expected || expected != bytes) {
        return refused(name, "is damaged: its header describes " + std::to_string(expected) + " bytes, the file has " +
                                 std::to_string(bytes));
    }
    return reader;
}

PageReader::PageReader(PageReader&& other) noexcept {
    *this = std::move(other);
}

PageReader& PageReader::operator=(PageReader&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), bytes_);
        data_ = std::exchange(other.data_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
        file_ = std::move(other.file_);
    }
    return *this;
}

PageReader::~PageReader() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), bytes_);
}

KernelCounters PageReader::read() const {
    return read_page(data_, file_);
}

KernelCounters read_page(const std::byte* data, std::string file) {
    const auto& header = *reinterpret_cast<const PageHeader*>(data);
    KernelCounters out;
    out.file = std::move(file);
    out.graph = text_of(header.graph);
    out.segment_prefix = text_of(header.segment_prefix);
    out.control_endpoint = text_of(header.control_endpoint);
    out.pid = header.kernel_pid;
    out.alive = liveness_of(header.kernel_token) == Liveness::Alive;
    out.state = static_cast<KernelState>(header.state.load(std::memory_order_relaxed));
    out.started_realtime_ns = header.started_realtime_ns;
    const std::uint64_t beat = header.heartbeat_ns.load(std::memory_order_relaxed);
    const std::uint64_t now = monotonic_ns();
    out.heartbeat_age_ns = now > beat ? now - beat : 0;
    out.timing_sample_every = header.timing_sample_every;

    const std::byte* records = data + sizeof(PageHeader);
    const auto* nodes = reinterpret_cast<const NodeRecord*>(records);
    const auto* inputs = reinterpret_cast<const InputRecord*>(records + header.node_count * sizeof(NodeRecord));
    const auto* channels = reinterpret_cast<const ChannelRecord*>(reinterpret_cast<const std::byte*>(inputs) +
                                                                  header.input_count * sizeof(InputRecord));
    // The records in use (acquire: an added node's record was written before its count was raised). A damaged
    // page's counts are held to its capacity.
    const std::uint32_t nodes_used = std::min(header.nodes_used.load(std::memory_order_acquire), header.node_count);
    const std::uint32_t inputs_used = std::min(header.inputs_used.load(std::memory_order_acquire), header.input_count);
    const std::uint32_t channels_used =
        std::min(header.channels_used.load(std::memory_order_acquire), header.channel_count);
    // A retired record belongs to a node or channel that left the running graph: left out, so that an id that
    // came back is listed once.
    const auto retired = [&](std::uint32_t node) {
        return node < nodes_used && nodes[node].retired.load(std::memory_order_acquire) != 0;
    };
    const auto id_of = [&](std::uint32_t node) { return node < nodes_used ? text_of(nodes[node].id) : std::string(); };
    for (std::uint32_t index = 0; index < nodes_used; ++index) {
        const NodeRecord& record = nodes[index];
        if (retired(index)) continue;
        NodeCounts& node = out.nodes.emplace_back();
        node.id = text_of(record.id);
        node.component = component_of(record);
        node.isolation = text_of(record.isolation);
        const std::uint32_t state = record.state.load(std::memory_order_acquire);
        node.state =
            state <= static_cast<std::uint32_t>(NodeState::Failed) ? static_cast<NodeState>(state) : NodeState::Created;
        if (is_final(node.state)) node.end_reason = text_of(record.end_reason);
        node.progress = counters::read(record.progress);
        node.handled = counters::read(record.handled);
        node.slots_in = counters::read(record.slots_in);
        node.slots_out = counters::read(record.slots_out);
        node.bytes_in = counters::read(record.bytes_in);
        node.bytes_out = counters::read(record.bytes_out);
        node.burst_calls = counters::read(record.burst_calls);
        node.skipped = counters::read(record.skipped);
        node.errors = counters::read(record.errors);
        node.rejected = counters::read(record.rejected);
        node.checksum_failures = counters::read(record.checksum_failures);
        node.overwritten = counters::read(record.overwritten);
        node.latest_skipped = counters::read(record.latest_skipped);
        node.upstream_lost = counters::read(record.upstream_lost);
        node.restarts = counters::read(record.restarts);
        node.process_pid = record.process_pid.load(std::memory_order_relaxed);
        node.swaps = counters::read(record.swaps);
        node.last_swap_pause_ns = counters::read(record.last_swap_pause_ns);
        node.max_swap_pause_ns = counters::read(record.max_swap_pause_ns);
        node.sampled_steps = counters::read(record.sampled_steps);
        node.sampled_step_ns = counters::read(record.sampled_step_ns);
        node.sampled_handler_ns = counters::read(record.sampled_handler_ns);
        for (std::size_t bucket = 0; bucket < HISTOGRAM_BUCKETS; ++bucket)
            node.handler_histogram[bucket] = counters::read(record.handler_histogram[bucket]);
        node.pacing_rate_hz = static_cast<double>(counters::read(record.pacing.rate_millihertz)) / 1000.0;
        node.pacing_ticks = counters::read(record.pacing.ticks);
        node.pacing_late_ticks = counters::read(record.pacing.late_ticks);
        node.pacing_skipped_ticks = counters::read(record.pacing.skipped_ticks);
        node.pacing_max_lateness_ns = counters::read(record.pacing.max_lateness_ns);
        node.pacing_total_lateness_ns = counters::read(record.pacing.total_lateness_ns);
    }
    for (std::uint32_t index = 0; index < inputs_used; ++index) {
        const InputRecord& record = inputs[index];
        if (record.node >= nodes_used || retired(record.node)) continue;  // a node being added, or one removed
        InputCounts& input = out.inputs.emplace_back();
        input.node = id_of(record.node);
        input.channel = text_of(record.channel);
        input.latest = record.latest.load(std::memory_order_relaxed) != 0;
        input.next_sequence = counters::read(record.next_sequence);
        input.gaps = counters::read(record.gaps);
        input.gap_events = counters::read(record.gap_events);
        input.first_gap_ns = counters::read(record.first_gap_ns);
        input.last_gap_ns = counters::read(record.last_gap_ns);
        input.last_gap_sequence = counters::read(record.last_gap_sequence);
    }
    for (std::uint32_t index = 0; index < channels_used; ++index) {
        const ChannelRecord& record = channels[index];
        if (record.retired.load(std::memory_order_acquire) != 0) continue;
        ChannelEntry& channel = out.channels.emplace_back();
        channel.name = text_of(record.name);
        channel.segment = text_of(record.segment);
        if (!retired(record.producer)) channel.producer = id_of(record.producer);
    }
    return out;
}

std::vector<std::string> list_pages() {
    std::vector<std::string> pages;
    DIR* directory = ::opendir("/dev/shm");
    if (directory == nullptr) return pages;
    while (const dirent* entry = ::readdir(directory)) {
        const std::string_view file = entry->d_name;
        if (file.size() > PAGE_PREFIX.size() && file.starts_with(PAGE_PREFIX)) pages.emplace_back(file);
    }
    ::closedir(directory);
    std::sort(pages.begin(), pages.end());
    return pages;
}

bool left_by_dead_kernel(const std::string& file) {
    auto reader = PageReader::open(file);
    if (reader) return !reader.value().read().alive;
    if (reader.error().code == ErrorCode::NotFound || reader.error().code == ErrorCode::PermissionDenied) return false;
    struct stat info {};
    if (::stat(("/dev/shm/" + file).c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return false;
    const std::uint64_t changed = static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000ULL +
                                  static_cast<std::uint64_t>(info.st_mtim.tv_nsec);
    const std::uint64_t now = realtime_ns();
    return now > changed && now - changed > UNREADABLE_PAGE_GRACE_NS;
}

std::uint64_t handler_p99_ns(const NodeCounts& node) noexcept {
    std::uint64_t total = 0;
    for (const std::uint64_t count : node.handler_histogram)
        total += count;
    if (total == 0) return 0;
    // The smallest bucket at or below which 99 % of the calls fall; its upper bound 2^k ns is the answer.
    const std::uint64_t wanted = total - total / 100;
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < HISTOGRAM_BUCKETS; ++bucket) {
        seen += node.handler_histogram[bucket];
        if (seen >= wanted) return bucket == 0 ? 1 : (1ULL << bucket);
    }
    return 1ULL << (HISTOGRAM_BUCKETS - 1);
}

const char* to_string(KernelState state) noexcept {
    switch (state) {
        case KernelState::SettingUp:
            return "setting_up";
        case KernelState::Running:
            return "running";
        case KernelState::Stopping:
            return "stopping";
        case KernelState::Stopped:
            return "stopped";
    }
    return "unknown";
}

const char* to_string(NodeState state) noexcept {
    switch (state) {
        case NodeState::Created:
            return "created";
        case NodeState::Starting:
            return "starting";
        case NodeState::Running:
            return "running";
        case NodeState::Paused:
            return "paused";
        case NodeState::Draining:
            return "draining";
        case NodeState::Stopped:
            return "stopped";
        case NodeState::Failed:
            return "failed";
    }
    return "unknown";
}

nlohmann::json to_json(const NodeCounts& node) {
    nlohmann::json histogram = nlohmann::json::array();
    for (const std::uint64_t count : node.handler_histogram)
        histogram.push_back(count);
    nlohmann::json value = {{"id", node.id},
                            {"component", node.component},
                            {"isolation", node.isolation},
                            {"state", to_string(node.state)},
                            {"end_reason", node.end_reason},
                            {"progress", node.progress},
                            {"handled", node.handled},
                            {"slots_in", node.slots_in},
                            {"slots_out", node.slots_out},
                            {"bytes_in", node.bytes_in},
                            {"bytes_out", node.bytes_out},
                            {"burst_calls", node.burst_calls},
                            {"skipped", node.skipped},
                            {"errors", node.errors},
                            {"rejected", node.rejected},
                            {"checksum_failures", node.checksum_failures},
                            {"overwritten", node.overwritten},
                            {"latest_skipped", node.latest_skipped},
                            {"upstream_lost", node.upstream_lost},
                            {"restarts", node.restarts},
                            {"process_pid", node.process_pid},
                            {"sampled_steps", node.sampled_steps},
                            {"sampled_step_ns", node.sampled_step_ns},
                            {"sampled_handler_ns", node.sampled_handler_ns},
                            {"handler_histogram", histogram},
                            {"handler_p99_ns", handler_p99_ns(node)},
                            {"swaps", node.swaps},
                            {"last_swap_pause_ns", node.last_swap_pause_ns},
                            {"max_swap_pause_ns", node.max_swap_pause_ns}};
    if (node.pacing_rate_hz > 0) {
        value["pacing"] = {{"rate_hz", node.pacing_rate_hz},
                           {"ticks", node.pacing_ticks},
                           {"late_ticks", node.pacing_late_ticks},
                           {"skipped_ticks", node.pacing_skipped_ticks},
                           {"max_lateness_ns", node.pacing_max_lateness_ns},
                           {"total_lateness_ns", node.pacing_total_lateness_ns}};
    } else {
        value["pacing"] = nullptr;
    }
    return value;
}

nlohmann::json to_json(const InputCounts& input) {
    return {{"node", input.node},
            {"channel", input.channel},
            {"latest", input.latest},
            {"next_sequence", input.next_sequence},
            {"gaps", input.gaps},
            {"gap_events", input.gap_events},
            {"first_gap_ns", input.first_gap_ns},
            {"last_gap_ns", input.last_gap_ns},
            {"last_gap_sequence", input.last_gap_sequence}};
}

nlohmann::json to_json(const KernelCounters& counters) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const NodeCounts& node : counters.nodes)
        nodes.push_back(to_json(node));
    nlohmann::json inputs = nlohmann::json::array();
    for (const InputCounts& input : counters.inputs)
        inputs.push_back(to_json(input));
    nlohmann::json channels = nlohmann::json::array();
    for (const ChannelEntry& channel : counters.channels)
        channels.push_back({{"name", channel.name}, {"segment", channel.segment}, {"producer", channel.producer}});
    return {{"file", counters.file},
            {"graph", counters.graph},
            {"segment_prefix", counters.segment_prefix},
            {"control_endpoint", counters.control_endpoint},
            {"pid", counters.pid},
            {"alive", counters.alive},
            {"state", to_string(counters.state)},
            {"started_realtime_ns", counters.started_realtime_ns},
            {"heartbeat_age_ns", counters.heartbeat_age_ns},
            {"timing_sample_every", counters.timing_sample_every},
            {"nodes", nodes},
            {"inputs", inputs},
            {"channels", channels}};
}

}  // namespace dhub::counters
