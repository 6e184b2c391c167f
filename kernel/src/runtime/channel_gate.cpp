// SPDX-License-Identifier: Apache-2.0
#include "channel_gate.hpp"

#include <algorithm>
#include <cstring>

#include "node.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

using namespace detail;

namespace {

/// The kind a rejection is counted under when the validator names none (SDK 1.0/1.1, or left empty).
constexpr const char* UNNAMED_KIND = "rejected";
/// A validator that fails (an error status, an exception) vouches for nothing: its slot is rejected as this.
constexpr const char* FAILED_KIND = "validator_error";
/// Once a validator's rows are full, further kinds are counted together.
constexpr const char* OTHER_KIND = "other";

void copy_name(char (&target)[48], const std::string& text) {
    const std::size_t length = std::min(text.size(), sizeof target - 1);
    std::memcpy(target, text.data(), length);
    target[length] = '\0';
}

}  // namespace

ChannelGate::ChannelGate(GraphRunner& runner,
                         std::string channel,
                         shm::Producer& producer,
                         std::shared_ptr<spdlog::logger> logger)
    : runner_(runner), channel_(std::move(channel)), producer_(producer), logger_(std::move(logger)) {
    reset_verdict();
    // A producer that took over a dead one's segment finds its rows: this run's validators count afresh.
    for (shm::layout::GateEntry& entry : producer_.view().gate_table()) {
        entry.state.store(shm::layout::GATE_ENTRY_UNUSED, std::memory_order_release);
        entry.rejected.store(0, std::memory_order_relaxed);
    }
}

void ChannelGate::reset_verdict() noexcept {
    verdict_ = {};
    verdict_.struct_size = sizeof verdict_;
    verdict_.valid = 1;
    verdict_.message = message_;
    verdict_.message_capacity = sizeof message_;
    verdict_.kind = kind_;
    verdict_.kind_capacity = sizeof kind_;
    message_[0] = '\0';
    kind_[0] = '\0';
    verdict_status_ = DHUB_OK;
}

ChannelGate::~ChannelGate() = default;

void ChannelGate::add(Validator validator) {
    validators_.push_back(std::move(validator));
}

VoidResult ChannelGate::start() {
    for (; started_ < validators_.size(); ++started_) {
        const Validator& validator = validators_[started_];
        if (validator.descriptor->start == nullptr) continue;
        if (const dhub_status status = validator.descriptor->start(validator.host->instance()); status != DHUB_OK) {
            return Error{ErrorCode::Io, "validator '" + validator.name + "' of channel '" + channel_ +
                                            "' failed to start: " + dhub_status_name(status)};
        }
    }
    return Ok{};
}

void ChannelGate::stop() noexcept {
    while (started_ > 0) {
        const Validator& validator = validators_[--started_];
        if (validator.descriptor->stop != nullptr) validator.descriptor->stop(validator.host->instance());
    }
}

// Called per slot or per burst on the producer's thread, between acquiring and publishing: it stores as little
// as it can (the verdict's buffers are cleared after a rejection, not before every call).
std::size_t ChannelGate::judge(std::size_t index, std::span<dhub_slot> slots) {
    const Validator& validator = validators_[index];
    const dhub_component_descriptor& descriptor = *validator.descriptor;
    void* instance = validator.host->instance();
    std::size_t accepted = 0;
    if (descriptor.validate_burst != nullptr) {
        std::uint32_t count = 0;
        verdict_status_ = descriptor.validate_burst(instance, slots.data(), static_cast<std::uint32_t>(slots.size()),
                                                    &count, &verdict_);
        accepted = std::min<std::size_t>(count, slots.size());
    } else {
        // An SDK 1.0/1.1 validator: one call per slot.
        for (; accepted < slots.size(); ++accepted) {
            verdict_status_ = descriptor.validate(instance, &slots[accepted], &verdict_);
            if (verdict_status_ != DHUB_OK || verdict_.valid == 0) break;
        }
    }
    return accepted;
}

