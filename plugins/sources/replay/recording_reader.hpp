// SPDX-License-Identifier: Apache-2.0
// Reads a recording (dhub/formats/recording.hpp) record by record: the index streams through a
// stdio buffer, slot bytes are read straight into the caller's slot. Index records past the end of the
// data file (a recorder that crashed between two flushes) end the recording rather than fail it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "dhub/formats/recording.hpp"
#include "dhub/sdk/abi.h"

namespace dhub::plugins::replay {

class RecordingReader {
public:
    enum class Next { Record, End };

    /// Opens path and path.idx and checks both headers. On failure ok() is false and error() says why.
    explicit RecordingReader(std::string path);

    bool ok() const noexcept { return error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    const std::string& schema() const noexcept { return schema_; }
    std::uint64_t slot_capacity() const noexcept { return slot_capacity_; }
    /// Whole records in the index (slots and gaps).
    std::uint64_t record_count() const noexcept { return record_count_; }
    /// True once next() stopped at a record whose bytes are not in the data file.
    bool truncated() const noexcept { return truncated_; }

    /// The next index record, or End. DHUB_ERR_IO (with error()) for an unreadable or corrupt index.
    dhub_status next(formats::recording::IndexRecord& record, Next& outcome);
    /// Reads a slot record's bytes into destination (at least record.bytes long).
    dhub_status read_slot(const formats::recording::IndexRecord& record, std::span<std::byte> destination);
    /// Back to the first record.
    dhub_status rewind();

private:
    struct FileCloser {
        void operator()(std::FILE* file) const noexcept { std::fclose(file); }
    };
    using File = std::unique_ptr<std::FILE, FileCloser>;

    dhub_status fail(const std::string& what);
    bool refuse(const std::string& what);  ///< fail() for the open steps
    bool open_data();
    bool open_index();

    std::string path_;
    std::string index_path_;
    File data_;
    File index_;
    std::string schema_;
    std::uint64_t slot_capacity_ = 0;
    std::uint64_t data_file_bytes_ = 0;
    std::uint32_t record_bytes_ = sizeof(formats::recording::IndexRecord);
    std::uint64_t record_count_ = 0;
    std::uint64_t next_record_ = 0;
    bool truncated_ = false;
    std::string error_;
};

}  // namespace dhub::plugins::replay
