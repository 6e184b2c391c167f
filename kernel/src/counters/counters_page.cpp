// SPDX-License-Identifier: Apache-2.0
#include "dhub/counters/counters_page.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

#include "dhub/base/clock.hpp"
#include "dhub/base/process_identity.hpp"
#include "dhub/counters/page_reader.hpp"

namespace dhub::counters {
namespace {

/// Copies text into a fixed field, cut to fit and NUL-terminated (names longer than a field are cut, never
/// refused: the counters never stop a graph).
template <std::size_t N>
void copy_name(char (&field)[N], std::string_view text) {
    const std::size_t length = std::min(text.size(), N - 1);
    std::memcpy(field, text.data(), length);
    field[length] = '\0';
}

std::byte* inputs_base(std::byte* data, std::uint32_t nodes) {
    return data + sizeof(PageHeader) + nodes * sizeof(NodeRecord);
}

/// Zeroed, page-aligned memory: a shared file in /dev/shm, or this process's own.
Result<std::byte*> allocate(const std::string& name, std::size_t bytes) {
    if (name.empty()) {
        void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) {
            return Error{ErrorCode::Io, std::string("cannot allocate the counters: ") + std::strerror(errno)};
        }
        return static_cast<std::byte*>(memory);
    }
    const std::string path = "/" + name;
    const int fd = ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        const int saved = errno;
        return Error{saved == EEXIST ? ErrorCode::AlreadyExists : ErrorCode::Io,
                     "cannot create the counters page /dev/shm/" + name + ": " + std::strerror(saved) +
                         (saved == EEXIST ? " (a kernel with this segment prefix runs, or one died: `dhub-ctl clean` "
                                            "removes the pages of dead kernels)"
                                          : "")};
    }
    // shm_open applies the umask; the page is the owner's only, exactly.
    if (::fchmod(fd, 0600) != 0 || ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
        const int saved = errno;
        ::close(fd);
        ::shm_unlink(path.c_str());
        return Error{ErrorCode::Io, "cannot size the counters page /dev/shm/" + name + ": " + std::strerror(saved)};
    }
    void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    const int saved = errno;
    ::close(fd);
    if (memory == MAP_FAILED) {
        ::shm_unlink(path.c_str());
        return Error{ErrorCode::Io, "cannot map the counters page /dev/shm/" + name + ": " + std::strerror(saved)};
    }
    return static_cast<std::byte*>(memory);
}

}  // namespace

