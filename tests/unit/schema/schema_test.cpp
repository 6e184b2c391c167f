// SPDX-License-Identifier: Apache-2.0
// Typed schemas: reading schema documents (every problem with its path), the canonical form and fingerprint
// (checked against an independent Python implementation of docs/schemas.md), and the evolution rule.
#include <gtest/gtest.h>

#include <fstream>

#include "dhub/schema/compatibility.hpp"
#include "dhub/schema/schema_json.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace dhub::schema;
using nlohmann::json;

namespace {

json thermo_v1() {
    return json::parse(R"({
        "name": "lab.thermo", "version": 1, "doc": "one reading of a thermocouple box",
        "fields": [
            {"name": "timestamp_ns", "dtype": "<u8"},
            {"name": "channel", "dtype": "<u2"},
            {"name": "celsius", "dtype": "<f8", "shape": [4], "doc": "four probes"}
        ]})");
}

Schema parse_ok(const json& document) {
    std::vector<Problem> problems;
    auto schema = parse_schema(document, "", problems);
    std::string all;
    for (const auto& problem : problems)
        all += problem.json_path + ": " + problem.message + "\n";
    EXPECT_TRUE(schema.has_value()) << all;
    return schema.value_or(Schema{});
}

std::vector<Problem> problems_of(const json& document) {
    std::vector<Problem> problems;
    EXPECT_FALSE(parse_schema(document, "/schemas/0", problems).has_value());
    return problems;
}

bool has_problem(const std::vector<Problem>& problems, const std::string& path, const std::string& words) {
    for (const auto& problem : problems) {
        if (problem.json_path == path && problem.message.find(words) != std::string::npos) return true;
    }
    return false;
}

std::string dump(const std::vector<Problem>& problems) {
    std::string all;
    for (const auto& problem : problems)
        all += problem.json_path + ": " + problem.message + "\n";
    return all;
}

}  // namespace

TEST(SchemaDtype, NumpyStringsRoundTripAndAmbiguousOnesAreRefused) {
    std::string why;
    for (const char* text : {"<u2", ">i4", "<f8", "<c16", "|b1", "|u1", "|i1", "|S16", "|V3", "<f2"}) {
        const auto dtype = parse_dtype(text, why);
        ASSERT_TRUE(dtype.has_value()) << text << ": " << why;
        EXPECT_EQ(dtype->str(), text);
    }
    EXPECT_EQ(parse_dtype("<c16", why)->alignment(), 8u);
    EXPECT_EQ(parse_dtype("|S16", why)->alignment(), 1u);
    for (const char* text : {"=f8", "f8", "<u3", "|u2", "<u1", "<x4", "<f08", "<f", "", "<S4", "|f8"}) {
        EXPECT_FALSE(parse_dtype(text, why).has_value()) << text;
        EXPECT_NE(why.find(text), std::string::npos) << "the error names the dtype: " << why;
    }
    ASSERT_FALSE(parse_dtype("=f8", why));
    EXPECT_NE(why.find("native"), std::string::npos) << why;
}

TEST(SchemaDocument, OffsetsSizeAndAlignmentDefaultToTheCLayout) {
    const Schema schema = parse_ok(thermo_v1());
    EXPECT_EQ(schema.id(), "lab.thermo@1");
    ASSERT_EQ(schema.fields.size(), 3u);
    // struct { uint64_t timestamp_ns; uint16_t channel; double celsius[4]; } : 0, 8, 16; sizeof 48, align 8.
    EXPECT_EQ(schema.fields[0].offset, 0u);
    EXPECT_EQ(schema.fields[1].offset, 8u);
    EXPECT_EQ(schema.fields[2].offset, 16u);
    EXPECT_EQ(schema.size, 48u);
    EXPECT_EQ(schema.align, 8u);
    EXPECT_EQ(schema.fields[2].doc, "four probes");
}

