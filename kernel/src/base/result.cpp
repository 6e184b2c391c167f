// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/result.hpp"

namespace dhub {

const char* to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::InvalidArgument:
            return "invalid argument";
        case ErrorCode::NotFound:
            return "not found";
        case ErrorCode::AlreadyExists:
            return "already exists";
        case ErrorCode::PermissionDenied:
            return "permission denied";
        case ErrorCode::Incompatible:
            return "incompatible";
        case ErrorCode::SchemaMismatch:
            return "schema mismatch";
        case ErrorCode::Corrupt:
            return "corrupt";
        case ErrorCode::Timeout:
            return "timeout";
        case ErrorCode::Io:
            return "I/O error";
        case ErrorCode::Cancelled:
            return "cancelled";
    }
    return "unknown error";
}

}  // namespace dhub
