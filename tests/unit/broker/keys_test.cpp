// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/keys.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "support/temp_dir.hpp"

namespace dhub::broker {
namespace {

class Keys_test : public ::testing::Test {
protected:
    dhub::testing::TempDir scratch_{"dhub-keys"};
    std::string directory_ = scratch_.path().string();
};

TEST_F(Keys_test, WritesASecretFileOnlyTheOwnerCanReadAndItsPublicKey) {
    auto pair = generate_curve_keypair();
    ASSERT_TRUE(pair.ok());
    ASSERT_TRUE(write_keypair_files(*pair, directory_, "node", Overwrite::Refuse).ok());
    struct stat info {};
    ASSERT_EQ(::stat((directory_ + "/node.key").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    auto secret = read_key_file(directory_ + "/node.key", KeyKind::Secret);
    auto public_key = read_key_file(directory_ + "/node.pub", KeyKind::Public);
    ASSERT_TRUE(secret.ok() && public_key.ok());
    EXPECT_EQ(*secret, pair->secret_key);
    EXPECT_EQ(*public_key_of(*secret), *public_key);
}

TEST_F(Keys_test, RefusesToOverwriteUnlessAllowed) {
    auto pair = generate_curve_keypair();
    ASSERT_TRUE(write_keypair_files(*pair, directory_, "node", Overwrite::Refuse).ok());
    auto again = write_keypair_files(*pair, directory_, "node", Overwrite::Refuse);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("--force"), std::string::npos);
    EXPECT_TRUE(write_keypair_files(*pair, directory_, "node", Overwrite::Allow).ok());
}

TEST_F(Keys_test, RefusesASecretKeyFileOthersCanRead) {
    auto pair = generate_curve_keypair();
    ASSERT_TRUE(write_keypair_files(*pair, directory_, "node", Overwrite::Refuse).ok());
    ::chmod((directory_ + "/node.key").c_str(), 0644);
    auto secret = read_key_file(directory_ + "/node.key", KeyKind::Secret);
    ASSERT_FALSE(secret.ok());
    EXPECT_NE(secret.error().message.find("chmod 600"), std::string::npos);
}

TEST(AttachSecret_test, IsSixtyFourHexDigitsAndFreshEachTime) {
    const std::string a = generate_attach_secret();
    const std::string b = generate_attach_secret();
    EXPECT_EQ(a.size(), 64u);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a, b);
    EXPECT_TRUE(secrets_equal(a, a));
    EXPECT_FALSE(secrets_equal(a, b));
    EXPECT_FALSE(secrets_equal("", ""));
}

}  // namespace
}  // namespace dhub::broker