TEST(SchemaDocument, EveryProblemIsReportedAtItsPathInOneRun) {
    const json document = json::parse(R"({
        "name": "9bad", "version": 0, "colour": "red", "encoding": "struct", "align": 3,
        "fields": [
            {"name": "a", "dtype": "=f8"},
            {"name": "b", "dtype": "<u4", "offset": 2},
            {"name": "a", "dtype": "<u2"},
            {"name": "c", "dtype": "<u2", "shape": [0]},
            {"dtype": "<u2", "unit": "V"}
        ]})");
    const auto problems = problems_of(document);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/name", "not a schema name")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/version", "expected an integer in [1,")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/colour", "unknown key")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/fields/0/dtype", "native")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/fields/1/offset", "not a multiple of 4")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/fields/2/name", "second field named \"a\"")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/fields/3/shape/0", "positive extent")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/fields/4", "missing required key \"name\"")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/fields/4/unit", "unknown key")) << dump(problems);
    EXPECT_TRUE(has_problem(problems, "/schemas/0/align", "power of two")) << dump(problems);
}

TEST(SchemaDocument, OverlapsSizesAndEncodingRulesAreChecked) {
    auto overlap = problems_of(json::parse(R"({"name": "x", "version": 1, "fields": [
        {"name": "a", "dtype": "<u8", "offset": 0}, {"name": "b", "dtype": "<u4", "offset": 4}]})"));
    EXPECT_TRUE(has_problem(overlap, "/schemas/0/fields/1/offset", "overlaps \"a\" (bytes 0 to 7)")) << dump(overlap);

    auto small = problems_of(json::parse(R"({"name": "x", "version": 1, "size": 4, "fields": [
        {"name": "a", "dtype": "<u8"}]})"));
    EXPECT_TRUE(has_problem(small, "/schemas/0/size", "smaller than the 8 bytes")) << dump(small);

    auto unaligned = problems_of(json::parse(R"({"name": "x", "version": 1, "size": 12, "fields": [
        {"name": "a", "dtype": "<u8"}]})"));
    EXPECT_TRUE(has_problem(unaligned, "/schemas/0/size", "use 16")) << dump(unaligned);

    auto two_arrays = problems_of(json::parse(R"({"name": "img", "version": 1, "encoding": "ndarray", "fields": [
        {"name": "a", "dtype": "<u2", "shape": [4]}, {"name": "b", "dtype": "<u2"}]})"));
    EXPECT_TRUE(has_problem(two_arrays, "/schemas/0/fields", "one field")) << dump(two_arrays);

    auto bytes_with_fields = problems_of(json::parse(R"({"name": "blob", "version": 1, "encoding": "bytes",
        "fields": [{"name": "a", "dtype": "|u1"}]})"));
    EXPECT_TRUE(has_problem(bytes_with_fields, "/schemas/0/fields", "has no fields")) << dump(bytes_with_fields);

    auto external = problems_of(json::parse(R"({"name": "ev", "version": 1, "encoding": "external",
        "external": {"format": "", "descriptor": "not base64!"}})"));
    EXPECT_TRUE(has_problem(external, "/schemas/0/external/format", "empty")) << dump(external);
    EXPECT_TRUE(has_problem(external, "/schemas/0/external/descriptor", "base64")) << dump(external);

    EXPECT_FALSE(problems_of(json::array()).empty());
}

TEST(SchemaDocument, AnExternalSchemaKeepsItsDescriptorBytes) {
    const Schema schema = parse_ok(json::parse(R"({"name": "ess.ev44", "version": 1, "encoding": "external",
        "size": 0, "external": {"format": "flatbuffers", "descriptor": "AAEC/w=="}})"));
    EXPECT_EQ(schema.external_format, "flatbuffers");
    EXPECT_EQ(schema.descriptor, (std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0xff}));
    EXPECT_NE(canonical_json(schema).find(R"("descriptor":"AAEC/w==")"), std::string::npos) << canonical_json(schema);
}

