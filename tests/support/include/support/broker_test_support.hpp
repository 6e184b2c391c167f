// SPDX-License-Identifier: Apache-2.0
// Shared by the broker tests: valid message bodies to start from, and frame helpers.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dhub/broker/broker_client.hpp"
#include "dhub/broker/codec.hpp"

namespace dhub::broker::testing {

inline const std::string SCHEMA_A = "aa11aa11aa11aa11aa11aa11aa11aa11";
inline const std::string SCHEMA_B = "bb22bb22bb22bb22bb22bb22bb22bb22";
inline const std::string SECRET = std::string(64, 'c');

inline nlohmann::json identity(std::uint32_t pid, const std::string& name = "proc") {
    return nlohmann::json{{"pid", pid}, {"start_ticks", 1000 + pid}, {"name", name}};
}

inline nlohmann::json register_channel_body(const std::string& name,
                                            const std::string& schema = SCHEMA_A,
                                            std::uint32_t pid = 100) {
    return nlohmann::json{{"name", name},
                          {"segment", "/dhub1.test." + name},
                          {"layout_version", 1},
                          {"schema_hash", schema},
                          {"policies", {{"delivery", "latest"}}},
                          {"producer", identity(pid, "producer")},
                          {"slot_bytes", 4096},
                          {"slot_count", 8},
                          {"attach_secret", SECRET}};
}

inline nlohmann::json hello_body(const std::string& name = "tester") {
    return nlohmann::json{
        {"protocol_major", PROTOCOL_MAJOR}, {"protocol_minor", PROTOCOL_MINOR}, {"name", name}, {"role", "test"}};
}

inline ChannelRegistration channel_registration(const std::string& name,
                                                const std::string& schema = SCHEMA_A,
                                                std::uint32_t pid = 100) {
    ChannelRegistration registration;
    registration.name = name;
    registration.segment = "/dhub1.test." + name;
    registration.layout_version = 1;
    registration.schema_hash = schema;
    registration.policies = {{"delivery", "latest"}};
    registration.producer = ProcessTag{pid, 1000u + pid, "producer"};
    registration.slot_bytes = 4096;
    registration.slot_count = 8;
    registration.attach_secret = generate_attach_secret();
    return registration;
}

/// decode() over owned frames.
inline Decoded decode_frames(const std::vector<std::string>& frames) {
    std::vector<std::string_view> views(frames.begin(), frames.end());
    return decode(views);
}

inline std::vector<std::string> frames_of(const Message& message) {
    const Frames frames = encode(message);
    return {frames.begin(), frames.end()};
}

/// Collects the notices a client receives (on its background thread) for the test thread to look at.
struct NoticeLog {
    std::mutex mutex;
    std::vector<Notice> notices;
    NoticeHandler handler() {
        return [this](const Notice& notice) {
            std::lock_guard lock(mutex);
            notices.push_back(notice);
        };
    }
    bool has(const std::string& event, const std::string& channel) {
        std::lock_guard lock(mutex);
        for (const auto& notice : notices) {
            if (notice.event == event && notice.channel == channel) return true;
        }
        return false;
    }
};

}  // namespace dhub::broker::testing
