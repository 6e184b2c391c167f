// SPDX-License-Identifier: Apache-2.0
// The SDK's struct descriptions (dhub/sdk/struct_schema.hpp) produce schema documents the kernel reads as the
// same schema a person would write by hand: types, shapes, offsets, size and alignment come from the compiler.
#include "dhub/sdk/struct_schema.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "dhub/schema/schema_json.hpp"

namespace dhub::schema {
namespace {

struct Thermo {
    std::uint64_t timestamp_ns;
    std::uint16_t box_id;
    double celsius[4];
};

struct Mixed {
    bool ok;
    std::int8_t small;
    std::uint8_t raw[3];
    std::int32_t counts[2][3];
    std::array<float, 5> samples;
    std::int64_t tail;
};

Schema parsed(const std::string& text) {
    std::vector<Problem> problems;
    auto schema = parse_schema(nlohmann::json::parse(text), "", problems);
    EXPECT_TRUE(schema.has_value()) << (problems.empty()
                                            ? ""
                                            : problems.front().json_path + ": " + problems.front().message);
    return schema.value_or(Schema{});
}

Schema shipped(const char* file) {
    std::ifstream in(std::string(DHUB_CONFIG_DIR) + "/schemas/" + file);
    std::stringstream text;
    text << in.rdbuf();
    return parsed(text.str());
}

TEST(StructSchema_test, ADescribedStructIsTheSameSchemaAsTheHandWrittenDocument) {
    const sdk::StructSchema described =
        sdk::struct_schema<Thermo>("lab.thermo", 1, "One reading of a four-probe thermocouple box.",
                                   {DHUB_FIELD(Thermo, timestamp_ns, "CLOCK_MONOTONIC of the reading"),
                                    DHUB_FIELD(Thermo, box_id), DHUB_FIELD(Thermo, celsius, "probes 1 to 4")});
    EXPECT_EQ(described.id(), "lab.thermo@1");
    EXPECT_EQ(fingerprint_string(parsed(described.json())), fingerprint_string(shipped("lab.thermo@1.json")));
}

TEST(StructSchema_test, TypesShapesAndOffsetsComeFromTheCompiler) {
    const Schema schema = parsed(
        sdk::struct_schema<Mixed>("test.mixed", 3, "",
                                  {DHUB_FIELD(Mixed, ok), DHUB_FIELD(Mixed, small), DHUB_FIELD(Mixed, raw),
                                   DHUB_FIELD(Mixed, counts), DHUB_FIELD(Mixed, samples), DHUB_FIELD(Mixed, tail)})
            .json());
    ASSERT_EQ(schema.fields.size(), 6u);
    EXPECT_EQ(schema.fields[0].dtype.str(), "|b1");
    EXPECT_EQ(schema.fields[1].dtype.str(), "|i1");
    EXPECT_EQ(schema.fields[2].dtype.str(), "|u1");
    EXPECT_EQ(schema.fields[2].shape, (std::vector<std::uint64_t>{3}));
    EXPECT_EQ(schema.fields[3].dtype.str(), "<i4");
    EXPECT_EQ(schema.fields[3].shape, (std::vector<std::uint64_t>{2, 3}));
    EXPECT_EQ(schema.fields[3].offset, offsetof(Mixed, counts));
    EXPECT_EQ(schema.fields[4].dtype.str(), "<f4");
    EXPECT_EQ(schema.fields[4].shape, (std::vector<std::uint64_t>{5}));
    EXPECT_EQ(schema.fields[5].offset, offsetof(Mixed, tail));
    EXPECT_EQ(schema.size, sizeof(Mixed));
    EXPECT_EQ(schema.align, alignof(Mixed));
    EXPECT_EQ(schema.version, 3u);
}

TEST(StructSchema_test, DocStringsAreEscaped) {
    const sdk::StructSchema described =
        sdk::struct_schema<Thermo>("lab.thermo", 1, "a \"quoted\"\\ doc\nwith a line\t and a \x01 control",
                                   {DHUB_FIELD(Thermo, timestamp_ns), DHUB_FIELD(Thermo, box_id)});
    const nlohmann::json document = nlohmann::json::parse(described.json());
    EXPECT_EQ(document["doc"], "a \"quoted\"\\ doc\nwith a line\t and a \x01 control");
}

}  // namespace
}  // namespace dhub::schema