TEST(SchemaIdentity, TheCanonicalFormFillsDefaultsDropsDocsAndSortsKeys) {
    const Schema schema = parse_ok(thermo_v1());
    EXPECT_EQ(canonical_json(schema), R"({"align":8,"encoding":"struct","fields":[)"
                                      R"({"dtype":"<u8","name":"timestamp_ns","offset":0,"shape":[]},)"
                                      R"({"dtype":"<u2","name":"channel","offset":8,"shape":[]},)"
                                      R"({"dtype":"<f8","name":"celsius","offset":16,"shape":[4]}],)"
                                      R"("name":"lab.thermo","size":48,"version":1})");
    // The same layout written out in full, in another key order and with other docs, is the same schema.
    json explicit_form = json::parse(R"({"version": 1, "name": "lab.thermo", "size": 48, "align": 8,
        "encoding": "struct", "doc": "other words", "fields": [
            {"offset": 0, "shape": [], "dtype": "<u8", "name": "timestamp_ns"},
            {"offset": 8, "dtype": "<u2", "name": "channel"},
            {"offset": 16, "shape": [4], "dtype": "<f8", "name": "celsius"}]})");
    EXPECT_EQ(fingerprint_string(parse_ok(explicit_form)), fingerprint_string(schema));
    // Any change of layout changes it.
    json moved = thermo_v1();
    moved["fields"][1]["dtype"] = "<u4";
    EXPECT_NE(fingerprint_string(parse_ok(moved)), fingerprint_string(schema));
    EXPECT_EQ(fingerprint_string(schema).rfind("dhs1_", 0), 0u);
    EXPECT_EQ(fingerprint_string(schema).size(), 5u + 64u);
    // to_json reads back to the same schema, docs included.
    const Schema again = parse_ok(to_json(schema));
    EXPECT_EQ(canonical_json(again), canonical_json(schema));
    EXPECT_EQ(again.doc, schema.doc);
}

/// One schema of every encoding, as documents a user writes (defaults left out, docs in).
std::vector<Schema> one_of_each_encoding() {
    json with_doc = thermo_v1();
    with_doc["doc"] = "Temperatur in °C";  // docs are not hashed, but they travel in the same document
    return {parse_ok(with_doc),
            parse_ok(json::parse(R"({"name": "lab.camera.mono16", "version": 1, "encoding": "ndarray",
                "fields": [{"name": "pixels", "dtype": "<u2", "shape": [512, 512]}]})")),
            parse_ok(json::parse(R"({"name": "lab.blob", "version": 2, "encoding": "bytes", "size": 100})")),
            parse_ok(json::parse(R"({"name": "ess.f144", "version": 1, "encoding": "external",
                "external": {"format": "flatbuffers"}})"))};
}

TEST(SchemaIdentity, EveryEncodingReadsBackFromItsOwnDocument) {
    for (const Schema& schema : one_of_each_encoding()) {
        SCOPED_TRACE(schema.id());
        const Schema again = parse_ok(to_json(schema));
        EXPECT_EQ(canonical_json(again), canonical_json(schema));
        EXPECT_EQ(fingerprint_string(again), fingerprint_string(schema));
    }
}

TEST(SchemaIdentity, PythonComputesTheSameFingerprintFromTheDocumentedRecipe) {
    // docs/schemas.md: the filled-in document without docs, json.dumps(sort_keys=True, separators=(",", ":"),
    // ensure_ascii=False), UTF-8, BLAKE2b with a 32-byte digest. Every encoding, and non-ASCII text.
    const std::vector<Schema> schemas = one_of_each_encoding();
    json documents = json::array();
    std::string expected;
    for (const Schema& schema : schemas) {
        documents.push_back(to_json(schema));
        expected += fingerprint_string(schema) + "\n";
    }
    dhub::testing::TempDir dir;
    std::ofstream(dir / "schemas.json") << documents.dump(2);
    const std::string script = R"(
import hashlib, json, sys
for doc in json.load(open(sys.argv[1], encoding="utf-8")):
    doc.pop("doc", None)
    for field in doc.get("fields", []):
        field.pop("doc", None)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    print("dhs1_" + hashlib.blake2b(canonical.encode("utf-8"), digest_size=32).hexdigest())
)";
    std::ofstream(dir / "fingerprint.py") << script;
    // Debian's interpreter (scripts/install-deps.sh installs python3), never one a PATH happens to offer first.
    auto python = dhub::testing::ChildProcess::spawn(
        "/usr/bin/python3", {(dir / "fingerprint.py").string(), (dir / "schemas.json").string()},
        (dir / "out.txt").string());
    const auto status = python.wait(std::chrono::seconds(30));
    const std::string output = dhub::testing::read_text_file((dir / "out.txt").string());
    ASSERT_TRUE(status.exited && status.code == 0) << output;
    EXPECT_EQ(output, expected);
}