// Every validator judges every slot the ones before it accepted, exactly once and in order, so a validator with
// state (the previous timestamp) sees the stream the per-slot path would show it. While nothing is rejected the
// validators judge the burst's own slot descriptors; the first rejection switches to a copy of them (candidates_)
// that shrinks as validators reject, and at the end the survivors' payloads move down to the burst's front.
std::size_t ChannelGate::filter(std::span<dhub_slot> slots) {
    dhub_slot* current = slots.data();
    std::size_t count = slots.size();
    bool narrowed = false;
    offered_.store(offered_.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
    for (std::size_t index = 0; index < validators_.size() && count > 0; ++index) {
        std::size_t kept = 0;
        std::size_t next = 0;
        while (next < count) {
            const std::size_t accepted = judge(index, std::span<dhub_slot>(current + next, count - next));
            if (!narrowed && accepted == count) {  // the fast path: this validator passes them all
                kept = count;
                break;
            }
            if (!narrowed) {
                candidates_.assign(slots.begin(), slots.end());
                origins_.resize(slots.size());
                for (std::size_t i = 0; i < slots.size(); ++i)
                    origins_[i] = i;
                current = candidates_.data();
                narrowed = true;
            }
            // The accepted run moves down over what this validator rejected before it (descriptors only).
            for (std::size_t i = next; i < next + accepted; ++i, ++kept) {
                current[kept] = current[i];
                origins_[kept] = origins_[i];
            }
            next += accepted;
            if (next < count) reject(index, current[next++]);
        }
        count = kept;
    }
    if (!narrowed) return slots.size();
    // origins_ ascends, so a survivor's payload only ever moves down, onto a slot already dealt with.
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t from = origins_[i];
        if (from == i) continue;
        dhub_slot& to = slots[i];
        const std::uint64_t bytes = std::min(slots[from].bytes, to.capacity);
        std::memcpy(to.data, slots[from].data, static_cast<std::size_t>(bytes));
        to.bytes = bytes;
        to.timestamp_ns = slots[from].timestamp_ns;
    }
    return count;
}

void ChannelGate::reject(std::size_t index, const dhub_slot& slot) {
    const Validator& validator = validators_[index];
    const std::uint64_t rejected = rejected_[index].load(std::memory_order_relaxed) + 1;
    rejected_[index].store(rejected, std::memory_order_relaxed);
    // What the validator wrote, then clean buffers for the next one (a 1.1 validator never writes a kind).
    message_[sizeof message_ - 1] = '\0';
    kind_[sizeof kind_ - 1] = '\0';
    Judgement why;
    if (verdict_status_ != DHUB_OK) {
        why.kind = FAILED_KIND;
        why.message = std::string("the validator failed (") + dhub_status_name(verdict_status_) + ")" +
                      (message_[0] != '\0' ? std::string(": ") + message_ : std::string());
    } else {
        why.kind = kind_[0] != '\0' ? kind_ : UNNAMED_KIND;
        why.message = message_;
    }
    reset_verdict();
    count(index, why.kind);
    if (validator.on_reject == shm::layout::GateAction::Quarantine) quarantine(validator, slot);
    if (rejected <= VALIDATION_LOG_FIRST || rejected % VALIDATION_LOG_EVERY == 0) {
        logger_->warn("[channel:{}] validator '{}' rejected a slot ({}, {} so far; {}): {}", channel_, validator.name,
                      why.kind, rejected,
                      validator.on_reject == shm::layout::GateAction::Quarantine
                          ? "copied to '" + validator.quarantine_name + "'"
                          : std::string(shm::layout::to_string(validator.on_reject)),
                      why.message);
    }
    if (validator.on_reject == shm::layout::GateAction::StopGraph) {
        runner_.fail("validator '" + validator.name + "' of channel '" + channel_ + "' rejected a slot (" + why.kind +
                         ": " + why.message + "), and its on_reject is stop_graph",
                     "validator");
    }
}

