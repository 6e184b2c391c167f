// SPDX-License-Identifier: Apache-2.0
#include "dhub/shm/status.hpp"

namespace dhub::shm {

const char* to_string(Status status) noexcept {
    switch (status) {
        case Status::Ok:
            return "ok";
        case Status::Timeout:
            return "timeout";
        case Status::Closed:
            return "closed";
        case Status::Overwritten:
            return "overwritten";
        case Status::ChecksumMismatch:
            return "checksum mismatch";
        case Status::NotOwner:
            return "not owner";
        case Status::TooLarge:
            return "too large";
        case Status::Invalid:
            return "invalid handle";
    }
    return "unknown status";
}

}  // namespace dhub::shm