Result<CountersPage> CountersPage::create(const PageShape& shape, PageKind kind) {
    std::size_t input_count = 0;
    for (const PageShape::Node& node : shape.nodes)
        input_count += node.inputs.size();
    const std::size_t node_capacity = shape.nodes.size() + shape.spare_nodes;
    const std::size_t input_capacity = input_count + shape.spare_inputs;
    const std::size_t channel_capacity = shape.channels.size() + shape.spare_channels;
    CountersPage page;
    page.bytes_ = page_bytes(node_capacity, input_capacity, channel_capacity);
    if (kind == PageKind::Shared) page.name_ = std::string(PAGE_PREFIX) + shape.segment_prefix;
    auto memory = allocate(page.name_, page.bytes_);
    if (!memory && memory.error().code == ErrorCode::AlreadyExists && left_by_dead_kernel(page.name_)) {
        // A kernel killed outright left it, and this one got its pid (its segment prefix): it is ours now.
        ::shm_unlink(("/" + page.name_).c_str());
        memory = allocate(page.name_, page.bytes_);
    }
    if (!memory) {
        page.name_.clear();  // nothing of ours to remove
        return memory.error();
    }
    page.data_ = memory.value();

    // The memory is zero: every counter starts at 0. Records are placed with new, so their atomics exist; the
    // spare ones too, so that one added later is only written, never constructed under a reader.
    auto* header = new (page.data_) PageHeader{};
    header->layout_version = LAYOUT_VERSION;
    header->header_bytes = sizeof(PageHeader);
    header->page_bytes = page.bytes_;
    header->node_count = static_cast<std::uint32_t>(node_capacity);
    header->node_record_bytes = sizeof(NodeRecord);
    header->input_count = static_cast<std::uint32_t>(input_capacity);
    header->input_record_bytes = sizeof(InputRecord);
    header->channel_count = static_cast<std::uint32_t>(channel_capacity);
    header->channel_record_bytes = sizeof(ChannelRecord);
    const ProcessIdentity self = ProcessIdentity::self();
    header->kernel_token = self.token();
    header->kernel_pid = self.pid;
    header->timing_sample_every = TIMING_SAMPLE_EVERY;
    header->started_realtime_ns = realtime_ns();
    copy_name(header->graph, shape.graph);
    copy_name(header->segment_prefix, shape.segment_prefix);
    copy_name(header->control_endpoint, shape.control_endpoint);
    header->heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
    for (std::size_t index = 0; index < node_capacity; ++index)
        new (page.data_ + sizeof(PageHeader) + index * sizeof(NodeRecord)) NodeRecord{};
    for (std::size_t index = 0; index < input_capacity; ++index)
        new (inputs_base(page.data_, header->node_count) + index * sizeof(InputRecord)) InputRecord{};
    for (std::size_t index = 0; index < channel_capacity; ++index)
        new (&page.channel(index)) ChannelRecord{};

    std::uint32_t first_input = 0;
    for (std::size_t index = 0; index < shape.nodes.size(); ++index) {
        page.write_node(static_cast<std::uint32_t>(index), shape.nodes[index], first_input);
        first_input += static_cast<std::uint32_t>(shape.nodes[index].inputs.size());
    }
    for (std::size_t index = 0; index < shape.channels.size(); ++index) {
        ChannelRecord& record = page.channel(index);
        copy_name(record.name, shape.channels[index].name);
        copy_name(record.segment, shape.channels[index].segment);
        record.producer = shape.channels[index].producer;
    }
    header->nodes_used.store(static_cast<std::uint32_t>(shape.nodes.size()), std::memory_order_relaxed);
    header->inputs_used.store(first_input, std::memory_order_relaxed);
    header->channels_used.store(static_cast<std::uint32_t>(shape.channels.size()), std::memory_order_relaxed);
    // The magic last, then ready: a reader that finds the magic but not ready knows the page is being set up.
    std::memcpy(header->magic, MAGIC, sizeof MAGIC);
    header->ready.store(1, std::memory_order_release);
    return page;
}

void CountersPage::write_node(std::uint32_t index, const PageShape::Node& node, std::uint32_t first_input) const {
    NodeRecord& record = this->node(index);
    copy_name(record.id, node.id);
    copy_name(record.component, node.component);
    copy_name(record.isolation, node.isolation);
    record.first_input = first_input;
    record.input_count = static_cast<std::uint32_t>(node.inputs.size());
    for (std::size_t k = 0; k < node.inputs.size(); ++k) {
        auto& input = *reinterpret_cast<InputRecord*>(inputs_base(data_, header().node_count) +
                                                      (first_input + k) * sizeof(InputRecord));
        copy_name(input.channel, node.inputs[k].channel);
        input.node = index;
        input.latest.store(node.inputs[k].latest ? 1 : 0, std::memory_order_relaxed);
    }
}

Result<std::uint32_t> CountersPage::add_node(const PageShape::Node& node) {
    PageHeader& page = header();
    // This thread is the only writer of the counts: relaxed loads read its own stores.
    const std::uint32_t index = page.nodes_used.load(std::memory_order_relaxed);
    const std::uint32_t first_input = page.inputs_used.load(std::memory_order_relaxed);
    if (index >= page.node_count || node.inputs.size() > page.input_count - first_input) {
        return Error{ErrorCode::InvalidArgument,
                     "the counters page has no record left for node '" + node.id + "' (it keeps " +
                         std::to_string(page.node_count) + " node and " + std::to_string(page.input_count) +
                         " input records, spares for added nodes included, and never reuses one): restart the "
                         "kernel with the node in its graph"};
    }
    write_node(index, node, first_input);
    page.inputs_used.store(first_input + static_cast<std::uint32_t>(node.inputs.size()), std::memory_order_release);
    page.nodes_used.store(index + 1, std::memory_order_release);
    return index;
}

