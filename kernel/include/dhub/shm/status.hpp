// SPDX-License-Identifier: Apache-2.0
// Outcomes of data-path calls. They are values, not exceptions, and never allocate.
#pragma once

namespace dhub::shm {

enum class Status {
    Ok = 0,
    Timeout,           ///< nothing became available before the deadline
    Closed,            ///< the producer closed the channel and every slot was read
    Overwritten,       ///< latest-only: the producer reused the slot while it was read; read again
    ChecksumMismatch,  ///< the payload does not match its BLAKE2b checksum; it was skipped and counted
    NotOwner,          ///< this producer lost its lease (another producer took the channel over)
    TooLarge,          ///< commit(bytes) exceeds the slot size
    Invalid,           ///< the handle is empty (moved-from, already committed or released)
};

const char* to_string(Status status) noexcept;

}  // namespace dhub::shm
