// SPDX-License-Identifier: Apache-2.0
// Writes one recording (dhub/formats/recording.hpp): the data file and its index, appended slot by
// slot through stdio buffers. Slot bytes are written before their index record and flush() pushes the
// data file before the index, so an index record on disk never points past the data on disk after a
// flush (a reader still checks, since a crash can come between two flushes).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "dhub/sdk/abi.h"

namespace dhub::plugins::recorder {

class RecordingWriter {
public:
    /// Creates (or truncates) path and path.idx and writes both headers. On failure ok() is false and
    /// error() says why.
    RecordingWriter(std::string path, std::string_view schema);

    bool ok() const noexcept { return error_.empty(); }
    const std::string& error() const noexcept { return error_; }
    const std::string& path() const noexcept { return path_; }

    /// Appends a slot's committed bytes and its index record. capacity: the channel's slot size, stored in
    /// the data header with the first slot.
    dhub_status append_slot(std::span<const std::byte> bytes,
                            std::uint64_t sequence,
                            std::uint64_t timestamp_ns,
                            std::uint64_t capacity);
    /// Records that sequences [first_missing, first_missing + missing) never arrived.
    dhub_status append_gap(std::uint64_t first_missing, std::uint64_t missing, std::uint64_t timestamp_ns);
    /// Pushes buffered bytes to the files, data first.
    dhub_status flush();
    /// Flushes and closes both files; later calls fail.
    dhub_status close();

    std::uint64_t data_bytes() const noexcept { return data_offset_; }

private:
    struct FileCloser {
        void operator()(std::FILE* file) const noexcept { std::fclose(file); }
    };
    using File = std::unique_ptr<std::FILE, FileCloser>;

    dhub_status fail(const std::string& what);
    dhub_status write(std::FILE* file, const void* data, std::size_t bytes, const std::string& which);
    dhub_status store_capacity(std::uint64_t capacity);

    std::string path_;
    std::string index_path_;
    File data_;
    File index_;
    std::uint64_t data_offset_ = 0;
    bool capacity_stored_ = false;
    std::string error_;
};

}  // namespace dhub::plugins::recorder
