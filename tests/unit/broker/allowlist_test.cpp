// SPDX-License-Identifier: Apache-2.0
#include "dhub/broker/allowlist.hpp"

#include <gtest/gtest.h>

namespace dhub::broker {
namespace {

constexpr const char* KEY = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

std::string document(const std::string& entry) {
    return R"({"clients": [)" + entry + "]}";
}

TEST(Allowlist_test, ParsesKeysRolesAndGlobs) {
    auto sut = Allowlist::parse(document(R"({"public_key": ")" + std::string(KEY) +
                                         R"(", "name": "cam", "produce": ["cam*"], "consume": ["*"]})"));
    ASSERT_TRUE(sut.ok()) << sut.error().message;
    ASSERT_NE(sut->find(KEY), nullptr);
    EXPECT_EQ(sut->find(KEY)->name, "cam");
    EXPECT_TRUE(sut->permits(KEY, Role::Produce, "cam0"));
    EXPECT_FALSE(sut->permits(KEY, Role::Produce, "mic0"));
    EXPECT_TRUE(sut->permits(KEY, Role::Consume, "anything"));
    EXPECT_FALSE(sut->permits("unknown-key", Role::Consume, "anything"));
}

TEST(Allowlist_test, AbsentRoleListMeansNothingOfThatRole) {
    auto sut = Allowlist::parse(document(R"({"public_key": ")" + std::string(KEY) + R"("})"));
    ASSERT_TRUE(sut.ok());
    EXPECT_FALSE(sut->permits(KEY, Role::Produce, "cam0"));
    EXPECT_FALSE(sut->permits(KEY, Role::Consume, "cam0"));
}

TEST(Allowlist_test, RefusesMalformedFilesNamingTheEntry) {
    const std::pair<std::string, std::string> cases[] = {
        {"not json", "not valid JSON"},
        {R"({"client": []})", "expected {\"clients\""},
        {document(R"({"public_key": "short"})"), "clients[0].public_key"},
        {document(R"({"public_key": ")" + std::string(KEY) + R"(", "produce": "cam*"})"),
         "\"produce\" must be an array"},
        {document(R"({"public_key": ")" + std::string(KEY) + R"(", "consume": [1]})"), "\"consume\" must hold"},
        {document(R"({"public_key": ")" + std::string(KEY) + R"("}, {"public_key": ")" + std::string(KEY) + R"("})"),
         "repeats public key"},
    };
    for (const auto& [text, mentions] : cases) {
        auto sut = Allowlist::parse(text, "test.json");
        ASSERT_FALSE(sut.ok()) << text;
        EXPECT_NE(sut.error().message.find(mentions), std::string::npos) << sut.error().message;
        EXPECT_NE(sut.error().message.find("test.json"), std::string::npos);
    }
}

}  // namespace
}  // namespace dhub::broker
