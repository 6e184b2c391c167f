// SPDX-License-Identifier: Apache-2.0
// A custom slot struct for the byte-level built-ins (decimate, throttle): a source that writes `count`
// 24-byte readings as fast as it can, stamped `spacing_us` apart in data time (so which slots a throttle
// keeps does not depend on scheduling), and a sink that checks each reading arrived intact and logs how
// many it saw.
#include <cstdint>
#include <string>

#include "dhub/sdk/plugin.hpp"

namespace {

constexpr const char* READING_SCHEMA = "test.reading@1";

/// Not a waveform: no header, 24 bytes, every field derived from the index so the sink can check it.
struct Reading {
    std::uint64_t index;
    double volts;
    std::uint64_t check;
};
static_assert(sizeof(Reading) == 24);

Reading make_reading(std::uint64_t index) {
    return {index, 0.001 * static_cast<double>(index), ~index};
}

class ReadingSource : public dhub::sdk::Source<Reading> {
public:
    static constexpr const char* id = "test.source.readings";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "writes count readings, stamped spacing_us apart, as fast as it can";
    static constexpr const char* output_schema = READING_SCHEMA;
    static constexpr const char* params_schema = R"json([
{"name":"count","type":"integer","default":1000,"min":1,"doc":"readings before the end of the stream"},
{"name":"spacing_us","type":"integer","default":1000,"min":1,"doc":"timestamp step between readings"}
])json";

    explicit ReadingSource(dhub::sdk::NodeContext& context)
        : count_(static_cast<std::uint64_t>(context.params().integer("count"))),
          spacing_ns_(static_cast<std::uint64_t>(context.params().integer("spacing_us")) * 1000) {}

    dhub_status produce(dhub::sdk::NodeContext& context, dhub::sdk::OutputSlot<Reading>& out) {
        if (next_ == count_) return DHUB_END_OF_STREAM;
        if (next_ == 0) start_ns_ = context.now_ns();
        out.value() = make_reading(next_);
        out.set_bytes(sizeof(Reading));
        out.set_timestamp_ns(start_ns_ + next_ * spacing_ns_);
        ++next_;
        return DHUB_OK;
    }

private:
    std::uint64_t count_;
    std::uint64_t spacing_ns_;
    std::uint64_t start_ns_ = 0;
    std::uint64_t next_ = 0;
};

class ReadingCheck : public dhub::sdk::Sink<Reading> {
public:
    static constexpr const char* id = "test.sink.readings";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "checks every reading is intact and in order; logs how many it saw";
    static constexpr const char* input_schema = READING_SCHEMA;

    dhub_status consume(dhub::sdk::NodeContext& context, const dhub::sdk::InputSlot<Reading>& in) {
        const Reading& reading = in.value();
        const Reading expected = make_reading(reading.index);
        if (in.bytes().size() != sizeof(Reading) || reading.volts != expected.volts ||
            reading.check != expected.check || (seen_ > 0 && reading.index <= last_index_)) {
            context.report_error(DHUB_ERR_INVALID_ARGUMENT, "reading at sequence " + std::to_string(in.sequence()) +
                                                                " is damaged or out of order");
        }
        last_index_ = reading.index;
        ++seen_;
        return DHUB_OK;
    }
    void stop(dhub::sdk::NodeContext& context) { context.log().info("saw " + std::to_string(seen_) + " readings"); }

private:
    std::uint64_t last_index_ = 0;
    std::uint64_t seen_ = 0;
};

}  // namespace

DHUB_PLUGIN("test_readings",
            "1.0.0",
            "Apache-2.0",
            "a custom 24-byte slot struct for the byte-level stages",
            dhub::sdk::component<ReadingSource>(),
            dhub::sdk::component<ReadingCheck>());
