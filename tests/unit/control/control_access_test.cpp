// SPDX-License-Identifier: Apache-2.0
// The TCP control allowlist: who may connect, with which role, and what each role may send.
#include <gtest/gtest.h>

#include <string>

#include "dhub/control/control_access.hpp"

namespace dhub::control {
namespace {

const std::string KEY_A = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const std::string KEY_B = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

TEST(ControlAccess, ReadsClientsWithTheirRoles) {
    const auto access = ControlAccess::parse(R"({"clients": [
        {"public_key": ")" + KEY_A + R"(", "name": "operator", "role": "admin"},
        {"public_key": ")" + KEY_B + R"(", "role": "monitor"}]})");
    ASSERT_TRUE(access) << access.error().message;
    ASSERT_EQ(access.value().size(), 2u);
    const AllowedController* admin = access.value().find(KEY_A);
    ASSERT_NE(admin, nullptr);
    EXPECT_EQ(admin->name, "operator");
    EXPECT_EQ(admin->role, Role::Admin);
    const AllowedController* monitor = access.value().find(KEY_B);
    ASSERT_NE(monitor, nullptr);
    EXPECT_EQ(monitor->role, Role::Monitor);
    EXPECT_EQ(monitor->name, KEY_B.substr(0, 8)) << "a client without a name is named by its key";
    EXPECT_EQ(access.value().find("x"), nullptr);
}

TEST(ControlAccess, RefusesWhatItCannotReadSayingWhere) {
    struct Case {
        std::string text;
        std::string says;
    };
    const std::vector<Case> cases = {
        {"", "not valid JSON"},
        {"[]", "expected {\"clients\""},
        {R"({"clients": [], "extra": 1})", "expected {\"clients\""},
        {R"({"clients": [3]})", "/clients/0 is not an object"},
        {R"({"clients": [{"public_key": "short", "role": "admin"}]})", "/clients/0/public_key must be"},
        {R"({"clients": [{"public_key": ")" + KEY_A + R"("}]})", "/clients/0/role must be"},
        {R"({"clients": [{"public_key": ")" + KEY_A + R"(", "role": "root"}]})", "/clients/0/role must be"},
        {R"({"clients": [{"public_key": ")" + KEY_A + R"(", "role": "admin", "rol": "x"}]})",
         "/clients/0/rol is not a known key"},
        {R"({"clients": [{"public_key": ")" + KEY_A + R"(", "role": "admin", "name": 5}]})", "/clients/0/name must be"},
        {R"({"clients": [{"public_key": ")" + KEY_A + R"(", "role": "admin"}, {"public_key": ")" + KEY_A +
             R"(", "role": "monitor"}]})",
         "/clients/1 repeats public key"},
    };
    for (const Case& c : cases) {
        const auto access = ControlAccess::parse(c.text, "allow.json");
        ASSERT_FALSE(access) << c.text;
        EXPECT_NE(access.error().message.find(c.says), std::string::npos) << access.error().message;
        EXPECT_NE(access.error().message.find("allow.json"), std::string::npos);
    }
    EXPECT_FALSE(ControlAccess::load("/no/such/allow.json"));
}

TEST(ControlAccess, AMonitorMayOnlyRead) {
    for (const Command command : {Command::Hello, Command::Status, Command::Events, Command::Subscribe}) {
        EXPECT_TRUE(permits(Role::Monitor, command)) << to_string(command);
        EXPECT_TRUE(permits(Role::Admin, command)) << to_string(command);
    }
    for (const Command command : {Command::Pause, Command::Resume, Command::Stop, Command::Swap}) {
        EXPECT_FALSE(permits(Role::Monitor, command)) << to_string(command);
        EXPECT_TRUE(permits(Role::Admin, command)) << to_string(command);
    }
}

}  // namespace
}  // namespace dhub::control
