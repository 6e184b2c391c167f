// SPDX-License-Identifier: Apache-2.0
#include "recording_reader.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

namespace dhub::plugins::replay {

namespace format = dhub::formats::recording;

namespace {

// Size of an open file in bytes, or -1.
off_t file_size(std::FILE* file) {
    const off_t here = ftello(file);
    if (here < 0 || fseeko(file, 0, SEEK_END) != 0) return -1;
    const off_t size = ftello(file);
    return fseeko(file, here, SEEK_SET) == 0 ? size : -1;
}

}  // namespace

RecordingReader::RecordingReader(std::string path) : path_(std::move(path)), index_path_(format::index_path(path_)) {
    if (open_data()) open_index();
}

dhub_status RecordingReader::fail(const std::string& what) {
    const int error_number = errno;
    error_ = what + (error_number != 0 ? std::string(": ") + std::strerror(error_number) : std::string());
    return DHUB_ERR_IO;
}

bool RecordingReader::refuse(const std::string& what) {
    (void)fail(what);
    return false;
}

bool RecordingReader::open_data() {
    errno = 0;
    data_.reset(std::fopen(path_.c_str(), "rb"));
    if (!data_) return refuse("cannot open the recording " + path_);
    format::DataFileHeader header{};
    errno = 0;
    if (std::fread(&header, sizeof header, 1, data_.get()) != 1) {
        return refuse(path_ + " is too short for a recording header");
    }
    if (const std::string problem = format::check_data_header(header); !problem.empty()) {
        errno = 0;
        return refuse(path_ + ": " + problem);
    }
    schema_.resize(header.schema_bytes);
    if (header.schema_bytes > 0 && std::fread(schema_.data(), header.schema_bytes, 1, data_.get()) != 1) {
        return refuse(path_ + ": the schema id is cut short");
    }
    slot_capacity_ = header.slot_capacity;
    const off_t size = file_size(data_.get());
    if (size < 0) return refuse("cannot size " + path_);
    data_file_bytes_ = static_cast<std::uint64_t>(size);
    return true;
}

bool RecordingReader::open_index() {
    errno = 0;
    index_.reset(std::fopen(index_path_.c_str(), "rb"));
    if (!index_) return refuse("cannot open the recording index " + index_path_);
    format::IndexFileHeader header{};
    if (std::fread(&header, sizeof header, 1, index_.get()) != 1) {
        return refuse(index_path_ + " is too short for an index header");
    }
    if (const std::string problem = format::check_index_header(header); !problem.empty()) {
        errno = 0;
        return refuse(index_path_ + ": " + problem);
    }
    record_bytes_ = header.record_bytes;
    const off_t size = file_size(index_.get());
    if (size < 0) return refuse("cannot size " + index_path_);
    // A partly written last record (a crash mid-write) is not counted.
    record_count_ = (static_cast<std::uint64_t>(size) - sizeof header) / record_bytes_;
    return true;
}

dhub_status RecordingReader::next(format::IndexRecord& record, Next& outcome) {
    outcome = Next::End;
    if (!index_) return DHUB_ERR_IO;
    if (truncated_ || next_record_ >= record_count_) return DHUB_OK;
    errno = 0;
    if (std::fread(&record, sizeof record, 1, index_.get()) != 1) return fail("reading " + index_path_ + " failed");
    // Records of a later format minor may be longer: step over the part this reader does not know.
    if (record_bytes_ > sizeof record && fseeko(index_.get(), record_bytes_ - sizeof record, SEEK_CUR) != 0) {
        return fail("seeking in " + index_path_ + " failed");
    }
    const std::uint64_t number = next_record_++;
    if (record.kind == format::RecordKind::Slot) {
        if (record.offset > data_file_bytes_ || record.bytes > data_file_bytes_ - record.offset) {
            truncated_ = true;
            return DHUB_OK;
        }
    } else if (record.kind != format::RecordKind::Gap) {
        errno = 0;
        return fail(index_path_ + ": record " + std::to_string(number) + " has unknown kind " +
                    std::to_string(static_cast<std::uint32_t>(record.kind)));
    }
    outcome = Next::Record;
    return DHUB_OK;
}

dhub_status RecordingReader::read_slot(const format::IndexRecord& record, std::span<std::byte> destination) {
    if (!data_ || destination.size() < record.bytes) return DHUB_ERR_INVALID_ARGUMENT;
    errno = 0;
    if (fseeko(data_.get(), static_cast<off_t>(record.offset), SEEK_SET) != 0)
        return fail("seeking in " + path_ + " failed");
    if (record.bytes > 0 &&
        std::fread(destination.data(), static_cast<std::size_t>(record.bytes), 1, data_.get()) != 1) {
        return fail("reading slot " + std::to_string(record.sequence) + " from " + path_ + " failed");
    }
    return DHUB_OK;
}

dhub_status RecordingReader::rewind() {
    if (!index_) return DHUB_ERR_IO;
    errno = 0;
    if (fseeko(index_.get(), static_cast<off_t>(sizeof(format::IndexFileHeader)), SEEK_SET) != 0) {
        return fail("seeking in " + index_path_ + " failed");
    }
    next_record_ = 0;
    truncated_ = false;
    return DHUB_OK;
}

}  // namespace dhub::plugins::replay
