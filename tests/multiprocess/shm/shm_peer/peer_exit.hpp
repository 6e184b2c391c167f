// SPDX-License-Identifier: Apache-2.0
// Exit codes of dhub-shm-test-peer: one per kind of failure, so a test that sees a nonzero code knows
// what went wrong in the other process without parsing its output.
#pragma once

namespace dhub::testing {

enum class PeerExit : int {
    Ok = 0,
    BadArguments = 2,
    // producer side
    CreateFailed = 20,
    CreateRefusedAlreadyExists = 21,
    TakeoverExpectationFailed = 22,
    FirstSequenceMismatch = 23,
    ConsumersNeverAttached = 24,
    AcquireWriteFailed = 25,
    CommitFailed = 26,
    ConsumersNeverRead = 27,
    // consumer side
    AttachFailed = 30,
    SequenceOutOfOrder = 31,
    PayloadMismatch = 32,
    SizeMismatch = 33,
    CountMismatch = 34,
    DeadlineExceeded = 35,
    ChecksumMismatch = 36,
    LastSequenceMissing = 37,
    UnexpectedStatus = 38,
    NothingReceived = 39,
};

constexpr int exit_code(PeerExit exit) noexcept {
    return static_cast<int>(exit);
}

constexpr const char* describe(PeerExit exit) noexcept {
    switch (exit) {
        case PeerExit::Ok:
            return "ok";
        case PeerExit::BadArguments:
            return "bad arguments";
        case PeerExit::CreateFailed:
            return "Producer::create failed";
        case PeerExit::CreateRefusedAlreadyExists:
            return "Producer::create refused: AlreadyExists";
        case PeerExit::TakeoverExpectationFailed:
            return "took_over() differs from --expect-takeover";
        case PeerExit::FirstSequenceMismatch:
            return "next_sequence() differs from --first-seq";
        case PeerExit::ConsumersNeverAttached:
            return "the awaited consumers never attached";
        case PeerExit::AcquireWriteFailed:
            return "acquire_write failed";
        case PeerExit::CommitFailed:
            return "commit failed";
        case PeerExit::ConsumersNeverRead:
            return "the consumers never read --min-consumer-reads slots";
        case PeerExit::AttachFailed:
            return "Consumer::attach failed";
        case PeerExit::SequenceOutOfOrder:
            return "a sequence number was skipped, repeated or went backwards";
        case PeerExit::PayloadMismatch:
            return "an accepted payload differs from the expected bytes";
        case PeerExit::SizeMismatch:
            return "an accepted payload has the wrong length";
        case PeerExit::CountMismatch:
            return "the number of slots received differs from --count";
        case PeerExit::DeadlineExceeded:
            return "the peer's deadline passed";
        case PeerExit::ChecksumMismatch:
            return "acquire_read reported ChecksumMismatch";
        case PeerExit::LastSequenceMissing:
            return "the last sequence was never received";
        case PeerExit::UnexpectedStatus:
            return "an unexpected Status";
        case PeerExit::NothingReceived:
            return "no slot was received";
    }
    return "unknown exit code";
}

inline const char* describe_exit_code(int code) noexcept {
    return describe(static_cast<PeerExit>(code));
}

}  // namespace dhub::testing