TEST(SchemaIds, NameAtVersionIsSplitAndMalformedIdsAreRefused) {
    const auto ref = parse_schema_id("dhub.waveform.f64@1");
    ASSERT_TRUE(ref);
    EXPECT_EQ(ref->name, "dhub.waveform.f64");
    EXPECT_EQ(ref->version, 1u);
    for (const char* bad : {"lab.thermo", "@1", "x@", "x@0", "x@01", "x@1a", "*"})
        EXPECT_FALSE(parse_schema_id(bad)) << bad;
}

class SchemaEvolution : public ::testing::Test {
protected:
    Schema v1 = parse_ok(thermo_v1());
    Schema with(const std::function<void(json&)>& edit) {
        json document = thermo_v1();
        edit(document);
        return parse_ok(document);
    }
};

TEST_F(SchemaEvolution, AReaderOfVersionNReadsANewerVersionThatOnlyAppendedFields) {
    const Schema v2 = with([](json& d) {
        d["version"] = 2;
        d["fields"].push_back({{"name", "humidity"}, {"dtype", "<f4"}});
    });
    EXPECT_TRUE(check_readable(v1, v2).accepted) << check_readable(v1, v2).why;
    EXPECT_TRUE(check_readable(v1, v1).accepted);
    const Verdict backwards = check_readable(v2, v1);
    EXPECT_FALSE(backwards.accepted);
    EXPECT_NE(backwards.why.find("older"), std::string::npos) << backwards.why;
}

TEST_F(SchemaEvolution, AnythingButAppendingIsRefusedNamingTheFirstDifferentField) {
    const Schema retyped = with([](json& d) {
        d["version"] = 3;
        d["fields"][1]["dtype"] = "<u4";
    });
    const Verdict verdict = check_readable(v1, retyped);
    EXPECT_FALSE(verdict.accepted);
    EXPECT_NE(verdict.why.find("lab.thermo@3"), std::string::npos) << verdict.why;
    EXPECT_NE(verdict.why.find("lab.thermo@1"), std::string::npos) << verdict.why;
    EXPECT_NE(verdict.why.find("field 1 is \"channel\" <u4 at 8 instead of \"channel\" <u2 at 8"), std::string::npos)
        << verdict.why;

    const Schema removed = with([](json& d) {
        d["version"] = 2;
        d["fields"].erase(2);
    });
    EXPECT_NE(check_readable(v1, removed).why.find("field 2 \"celsius\" <f8 [4] at 16 is missing"), std::string::npos)
        << check_readable(v1, removed).why;

    const Schema reshaped = with([](json& d) {
        d["version"] = 2;
        d["fields"][2]["shape"] = {8};
    });
    EXPECT_FALSE(check_readable(v1, reshaped).accepted);

    const Schema same_version_changed = with([](json& d) { d["fields"].push_back({{"name", "x"}, {"dtype", "<f4"}}); });
    const Verdict same = check_readable(v1, same_version_changed);
    EXPECT_FALSE(same.accepted);
    EXPECT_NE(same.why.find("same version, different content"), std::string::npos) << same.why;
    EXPECT_NE(same.why.find("\"x\""), std::string::npos) << same.why;

    const Schema other = with([](json& d) { d["name"] = "lab.pressure"; });
    EXPECT_FALSE(check_readable(v1, other).accepted);
}