void ChannelGate::count(std::size_t index, const std::string& kind) {
    const std::span<shm::layout::GateEntry> table = producer_.view().gate_table();
    const std::size_t first = index * graph::ChannelValidatorSpec::GATE_ROWS;
    if (first + graph::ChannelValidatorSpec::GATE_ROWS > table.size()) return;
    const std::span<shm::layout::GateEntry> rows = table.subspan(first, graph::ChannelValidatorSpec::GATE_ROWS);
    for (std::size_t row = 0; row < rows.size(); ++row) {
        shm::layout::GateEntry& entry = rows[row];
        const bool last = row + 1 == rows.size();
        if (entry.state.load(std::memory_order_relaxed) == shm::layout::GATE_ENTRY_NAMED) {
            if (kind.compare(0, sizeof entry.reason - 1, entry.reason) != 0 &&
                !(last && std::strcmp(entry.reason, OTHER_KIND) == 0))
                continue;
        } else {
            // The owner's thread is the only writer: name the row, then publish it.
            const Validator& validator = validators_[index];
            copy_name(entry.validator, validator.name);
            copy_name(entry.reason, last ? std::string(OTHER_KIND) : kind);
            entry.on_reject = static_cast<std::uint8_t>(validator.on_reject);
            entry.state.store(shm::layout::GATE_ENTRY_NAMED, std::memory_order_release);
        }
        entry.rejected.store(entry.rejected.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return;
    }
}

void ChannelGate::quarantine(const Validator& validator, const dhub_slot& slot) {
    for (;;) {
        shm::WriteSlot copy = validator.quarantine->acquire_write(slice_wait(runner_));
        if (copy) {
            const std::size_t bytes =
                static_cast<std::size_t>(std::min<std::uint64_t>(slot.bytes, copy.payload().size()));
            std::memcpy(copy.payload().data(), slot.data, bytes);
            (void)copy.commit(bytes, slot.timestamp_ns);
            return;
        }
        if (owner_ != nullptr) owner_->mark_alive();  // waiting for the quarantine's readers is not hanging
        if (copy.status() != shm::Status::Timeout || (owner_ != nullptr && owner_->stop_requested())) {
            logger_->error(
                "[channel:{}] validator '{}': a rejected slot could not be copied to quarantine channel "
                "'{}' ({}); it is dropped",
                channel_, validator.name, validator.quarantine_name, shm::to_string(copy.status()));
            return;
        }
    }
}

void ChannelGate::close() noexcept {
    for (const Validator& validator : validators_) {
        if (validator.quarantine != nullptr) validator.quarantine->close();
    }
}

std::vector<ValidatorReport> ChannelGate::reports() const {
    std::vector<ValidatorReport> reports;
    const std::span<shm::layout::GateEntry> table = producer_.view().gate_table();
    std::uint64_t rejected_before = 0;
    for (std::size_t index = 0; index < validators_.size(); ++index) {
        const Validator& validator = validators_[index];
        ValidatorReport report;
        report.channel = channel_;
        report.validator = validator.name;
        report.on_reject = shm::layout::to_string(validator.on_reject);
        report.quarantine = validator.quarantine_name;
        // It judged what the validators before it accepted (each slot is rejected by one validator at most).
        report.judged = offered_.load(std::memory_order_relaxed) - rejected_before;
        report.rejected = rejected_[index].load(std::memory_order_relaxed);
        rejected_before += report.rejected;
        for (std::size_t row = index * graph::ChannelValidatorSpec::GATE_ROWS;
             row < std::min(table.size(), (index + 1) * graph::ChannelValidatorSpec::GATE_ROWS); ++row) {
            const shm::layout::GateEntry& entry = table[row];
            if (entry.state.load(std::memory_order_acquire) != shm::layout::GATE_ENTRY_NAMED) continue;
            report.reasons[std::string(entry.reason, strnlen(entry.reason, sizeof entry.reason))] =
                entry.rejected.load(std::memory_order_relaxed);
        }
        reports.push_back(std::move(report));
    }
    return reports;
}

}  // namespace dhub::runtime
