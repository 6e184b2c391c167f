// SPDX-License-Identifier: Apache-2.0
// The recording format written by dhub.sink.recorder and read by dhub.source.replay (docs/plugins.md).
// A recording is two files:
//
//   <path>       data:  DataFileHeader (64 bytes), the schema id (schema_bytes of UTF-8, no NUL), zero
//                       padding up to header_bytes, then the committed bytes of each slot back to back
//   <path>.idx   index: IndexFileHeader (64 bytes), then one IndexRecord (48 bytes) per slot or gap,
//                       in arrival order
//
// A slot record says where its bytes are in the data file; a gap record says that sequences
// [sequence, sequence + missing) never reached the recorder. Host byte order (little-endian). Both files
// carry the format version; a reader refuses a version it does not know.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

namespace dhub::formats::recording {

inline constexpr char DATA_MAGIC[8] = {'D', 'H', 'U', 'B', 'R', 'E', 'C', '1'};
inline constexpr char INDEX_MAGIC[8] = {'D', 'H', 'U', 'B', 'I', 'D', 'X', '1'};
inline constexpr std::uint32_t FORMAT_VERSION = 1;
/// Longest schema id a reader accepts (ids are short: "dhub.waveform.f64@1").
inline constexpr std::uint32_t MAX_SCHEMA_BYTES = 4096;

struct DataFileHeader {
    char magic[8];                 ///< DATA_MAGIC
    std::uint32_t format_version;  ///< FORMAT_VERSION
    std::uint32_t header_bytes;    ///< offset of the first slot's bytes: 64 + schema_bytes, rounded up to 64
    std::uint64_t slot_capacity;   ///< slot size of the recorded channel; 0 if no slot was recorded
    std::uint32_t schema_bytes;    ///< length of the schema id that follows this header
    std::uint32_t reserved0;
    std::uint8_t reserved[32];  ///< zero
};

struct IndexFileHeader {
    char magic[8];                 ///< INDEX_MAGIC
    std::uint32_t format_version;  ///< FORMAT_VERSION
    std::uint32_t record_bytes;    ///< sizeof(IndexRecord); lets a reader step over records of a later minor
    std::uint8_t reserved[48];     ///< zero
};

enum class RecordKind : std::uint32_t {
    Invalid = 0,
    Slot = 1,  ///< a recorded slot
    Gap = 2,   ///< sequences that never arrived
};

struct IndexRecord {
    std::uint64_t sequence;      ///< slot: its sequence; gap: the first missing sequence
    std::uint64_t timestamp_ns;  ///< slot: its timestamp; gap: the timestamp of the slot after the gap
    std::uint64_t offset;        ///< slot: where its bytes start in the data file; gap: 0
    std::uint64_t bytes;         ///< slot: its committed length; gap: 0
    std::uint64_t missing;       ///< gap: how many sequences are missing; slot: 0
    RecordKind kind;
    std::uint32_t reserved;  ///< zero
};

// The layout is a file format: pinned.
static_assert(sizeof(DataFileHeader) == 64);
static_assert(offsetof(DataFileHeader, format_version) == 8);
static_assert(offsetof(DataFileHeader, header_bytes) == 12);
static_assert(offsetof(DataFileHeader, slot_capacity) == 16);
static_assert(offsetof(DataFileHeader, schema_bytes) == 24);
static_assert(sizeof(IndexFileHeader) == 64);
static_assert(offsetof(IndexFileHeader, record_bytes) == 12);
static_assert(sizeof(IndexRecord) == 48);
static_assert(offsetof(IndexRecord, timestamp_ns) == 8);
static_assert(offsetof(IndexRecord, offset) == 16);
static_assert(offsetof(IndexRecord, bytes) == 24);
static_assert(offsetof(IndexRecord, missing) == 32);
static_assert(offsetof(IndexRecord, kind) == 40);
static_assert(std::is_trivially_copyable_v<DataFileHeader> && std::is_trivially_copyable_v<IndexFileHeader> &&
              std::is_trivially_copyable_v<IndexRecord>);
static_assert(std::endian::native == std::endian::little, "recordings are little-endian");

/// Offset of the first slot for a schema id of that length.
constexpr std::uint32_t data_header_bytes(std::uint32_t schema_bytes) noexcept {
    return (static_cast<std::uint32_t>(sizeof(DataFileHeader)) + schema_bytes + 63U) / 64U * 64U;
}

inline std::string index_path(const std::string& data_path) {
    return data_path + ".idx";
}

inline DataFileHeader make_data_header(std::uint32_t schema_bytes, std::uint64_t slot_capacity) noexcept {
    DataFileHeader header{};
    std::memcpy(header.magic, DATA_MAGIC, sizeof header.magic);
    header.format_version = FORMAT_VERSION;
    header.header_bytes = data_header_bytes(schema_bytes);
    header.slot_capacity = slot_capacity;
    header.schema_bytes = schema_bytes;
    return header;
}

inline IndexFileHeader make_index_header() noexcept {
    IndexFileHeader header{};
    std::memcpy(header.magic, INDEX_MAGIC, sizeof header.magic);
    header.format_version = FORMAT_VERSION;
    header.record_bytes = sizeof(IndexRecord);
    return header;
}

/// What is wrong with a data file header; empty if it is one this code can read.
inline std::string check_data_header(const DataFileHeader& header) {
    if (std::memcmp(header.magic, DATA_MAGIC, sizeof header.magic) != 0) return "not a dhub recording (bad magic)";
    if (header.format_version != FORMAT_VERSION) {
        return "recording format version " + std::to_string(header.format_version) + ", this reader knows " +
               std::to_string(FORMAT_VERSION);
    }
    if (header.schema_bytes > MAX_SCHEMA_BYTES) return "schema id of " + std::to_string(header.schema_bytes) + " bytes";
    if (header.header_bytes < sizeof(DataFileHeader) + header.schema_bytes) {
        return "header_bytes " + std::to_string(header.header_bytes) + " is smaller than the header and schema id";
    }
    return {};
}

/// What is wrong with an index file header; empty if it is one this code can read.
inline std::string check_index_header(const IndexFileHeader& header) {
    if (std::memcmp(header.magic, INDEX_MAGIC, sizeof header.magic) != 0)
        return "not a dhub recording index (bad magic)";
    if (header.format_version != FORMAT_VERSION) {
        return "index format version " + std::to_string(header.format_version) + ", this reader knows " +
               std::to_string(FORMAT_VERSION);
    }
    if (header.record_bytes < sizeof(IndexRecord)) {
        return "index records of " + std::to_string(header.record_bytes) + " bytes, expected at least " +
               std::to_string(sizeof(IndexRecord));
    }
    return {};
}

}  // namespace dhub::formats::recording
