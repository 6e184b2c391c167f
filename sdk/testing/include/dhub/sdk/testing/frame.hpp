// SPDX-License-Identifier: Apache-2.0
// Slots as a test sees them: a Frame is a copy of a slot's committed bytes with its sequence and
// timestamp; a SlotBuffer is the memory a handler reads or writes in place, aligned like a shared-memory
// slot and followed by a guard zone that tells when a component writes past its capacity.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <type_traits>
#include <vector>

namespace dhub::sdk::testing {

struct Frame {
    std::vector<std::byte> bytes;
    std::uint64_t sequence = 0;
    std::uint64_t timestamp_ns = 0;

    static Frame from_bytes(std::span<const std::byte> data,
                            std::uint64_t sequence = 0,
                            std::uint64_t timestamp_ns = 0) {
        return {{data.begin(), data.end()}, sequence, timestamp_ns};
    }
    /// A frame holding the object representation of value (a slot struct).
    template <typename T>
    static Frame of(const T& value, std::uint64_t sequence = 0, std::uint64_t timestamp_ns = 0) {
        static_assert(std::is_trivially_copyable_v<T>, "slot types are trivially copyable");
        return from_bytes(std::as_bytes(std::span<const T, 1>(&value, 1)), sequence, timestamp_ns);
    }
    /// The first sizeof(T) bytes as a T (copied: no alignment or aliasing questions).
    template <typename T>
    T as() const {
        static_assert(std::is_trivially_copyable_v<T>, "slot types are trivially copyable");
        T value{};
        std::memcpy(&value, bytes.data(), std::min(sizeof(T), bytes.size()));
        return value;
    }
    /// The bytes as an array of E (whole elements only).
    template <typename E>
    std::vector<E> as_array(std::size_t offset_bytes = 0) const {
        static_assert(std::is_trivially_copyable_v<E>, "elements are trivially copyable");
        if (offset_bytes >= bytes.size()) return {};
        std::vector<E> values((bytes.size() - offset_bytes) / sizeof(E));
        std::memcpy(values.data(), bytes.data() + offset_bytes, values.size() * sizeof(E));
        return values;
    }
};

/// Slot memory: aligned to 64 bytes (as the DataBlock aligns payloads) with a guard zone behind it.
class SlotBuffer {
public:
    static constexpr std::size_t ALIGNMENT = 64;
    static constexpr std::size_t GUARD_BYTES = 64;
    static constexpr std::byte GUARD_PATTERN{0xA5};

    explicit SlotBuffer(std::uint64_t capacity)
        : capacity_(static_cast<std::size_t>(capacity)),
          data_(static_cast<std::byte*>(::operator new (capacity_ + GUARD_BYTES, std::align_val_t{ALIGNMENT}))) {
        std::memset(data_, 0, capacity_);
        std::memset(data_ + capacity_, static_cast<int>(GUARD_PATTERN), GUARD_BYTES);
    }
    ~SlotBuffer() { ::operator delete (data_, std::align_val_t{ALIGNMENT}); }
    SlotBuffer(const SlotBuffer&) = delete;
    SlotBuffer& operator=(const SlotBuffer&) = delete;

    std::byte* data() noexcept { return data_; }
    const std::byte* data() const noexcept { return data_; }
    std::uint64_t capacity() const noexcept { return capacity_; }
    /// False if something wrote past capacity().
    bool guard_intact() const noexcept {
        return std::all_of(data_ + capacity_, data_ + capacity_ + GUARD_BYTES,
                           [](std::byte value) { return value == GUARD_PATTERN; });
    }

private:
    std::size_t capacity_;
    std::byte* data_;
};

}  // namespace dhub::sdk::testing