Result<std::uint32_t> CountersPage::add_channel(const PageShape::Channel& channel) {
    PageHeader& page = header();
    const std::uint32_t index = page.channels_used.load(std::memory_order_relaxed);
    if (index >= page.channel_count) {
        return Error{ErrorCode::InvalidArgument,
                     "the counters page has no record left for channel '" + channel.name + "' (it keeps " +
                         std::to_string(page.channel_count) +
                         ", spares for added channels included, and never reuses one): restart the kernel with the "
                         "channel in its graph"};
    }
    ChannelRecord& record = this->channel(index);
    copy_name(record.name, channel.name);
    copy_name(record.segment, channel.segment);
    record.producer = channel.producer;
    page.channels_used.store(index + 1, std::memory_order_release);
    return index;
}

void CountersPage::retire_node(std::uint32_t index) const noexcept {
    node(index).retired.store(1, std::memory_order_release);
}

void CountersPage::retire_channel(std::uint32_t index) const noexcept {
    channel(index).retired.store(1, std::memory_order_release);
}

CountersPage::CountersPage(CountersPage&& other) noexcept {
    *this = std::move(other);
}

CountersPage& CountersPage::operator=(CountersPage&& other) noexcept {
    if (this != &other) {
        reset();
        data_ = std::exchange(other.data_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
        name_ = std::exchange(other.name_, std::string());
    }
    return *this;
}

CountersPage::~CountersPage() {
    reset();
}

void CountersPage::reset() noexcept {
    if (data_ == nullptr) return;
    set_state(KernelState::Stopped);
    if (!name_.empty()) ::shm_unlink(("/" + name_).c_str());
    ::munmap(data_, bytes_);
    data_ = nullptr;
    name_.clear();
}

NodeRecord& CountersPage::node(std::size_t index) const noexcept {
    return *reinterpret_cast<NodeRecord*>(data_ + sizeof(PageHeader) + index * sizeof(NodeRecord));
}

ChannelRecord& CountersPage::channel(std::size_t index) const noexcept {
    const PageHeader& page = header();
    std::byte* channels = inputs_base(data_, page.node_count) + page.input_count * sizeof(InputRecord);
    return *reinterpret_cast<ChannelRecord*>(channels + index * sizeof(ChannelRecord));
}

InputRecord& CountersPage::input(std::size_t node_index, std::size_t input_index) const noexcept {
    const std::size_t index = node(node_index).first_input + input_index;
    return *reinterpret_cast<InputRecord*>(inputs_base(data_, header().node_count) + index * sizeof(InputRecord));
}

void CountersPage::set_state(NodeRecord& record, NodeState state, std::string_view end_reason) noexcept {
    // A final state is never left, so end_reason is written once, before any reader may look at it.
    if (is_final(static_cast<NodeState>(record.state.load(std::memory_order_relaxed)))) return;
    if (is_final(state)) copy_name(record.end_reason, end_reason);
    record.state.store(static_cast<std::uint32_t>(state), std::memory_order_release);
}

void CountersPage::set_component(NodeRecord& record, std::string_view component) noexcept {
    // A seqlock with one writer: odd while the name changes; the fences keep the name's bytes between the two.
    const std::uint32_t version = record.component_version.load(std::memory_order_relaxed);
    record.component_version.store(version + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    // Byte by byte, relaxed: a reader in this process (the metrics endpoint) may be copying them.
    const std::size_t length = std::min(component.size(), sizeof record.component - 1);
    for (std::size_t index = 0; index < sizeof record.component; ++index) {
        const char c = index < length ? component[index] : '\0';
        std::atomic_ref<char>(record.component[index]).store(c, std::memory_order_relaxed);
    }
    record.component_version.store(version + 2, std::memory_order_release);
}

void CountersPage::set_state(KernelState state) const noexcept {
    header().state.store(static_cast<std::uint32_t>(state), std::memory_order_relaxed);
    beat();
}

void CountersPage::beat() const noexcept {
    header().heartbeat_ns.store(monotonic_ns(), std::memory_order_relaxed);
}

}  // namespace dhub::counters
