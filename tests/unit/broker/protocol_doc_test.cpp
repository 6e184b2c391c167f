// SPDX-License-Identifier: Apache-2.0
// docs/protocol.md must name every message type, field, error code and notice event the code knows: the
// seed's docs drifted from its code (reference.md §4 item 8); this keeps ours from doing the same.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dhub/broker/message.hpp"

namespace dhub::broker {
namespace {

std::string protocol_doc() {
    std::ifstream in(DHUB_PROTOCOL_DOC);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(ProtocolDoc_test, NamesEveryMessageTypeAndField) {
    const std::string doc = protocol_doc();
    ASSERT_FALSE(doc.empty()) << "cannot read " << DHUB_PROTOCOL_DOC;
    for (int raw = 1; raw <= static_cast<int>(MessageType::Notice); ++raw) {
        const auto type = static_cast<MessageType>(raw);
        EXPECT_NE(doc.find("`" + std::string(to_wire(type)) + "`"), std::string::npos) << to_wire(type);
    }
    for (const auto& field : field_table()) {
        EXPECT_NE(doc.find("`" + std::string(field.name) + "`"), std::string::npos)
            << to_wire(field.type) << "." << field.name;
    }
}

TEST(ProtocolDoc_test, NamesEveryErrorCodeAndNoticeEvent) {
    const std::string doc = protocol_doc();
    for (const std::string_view code :
         {error_code::MALFORMED, error_code::VERSION_MISMATCH, error_code::UNKNOWN_TYPE, error_code::HELLO_REQUIRED,
          error_code::NOT_FOUND, error_code::ALREADY_REGISTERED, error_code::SCHEMA_MISMATCH,
          error_code::NOT_AUTHORIZED, error_code::NOT_OWNER, error_code::LIMIT_EXCEEDED, notice_event::PRODUCER_DIED,
          notice_event::CONSUMER_DIED, notice_event::CHANNEL_CLOSED, notice_event::CHANNEL_ERROR}) {
        EXPECT_NE(doc.find("`" + std::string(code) + "`"), std::string::npos) << code;
    }
}

}  // namespace
}  // namespace dhub::broker
