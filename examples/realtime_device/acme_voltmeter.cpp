// SPDX-License-Identifier: Apache-2.0
// An example device plugin in realtime mode: a voltmeter read on demand. The kernel's node thread calls
// produce() with a free output slot already in place in shared memory; the component paces itself with
// sleep_until(), reads the instrument and writes the reading straight into the slot. The "instrument" here
// is simulated; a real one would be the vendor's SDK. (A device that pushes data from its own thread is
// queue mode instead: see examples/device_plugin.)
#include <cmath>
#include <cstdint>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace acme {

/// What one slot of the output channel holds. Trivially copyable: it lives in shared memory.
struct Reading {
    double volts;
    std::int32_t adc_ticks;     // the raw converter value, for consumers that calibrate themselves
    std::uint32_t range_volts;  // the input range the reading was taken in (1 or 10)
};

/// Stand-in for a vendor driver: a 24-bit ADC that reads a 50 Hz sine, sampled when asked.
class SimulatedAdc {
public:
    static constexpr double FULL_SCALE_TICKS = 8388607.0;  // 2^23 - 1

    explicit SimulatedAdc(double range_volts) : range_volts_(range_volts) {}

    std::int32_t read_ticks(std::uint64_t time_ns) const {
        constexpr double TWO_PI = 6.283185307179586;
        const double volts = 0.8 * range_volts_ * std::sin(TWO_PI * 50.0 * static_cast<double>(time_ns) * 1e-9);
        return static_cast<std::int32_t>(std::lround(volts / range_volts_ * FULL_SCALE_TICKS));
    }
    double to_volts(std::int32_t ticks) const { return ticks / FULL_SCALE_TICKS * range_volts_; }

private:
    double range_volts_;
};

class Voltmeter : public dhub::sdk::Source<Reading> {  // the base class makes it a realtime source
public:
    static constexpr const char* id = "acme.source.voltmeter";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "ACME voltmeter (simulated ADC, realtime mode)";
    static constexpr const char* params_schema = R"json([
        {"name": "rate_hz", "type": "number", "default": 1000, "min": 0.1, "max": 100000, "unit": "Hz",
         "doc": "readings per second"},
        {"name": "range", "type": "string", "default": "10V", "enum": ["1V", "10V"],
         "doc": "input range of the converter"}
    ])json";
    // What consumers must expect; the kernel refuses a graph whose consumer expects another schema.
    static constexpr const char* output_schema = "acme.reading@1";

    explicit Voltmeter(dhub::sdk::NodeContext& context)
        : period_ns_(static_cast<std::uint64_t>(1e9 / context.params().number("rate_hz"))),
          range_volts_(context.params().string("range") == "1V" ? 1U : 10U),
          adc_(range_volts_) {}

    // Called on the node's thread before the first produce(): the pacing starts now, not at construction.
    void start(dhub::sdk::NodeContext& context) {
        next_ns_ = context.now_ns();
        context.log().info("reading every " + std::to_string(period_ns_) + " ns");
    }

    dhub_status produce(dhub::sdk::NodeContext& context, dhub::sdk::OutputSlot<Reading>& out) {
        next_ns_ += period_ns_;  // from the deadline, not from now: no drift
        if (context.sleep_until(next_ns_) == DHUB_STOPPING) return DHUB_STOPPING;
        const std::int32_t ticks = adc_.read_ticks(next_ns_);
        out.value() = Reading{adc_.to_volts(ticks), ticks, range_volts_};  // written in place, in shared memory
        out.set_timestamp_ns(next_ns_);  // the sampling time, not the publication time
        return DHUB_OK;
    }

private:
    std::uint64_t period_ns_;
    std::uint32_t range_volts_;
    SimulatedAdc adc_;
    std::uint64_t next_ns_ = 0;
};

}  // namespace acme

DHUB_PLUGIN(
    "acme_voltmeter", "1.0.0", "Apache-2.0", "ACME voltmeters for dhub", dhub::sdk::component<acme::Voltmeter>());
