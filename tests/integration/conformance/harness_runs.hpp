// SPDX-License-Identifier: Apache-2.0
// One lifecycle of a component in the SDK harness (create, start, a fixed number of slots, stop, destroy)
// and everything observable that came out of it, so that two runs can be compared: twice the same way
// (no state leaks from one instance to the next), or per slot against in bursts (the same output).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "component_catalogue.hpp"
#include "dhub/sdk/testing/frame.hpp"

namespace dhub::conformance {

using sdk::testing::Frame;

/// Slots per run: enough for a burst handler to be called several times with full and partial bursts.
constexpr std::size_t SLOTS_PER_RUN = 16;
/// Slots per process_burst() call in a burst run; SLOTS_PER_RUN is not a multiple, so the last burst is short.
constexpr std::size_t BURST = 5;
/// Output slot size (or the component's minimum, if larger).
constexpr std::uint64_t SLOT_BYTES = 64 * 1024;

enum class Delivery { PerSlot, Burst };

struct RunOutcome {
    dhub_status created = DHUB_ERR_INTERNAL;
    dhub_status started = DHUB_ERR_INTERNAL;
    std::vector<dhub_status> calls;       ///< each handler call's status (per slot, per burst, or run())
    dhub_status last_failure = DHUB_OK;   ///< the last call status other than DHUB_OK and DHUB_SKIP
    std::vector<Frame> outputs;           ///< published slots, in order
    std::vector<std::string> verdicts;    ///< validators: "valid" or "invalid: <reason>" per slot
    std::vector<std::string> errors;      ///< errors reported to the host: "<status>: <message>"
    std::vector<std::string> messages;    ///< messages sent to peers
    std::vector<std::string> violations;  ///< host-API contract breaches the harness saw
};

/// The first difference between two runs, in words; empty if they did the same. With calls false, the
/// per-call statuses are not compared (a burst run makes fewer calls than a per-slot run).
std::string first_difference(const RunOutcome& a, const RunOutcome& b, bool calls = true);

/// SLOTS_PER_RUN slots of the source that feeds a component reading input_schema.
std::vector<Frame> input_frames(const std::string& input_schema, const std::filesystem::path& dir);

/// Where the clock stands when the first slot is due.
enum class Pace {
    OnTime,  ///< the harness clock as it is: a paced source makes one slot due at a time
    Behind,  ///< after the first slot, 100 ms later if the source slept for it: a paced source has several
             ///< slots due at once, as when its node fell behind, so a burst handler fills whole bursts
};

/// One lifecycle of the component with its required parameters (placeholders filled in with dir), fed
/// with inputs if it has an input port.
RunOutcome run_lifecycle(const ComponentFixture& fixture,
                         const std::vector<Frame>& inputs,
                         const std::filesystem::path& dir,
                         Delivery delivery = Delivery::PerSlot,
                         Pace pace = Pace::OnTime);

/// A recording of SLOTS_PER_RUN sim frames made by dhub.sink.recorder in dir (made once per dir), for replay.
std::filesystem::path make_waveform_recording(const std::filesystem::path& dir);

}  // namespace dhub::conformance
