// SPDX-License-Identifier: Apache-2.0
// Schema evolution across kernels: sources of lab.thermo@1, of lab.thermo@2 (version 1 with the humidity appended,
// which a version 1 reader accepts) and of lab.thermo@3 (celsius narrowed to float, which it refuses), and a sink built
// for lab.thermo@1 that checks every reading it is handed. Each component declares its ports' typed schemas
// from the structs (dhub/sdk/struct_schema.hpp); configs/schemas/ has the same documents for graphs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dhub/sdk/plugin.hpp"

namespace {

/// lab.thermo@1: 48 bytes.
struct ThermoV1 {
    std::uint64_t timestamp_ns;
    std::uint16_t box_id;
    double celsius[4];
};
static_assert(sizeof(ThermoV1) == 48);

/// lab.thermo@2: version 1 and a humidity appended, 56 bytes.
struct ThermoV2 {
    std::uint64_t timestamp_ns;
    std::uint16_t box_id;
    double celsius[4];
    float humidity;
};
static_assert(sizeof(ThermoV2) == 56);

/// lab.thermo@3: celsius as float, which breaks version 1 readers.
struct ThermoV3 {
    std::uint64_t timestamp_ns;
    std::uint16_t box_id;
    float celsius[4];
};

// The typed schemas, described once next to the structs (the same documents as configs/schemas/).
const dhub::sdk::StructSchema THERMO_V1 = dhub::sdk::struct_schema<ThermoV1>(
    "lab.thermo",
    1,
    "One reading of a four-probe thermocouple box.",
    {DHUB_FIELD(ThermoV1, timestamp_ns), DHUB_FIELD(ThermoV1, box_id), DHUB_FIELD(ThermoV1, celsius, "probes 1 to 4")});
const dhub::sdk::StructSchema THERMO_V2 = dhub::sdk::struct_schema<ThermoV2>(
    "lab.thermo",
    2,
    "lab.thermo@1 with the box's humidity appended.",
    {DHUB_FIELD(ThermoV2, timestamp_ns), DHUB_FIELD(ThermoV2, box_id), DHUB_FIELD(ThermoV2, celsius),
     DHUB_FIELD(ThermoV2, humidity, "relative humidity, 0 to 1")});
const dhub::sdk::StructSchema THERMO_V3 = dhub::sdk::struct_schema<ThermoV3>(
    "lab.thermo",
    3,
    "celsius narrowed to float: not readable as version 1 or 2.",
    {DHUB_FIELD(ThermoV3, timestamp_ns), DHUB_FIELD(ThermoV3, box_id), DHUB_FIELD(ThermoV3, celsius)});

double probe_celsius(std::uint64_t index, int probe) {
    return 20.0 + static_cast<double>(index % 100) * 0.25 + probe;
}

template <typename Reading>
class ThermoSource : public dhub::sdk::Source<Reading> {
public:
    static constexpr std::uint32_t version = 1;
    static constexpr const char* params_schema =
        R"json([{"name":"count","type":"integer","default":1000,"min":1,"doc":"readings before the end of the stream"}])json";

    explicit ThermoSource(dhub::sdk::NodeContext& context)
        : count_(static_cast<std::uint64_t>(context.params().integer("count"))) {}

    dhub_status produce(dhub::sdk::NodeContext& context, dhub::sdk::OutputSlot<Reading>& out) {
        if (next_ == count_) return DHUB_END_OF_STREAM;
        Reading& reading = out.value();
        fill(reading, next_, context.now_ns());
        out.set_bytes(sizeof(Reading));
        ++next_;
        return DHUB_OK;
    }

private:
    static void fill(ThermoV1& reading, std::uint64_t index, std::uint64_t now) {
        reading.timestamp_ns = now;
        reading.box_id = static_cast<std::uint16_t>(index);
        for (int probe = 0; probe < 4; ++probe)
            reading.celsius[probe] = probe_celsius(reading.box_id, probe);
    }
    static void fill(ThermoV2& reading, std::uint64_t index, std::uint64_t now) {
        reading.timestamp_ns = now;
        reading.box_id = static_cast<std::uint16_t>(index);
        for (int probe = 0; probe < 4; ++probe)
            reading.celsius[probe] = probe_celsius(reading.box_id, probe);
        reading.humidity = 0.5F;
    }
    static void fill(ThermoV3& reading, std::uint64_t index, std::uint64_t now) {
        reading.timestamp_ns = now;
        reading.box_id = static_cast<std::uint16_t>(index);
        for (int probe = 0; probe < 4; ++probe)
            reading.celsius[probe] = static_cast<float>(probe_celsius(reading.box_id, probe));
    }

    std::uint64_t count_;
    std::uint64_t next_ = 0;
};

class Thermo1Source : public ThermoSource<ThermoV1> {
public:
    static constexpr const char* id = "test.source.thermo1";
    static constexpr const char* description = "writes count lab.thermo@1 readings as fast as it can";
    static constexpr const char* output_schema = "lab.thermo@1";
    static std::vector<dhub::sdk::StructSchema> schemas() { return {THERMO_V1}; }
    using ThermoSource::ThermoSource;
};

class Thermo2Source : public ThermoSource<ThermoV2> {
public:
    static constexpr const char* id = "test.source.thermo2";
    static constexpr const char* description = "writes count lab.thermo@2 readings as fast as it can";
    static constexpr const char* output_schema = "lab.thermo@2";
    static std::vector<dhub::sdk::StructSchema> schemas() { return {THERMO_V2}; }
    using ThermoSource::ThermoSource;
};

class Thermo3Source : public ThermoSource<ThermoV3> {
public:
    static constexpr const char* id = "test.source.thermo3";
    static constexpr const char* description = "writes count lab.thermo@3 readings (celsius as float)";
    static constexpr const char* output_schema = "lab.thermo@3";
    static std::vector<dhub::sdk::StructSchema> schemas() { return {THERMO_V3}; }
    using ThermoSource::ThermoSource;
};

class Thermo1Check : public dhub::sdk::Sink<ThermoV1> {
public:
    static constexpr const char* id = "test.sink.thermo1";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "reads lab.thermo@1 and checks each reading's probes";
    static constexpr const char* input_schema = "lab.thermo@1";
    static std::vector<dhub::sdk::StructSchema> schemas() { return {THERMO_V1}; }

    dhub_status consume(dhub::sdk::NodeContext& context, const dhub::sdk::InputSlot<ThermoV1>& in) {
        const ThermoV1& reading = in.value();
        for (int probe = 0; probe < 4; ++probe) {
            if (reading.celsius[probe] != probe_celsius(reading.box_id, probe)) {
                context.report_error(DHUB_ERR_INVALID_ARGUMENT, "reading at sequence " + std::to_string(in.sequence()) +
                                                                    " probe " + std::to_string(probe) + " is " +
                                                                    std::to_string(reading.celsius[probe]));
                return DHUB_OK;
            }
        }
        ++seen_;
        return DHUB_OK;
    }
    void stop(dhub::sdk::NodeContext& context) { context.log().info("saw " + std::to_string(seen_) + " readings"); }

private:
    std::uint64_t seen_ = 0;
};

}  // namespace

DHUB_PLUGIN("test_thermo",
            "1.0.0",
            "Apache-2.0",
            "lab.thermo versions 2 and 3 written, version 1 read: schema evolution across kernels",
            dhub::sdk::component<Thermo1Source>(),
            dhub::sdk::component<Thermo2Source>(),
            dhub::sdk::component<Thermo3Source>(),
            dhub::sdk::component<Thermo1Check>());
