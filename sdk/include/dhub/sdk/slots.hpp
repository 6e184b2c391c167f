// SPDX-License-Identifier: Apache-2.0
// Typed views of slots for handlers. They are views of shared memory, valid only during the call that
// received them: never keep one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "dhub/sdk/abi.h"

namespace dhub::sdk {

/// Slot type for payloads whose size comes from the graph (a channel's slot_bytes), not from a struct.
struct Bytes {};
/// Flex-zone type of components that do not use the flex zone.
struct NoFlex {};

/// Thrown (inside the plugin only) when a slot is too small for the struct it should hold.
class SlotTooSmall : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

template <typename T>
constexpr std::uint64_t min_slot_bytes() noexcept {
    if constexpr (std::is_same_v<T, Bytes>) {
        return 0;
    } else {
        static_assert(std::is_trivially_copyable_v<T>,
                      "slot types must be trivially copyable (they live in "
                      "shared memory)");
        return sizeof(T);
    }
}

/// A read-only input slot.
template <typename T>
class InputSlot {
public:
    explicit InputSlot(const dhub_slot& slot) noexcept : slot_(slot) {}

    std::span<const std::byte> bytes() const noexcept {
        return {static_cast<const std::byte*>(slot_.data), static_cast<std::size_t>(slot_.bytes)};
    }
    /// The payload as an array of E (as many whole elements as the committed bytes hold).
    template <typename E>
    std::span<const E> as() const noexcept {
        return {static_cast<const E*>(slot_.data), static_cast<std::size_t>(slot_.bytes / sizeof(E))};
    }
    /// The payload as the slot struct; throws SlotTooSmall if fewer bytes were committed.
    const T& value() const {
        static_assert(!std::is_same_v<T, Bytes>, "use bytes() or as<E>() for Bytes slots");
        if (slot_.bytes < sizeof(T)) throw SlotTooSmall("input slot holds fewer bytes than the slot struct");
        return *static_cast<const T*>(slot_.data);
    }
    /// The channel's slot size (at least bytes().size()).
    std::uint64_t capacity() const noexcept { return slot_.capacity; }
    std::uint64_t sequence() const noexcept { return slot_.sequence; }
    std::uint64_t timestamp_ns() const noexcept { return slot_.timestamp_ns; }

private:
    const dhub_slot& slot_;
};

/// A writable output slot. bytes defaults to the whole slot (or sizeof(T)); set_bytes() publishes less.
template <typename T>
class OutputSlot {
public:
    explicit OutputSlot(dhub_slot& slot) noexcept : slot_(slot) {}

    std::span<std::byte> bytes() const noexcept {
        return {static_cast<std::byte*>(slot_.data), static_cast<std::size_t>(slot_.capacity)};
    }
    template <typename E>
    std::span<E> as() const noexcept {
        return {static_cast<E*>(slot_.data), static_cast<std::size_t>(slot_.capacity / sizeof(E))};
    }
    T& value() const {
        static_assert(!std::is_same_v<T, Bytes>, "use bytes() or as<E>() for Bytes slots");
        if (slot_.capacity < sizeof(T)) throw SlotTooSmall("output slot is smaller than the slot struct");
        return *static_cast<T*>(slot_.data);
    }
    std::uint64_t capacity() const noexcept { return slot_.capacity; }
    std::uint64_t sequence() const noexcept { return slot_.sequence; }
    /// How many bytes to publish (at most capacity()).
    void set_bytes(std::uint64_t bytes) noexcept { slot_.bytes = bytes < slot_.capacity ? bytes : slot_.capacity; }
    /// The slot's timestamp (CLOCK_MONOTONIC ns, or the instrument's own time).
    void set_timestamp_ns(std::uint64_t timestamp_ns) noexcept { slot_.timestamp_ns = timestamp_ns; }

private:
    dhub_slot& slot_;
};

/// Several output slots of one source call (produce_burst): fill a prefix, say how long it is with
/// set_filled(n); slots [0, n) are published in order when the handler returns, the rest given back.
template <typename T>
class OutputBurst {
public:
    explicit OutputBurst(dhub_burst_args& args) noexcept : args_(args) {}

    /// Slots offered (at least 1).
    std::size_t size() const noexcept { return args_.count; }
    OutputSlot<T> operator[](std::size_t i) const noexcept { return OutputSlot<T>(args_.outputs[i]); }
    /// Publishes slots [0, n) (at most size()); nothing is published unless this is called.
    void set_filled(std::size_t n) noexcept { args_.filled = static_cast<std::uint32_t>(n < size() ? n : size()); }
    std::size_t filled() const noexcept { return args_.filled; }

private:
    dhub_burst_args& args_;
};

/// Several consecutive input slots of one sink or stage call (consume_burst, process_burst), oldest first.
template <typename T>
class InputBurst {
public:
    explicit InputBurst(dhub_burst_args& args) noexcept : args_(args) {}

    std::size_t size() const noexcept { return args_.count; }
    InputSlot<T> operator[](std::size_t i) const noexcept { return InputSlot<T>(args_.inputs[i]); }
    /// A stage (SDK 1.2): only slots [0, n) are done and released; the rest are offered again, first, once
    /// more input has arrived (an averaging stage that needs more than it was given). Default: all of them.
    void set_consumed(std::size_t n) noexcept { args_.consumed = static_cast<std::uint32_t>(n < size() ? n : size()); }
    std::size_t consumed() const noexcept { return args_.consumed; }

private:
    dhub_burst_args& args_;
};

/// A validator's answer.
struct Verdict {
    bool valid = true;
    std::string reason;  ///< why it was rejected: which field, which value, which range
    /// SDK 1.2: a short, stable name for the kind of rejection ("out_of_range", "nan"); the kernel counts
    /// rejections per validator and kind. Empty: "rejected".
    std::string kind{};

    static Verdict accept() { return {}; }
    static Verdict reject(std::string why) { return {false, std::move(why)}; }
    static Verdict reject_as(std::string kind, std::string why) { return {false, std::move(why), std::move(kind)}; }
};

}  // namespace dhub::sdk
