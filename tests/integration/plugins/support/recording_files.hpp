// SPDX-License-Identifier: Apache-2.0
// Reads recordings in tests independently of the replay plugin, straight from the format header.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "dhub/formats/recording.hpp"

namespace dhub::test {

inline std::vector<char> file_bytes(const std::string& path) {
    std::ifstream stream(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
}

struct RecordingFiles {
    formats::recording::DataFileHeader data_header{};
    std::string schema;
    formats::recording::IndexFileHeader index_header{};
    std::vector<formats::recording::IndexRecord> records;
    std::vector<char> data;  ///< the whole data file

    /// The bytes of a slot record.
    std::vector<std::byte> slot_bytes(const formats::recording::IndexRecord& record) const {
        const auto* first = reinterpret_cast<const std::byte*>(data.data() + record.offset);
        return {first, first + record.bytes};
    }
};

inline RecordingFiles read_recording(const std::string& path) {
    RecordingFiles files;
    files.data = file_bytes(path);
    if (files.data.size() >= sizeof files.data_header) {
        std::memcpy(&files.data_header, files.data.data(), sizeof files.data_header);
        if (files.data.size() >= sizeof files.data_header + files.data_header.schema_bytes) {
            files.schema.assign(files.data.data() + sizeof files.data_header, files.data_header.schema_bytes);
        }
    }
    const std::vector<char> index = file_bytes(formats::recording::index_path(path));
    if (index.size() >= sizeof files.index_header)
        std::memcpy(&files.index_header, index.data(), sizeof files.index_header);
    for (std::size_t offset = sizeof files.index_header;
         offset + sizeof(formats::recording::IndexRecord) <= index.size();
         offset += sizeof(formats::recording::IndexRecord)) {
        formats::recording::IndexRecord record{};
        std::memcpy(&record, index.data() + offset, sizeof record);
        files.records.push_back(record);
    }
    return files;
}

}  // namespace dhub::test
