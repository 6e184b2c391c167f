// SPDX-License-Identifier: Apache-2.0
#include "recording_writer.hpp"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

#include "dhub/formats/recording.hpp"

namespace dhub::plugins::recorder {

namespace format = dhub::formats::recording;

RecordingWriter::RecordingWriter(std::string path, std::string_view schema)
    : path_(std::move(path)), index_path_(format::index_path(path_)) {
    if (schema.size() > format::MAX_SCHEMA_BYTES) {
        error_ = "schema id longer than " + std::to_string(format::MAX_SCHEMA_BYTES) + " bytes";
        return;
    }
    data_.reset(std::fopen(path_.c_str(), "wb"));
    if (!data_) {
        fail("cannot create " + path_);
        return;
    }
    index_.reset(std::fopen(index_path_.c_str(), "wb"));
    if (!index_) {
        fail("cannot create " + index_path_);
        return;
    }
    const auto schema_bytes = static_cast<std::uint32_t>(schema.size());
    const format::DataFileHeader data_header = format::make_data_header(schema_bytes, 0);
    // Header, schema id, then zeros up to header_bytes: the first slot starts on a 64-byte boundary.
    std::vector<std::byte> head(data_header.header_bytes, std::byte{0});
    std::memcpy(head.data(), &data_header, sizeof data_header);
    std::memcpy(head.data() + sizeof data_header, schema.data(), schema.size());
    if (write(data_.get(), head.data(), head.size(), path_) != DHUB_OK) return;
    data_offset_ = head.size();
    const format::IndexFileHeader index_header = format::make_index_header();
    if (write(index_.get(), &index_header, sizeof index_header, index_path_) != DHUB_OK) return;
    // On disk at once: a node that dies before its first flush leaves a valid, empty recording.
    (void)flush();
}

dhub_status RecordingWriter::fail(const std::string& what) {
    const int error_number = errno;
    error_ = what + (error_number != 0 ? std::string(": ") + std::strerror(error_number) : std::string());
    return DHUB_ERR_IO;
}

dhub_status RecordingWriter::write(std::FILE* file, const void* data, std::size_t bytes, const std::string& which) {
    errno = 0;
    if (bytes > 0 && std::fwrite(data, 1, bytes, file) != bytes) return fail("writing " + which + " failed");
    return DHUB_OK;
}

dhub_status RecordingWriter::store_capacity(std::uint64_t capacity) {
    // The capacity is only known once a slot arrives; patch it into the header written at open.
    errno = 0;
    const off_t end = ftello(data_.get());
    if (end < 0 ||
        fseeko(data_.get(), static_cast<off_t>(offsetof(format::DataFileHeader, slot_capacity)), SEEK_SET) != 0) {
        return fail("seeking in " + path_ + " failed");
    }
    if (const dhub_status status = write(data_.get(), &capacity, sizeof capacity, path_); status != DHUB_OK)
        return status;
    if (fseeko(data_.get(), end, SEEK_SET) != 0) return fail("seeking in " + path_ + " failed");
    capacity_stored_ = true;
    return DHUB_OK;
}

dhub_status RecordingWriter::append_slot(std::span<const std::byte> bytes,
                                         std::uint64_t sequence,
                                         std::uint64_t timestamp_ns,
                                         std::uint64_t capacity) {
    if (!data_ || !index_) return DHUB_ERR_IO;
    if (!capacity_stored_) {
        if (const dhub_status status = store_capacity(capacity); status != DHUB_OK) return status;
    }
    format::IndexRecord record{};
    record.sequence = sequence;
    record.timestamp_ns = timestamp_ns;
    record.offset = data_offset_;
    record.bytes = bytes.size();
    record.kind = format::RecordKind::Slot;
    if (const dhub_status status = write(data_.get(), bytes.data(), bytes.size(), path_); status != DHUB_OK)
        return status;
    data_offset_ += bytes.size();
    return write(index_.get(), &record, sizeof record, index_path_);
}

dhub_status RecordingWriter::append_gap(std::uint64_t first_missing,
                                        std::uint64_t missing,
                                        std::uint64_t timestamp_ns) {
    if (!index_) return DHUB_ERR_IO;
    format::IndexRecord record{};
    record.sequence = first_missing;
    record.timestamp_ns = timestamp_ns;
    record.missing = missing;
    record.kind = format::RecordKind::Gap;
    return write(index_.get(), &record, sizeof record, index_path_);
}

dhub_status RecordingWriter::flush() {
    if (!data_ || !index_) return DHUB_ERR_IO;
    errno = 0;
    if (std::fflush(data_.get()) != 0) return fail("flushing " + path_ + " failed");
    if (std::fflush(index_.get()) != 0) return fail("flushing " + index_path_ + " failed");
    return DHUB_OK;
}

dhub_status RecordingWriter::close() {
    if (!data_ || !index_) return DHUB_ERR_IO;
    const dhub_status flushed = flush();
    errno = 0;
    const bool data_closed = std::fclose(data_.release()) == 0;
    const bool index_closed = std::fclose(index_.release()) == 0;
    if (flushed != DHUB_OK) return flushed;
    if (!data_closed || !index_closed) return fail("closing the recording " + path_ + " failed");
    return DHUB_OK;
}

}  // namespace dhub::plugins::recorder
