// SPDX-License-Identifier: Apache-2.0
#include "dhub/base/process_identity.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/child_process.hpp"

namespace dhub {
namespace {

TEST(ProcessIdentity_test, SelfIsAliveAndHasAStartTime) {
    const ProcessIdentity self = ProcessIdentity::self();
    EXPECT_EQ(self.pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_GT(self.start_ticks, 0u);
    EXPECT_EQ(liveness_of(self.token()), Liveness::Alive);
}

TEST(ProcessIdentity_test, TokenPacksPidNamespaceAndStartTime) {
    const ProcessIdentity sut{1234, 0x1'0100'0007ULL, 0x2'0005};
    EXPECT_EQ(token_pid(sut.token()), 1234u);
    EXPECT_EQ(token_pid_namespace(sut.token()), 0x5u);      // the low 17 bits
    EXPECT_EQ(sut.token() >> token_bits::START_SHIFT, 7u);  // the low 24 bits
    EXPECT_EQ(sut.token() & token_bits::MARKER_BIT, 0u);
}

TEST(ProcessIdentity_test, SelfKnowsItsPidNamespace) {
    EXPECT_NE(ProcessIdentity::self().pid_namespace, 0u);
    EXPECT_EQ(token_pid_namespace(ProcessIdentity::self().token()), ProcessIdentity::self().pid_namespace);
}

TEST(ProcessIdentity_test, AnOwnerInAnotherPidNamespaceIsAliveBecauseThisProcessCannotTell) {
    // A pid that certainly does not exist here: in our namespace it would be dead at once.
    ProcessIdentity stranger = ProcessIdentity::self();
    stranger.pid = (1u << token_bits::PID_BITS) - 1;
    ASSERT_EQ(liveness_of(stranger.token()), Liveness::Dead);
    stranger.pid_namespace = ProcessIdentity::self().pid_namespace ^ 1u;
    if (stranger.pid_namespace == 0) stranger.pid_namespace = 2;
    EXPECT_EQ(liveness_of(stranger.token()), Liveness::Alive);
    stranger.pid_namespace = 0;  // unknown: judged by our /proc
    EXPECT_EQ(liveness_of(stranger.token()), Liveness::Dead);
}

TEST(ProcessIdentity_test, ZeroTokenIsNobody) {
    EXPECT_EQ(liveness_of(0), Liveness::Dead);
}

TEST(ProcessIdentity_test, ReusedPidWithAnotherStartTimeIsDead) {
    ProcessIdentity impostor = ProcessIdentity::self();
    impostor.start_ticks += 1;  // same pid, different process start: what pid reuse looks like
    EXPECT_EQ(liveness_of(impostor.token()), Liveness::Dead);
}

TEST(ProcessIdentity_test, ExitedChildIsDeadEvenBeforeItIsReaped) {
    testing::ReadySignal identity_known;
    auto child = testing::ChildProcess::fork([] { return 0; });
    const auto identity = ProcessIdentity::of(static_cast<std::uint32_t>(child.pid()));
    // The child may already be a zombie here; either way, once it exited it must read as dead.
    ASSERT_TRUE(testing::wait_until([&] {
        const auto now = ProcessIdentity::of(static_cast<std::uint32_t>(child.pid()));
        return !now.has_value();
    }));
    if (identity) {
        EXPECT_EQ(liveness_of(identity->token()), Liveness::Dead);
    }
    EXPECT_TRUE(child.wait().exited);
}

TEST(ProcessIdentity_test, ChildComputesItsOwnIdentityAfterFork) {
    const std::uint64_t parent_token = ProcessIdentity::self().token();
    auto child = testing::ChildProcess::fork([parent_token] {
        return ProcessIdentity::self().token() != parent_token &&
                       ProcessIdentity::self().pid == static_cast<std::uint32_t>(::getpid())
                   ? 0
                   : 1;
    });
    const auto status = child.wait();
    ASSERT_TRUE(status.exited);
    EXPECT_EQ(status.code, 0);
}

}  // namespace
}  // namespace dhub
