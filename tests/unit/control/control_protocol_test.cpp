// SPDX-License-Identifier: Apache-2.0
// The control protocol's decoder (docs/control.md): every well-formed request is read as meant, every other
// input is refused with a code and a message naming what is wrong, and no input at all — random bytes,
// mutated requests, huge ones — makes it throw or crash (a fuzz of a hundred thousand inputs).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "dhub/control/control_protocol.hpp"

namespace dhub::control {
namespace {

Refusal refusal_of(std::string_view bytes) {
    const Decoded decoded = decode_request(bytes);
    EXPECT_FALSE(decoded.ok()) << bytes;
    return decoded.ok() ? Refusal{} : decoded.refusal();
}

TEST(ControlProtocol, AWellFormedRequestIsReadAsMeant) {
    const Decoded pause = decode_request(R"({"v": 1, "cmd": "pause", "node": "scale", "id": 7})");
    ASSERT_TRUE(pause.ok()) << pause.refusal().message;
    EXPECT_EQ(pause.request().command, Command::Pause);
    EXPECT_EQ(pause.request().node, "scale");
    EXPECT_EQ(pause.request().id, 7);
    const Decoded stop = decode_request(R"({"cmd": "stop", "v": 1})");
    ASSERT_TRUE(stop.ok());
    EXPECT_EQ(stop.request().command, Command::Stop);
    EXPECT_TRUE(stop.request().id.is_null());
    EXPECT_TRUE(decode_request(R"({"v": 1, "cmd": "hello", "id": "abc"})").ok());
    EXPECT_TRUE(decode_request(R"({"v": 1, "cmd": "status"})").ok());
    EXPECT_TRUE(decode_request(R"({"v": 1, "cmd": "resume", "node": "n"})").ok());
    const Decoded events = decode_request(R"({"v": 1, "cmd": "events", "since": 41})");
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events.request().command, Command::Events);
    EXPECT_EQ(events.request().since, 41u);
    EXPECT_EQ(decode_request(R"({"v": 1, "cmd": "events"})").request().since, 0u);
    EXPECT_EQ(decode_request(R"({"v": 1, "cmd": "subscribe"})").request().command, Command::Subscribe);
    const Decoded swap = decode_request(
        R"({"v": 1, "cmd": "swap", "node": "reduce", "plugin": "decimate", "component": "dhub.stage.decimate",
            "params": {"factor": 2}})");
    ASSERT_TRUE(swap.ok()) << swap.refusal().message;
    EXPECT_EQ(swap.request().command, Command::Swap);
    EXPECT_EQ(swap.request().node, "reduce");
    EXPECT_EQ(swap.request().plugin, "decimate");
    EXPECT_EQ(swap.request().component, "dhub.stage.decimate");
    EXPECT_EQ(swap.request().params, nlohmann::json({{"factor", 2}}));
    const Decoded keeps_params = decode_request(R"({"v": 1, "cmd": "swap", "node": "n", "plugin": "scale"})");
    ASSERT_TRUE(keeps_params.ok());
    EXPECT_TRUE(keeps_params.request().params.is_null()) << "no params: the node keeps its own";
    EXPECT_TRUE(keeps_params.request().component.empty());
    EXPECT_TRUE(changes_graph(Command::Swap));
    const Decoded get = decode_request(R"({"v": 1, "cmd": "params", "node": "scale"})");
    ASSERT_TRUE(get.ok());
    EXPECT_EQ(get.request().command, Command::Params);
    EXPECT_FALSE(changes_graph(Command::Params)) << "a monitor may read parameters";
    const Decoded set =
        decode_request(R"({"v": 1, "cmd": "set_param", "node": "scale", "name": "gain", "value": 2.5})");
    ASSERT_TRUE(set.ok()) << set.refusal().message;
    EXPECT_EQ(set.request().name, "gain");
    EXPECT_EQ(set.request().value, 2.5);
    EXPECT_TRUE(changes_graph(Command::SetParam));
    EXPECT_TRUE(decode_request(R"({"v": 1, "cmd": "set_param", "node": "n", "name": "label", "value": "x"})").ok());
    EXPECT_TRUE(decode_request(R"({"v": 1, "cmd": "set_param", "node": "n", "name": "on", "value": false})").ok());
    const Decoded add = decode_request(
        R"({"v": 1, "cmd": "add", "spec": {"id": "rec", "plugin": "recorder", "inputs": ["raw"]},
            "channels": [{"name": "half"}]})");
    ASSERT_TRUE(add.ok()) << add.refusal().message;
    EXPECT_EQ(add.request().command, Command::Add);
    EXPECT_EQ(add.request().spec["id"], "rec");
    EXPECT_EQ(add.request().channels, nlohmann::json::parse(R"([{"name": "half"}])"));
    EXPECT_TRUE(decode_request(R"({"v": 1, "cmd": "add", "spec": {}})").request().channels.is_null())
        << "no channels: the node writes none of its own (the kernel checks the rest of the spec)";
    EXPECT_TRUE(changes_graph(Command::Add));
    const Decoded remove = decode_request(R"({"v": 1, "cmd": "remove", "node": "rec"})");
    ASSERT_TRUE(remove.ok());
    EXPECT_EQ(remove.request().command, Command::Remove);
    EXPECT_EQ(remove.request().node, "rec");
    EXPECT_TRUE(changes_graph(Command::Remove));
}

TEST(ControlProtocol, EveryOtherInputIsRefusedWithItsCodeAndWhatIsWrong) {
    struct Case {
        std::string input;
        std::string code;
        std::string says;
    };
    const std::vector<Case> cases = {
        {"", "malformed", "not JSON"},
        {"{", "malformed", "not JSON"},
        {"[1, 2]", "malformed", "must be a JSON object"},
        {R"("pause")", "malformed", "must be a JSON object"},
        {R"({"cmd": "pause", "node": "x"})", "bad_argument", "\"v\""},
        {R"({"v": "1", "cmd": "stop"})", "bad_argument", "\"v\""},
        {R"({"v": 2, "cmd": "stop"})", "unsupported_version", "protocol version 2"},
        {R"({"v": 1})", "bad_argument", "\"cmd\" is missing"},
        {R"({"v": 1, "cmd": 3})", "bad_argument", "\"cmd\" is missing or not a string"},
        {R"({"v": 1, "cmd": "reboot"})", "unknown_command", "unknown command \"reboot\""},
        {R"({"v": 1, "cmd": "pause"})", "bad_argument", "\"pause\" needs \"node\""},
        {R"({"v": 1, "cmd": "pause", "node": ""})", "bad_argument", "\"node\" must be"},
        {R"({"v": 1, "cmd": "pause", "node": 5})", "bad_argument", "\"node\" must be"},
        {R"({"v": 1, "cmd": "pause", "nod": "x"})", "bad_argument", "takes no \"nod\""},
        {R"({"v": 1, "cmd": "stop", "node": "x"})", "bad_argument", "\"stop\" takes no \"node\""},
        {R"({"v": 1, "cmd": "stop", "id": [1]})", "bad_argument", "\"id\" must be"},
        {R"({"v": 1, "cmd": "events", "since": -1})", "bad_argument", "\"since\" must be"},
        {R"({"v": 1, "cmd": "events", "since": "5"})", "bad_argument", "\"since\" must be"},
        {R"({"v": 1, "cmd": "pause", "node": "x", "since": 1})", "bad_argument", "takes no \"since\""},
        {R"({"v": 1, "cmd": "subscribe", "node": "x"})", "bad_argument", "\"subscribe\" takes no \"node\""},
        {R"({"v": 1, "cmd": "swap", "node": "n"})", "bad_argument", "\"swap\" needs \"plugin\""},
        {R"({"v": 1, "cmd": "swap", "plugin": "scale"})", "bad_argument", "\"swap\" needs \"node\""},
        {R"({"v": 1, "cmd": "swap", "node": "n", "plugin": ""})", "bad_argument", "\"plugin\" must be a name"},
        {R"({"v": 1, "cmd": "swap", "node": "n", "plugin": "../../tmp/evil"})", "bad_argument", "\"plugin\" must be"},
        {R"({"v": 1, "cmd": "swap", "node": "n", "plugin": 3})", "bad_argument", "\"plugin\" must be"},
        {R"({"v": 1, "cmd": "swap", "node": "n", "plugin": "p", "component": "a b"})", "bad_argument",
         "\"component\" must be"},
        {R"({"v": 1, "cmd": "swap", "node": "n", "plugin": "p", "params": [1]})", "bad_argument",
         "\"params\" must be a JSON object"},
        {R"({"v": 1, "cmd": "swap", "node": "n", "plugin": "p", "since": 1})", "bad_argument", "takes no \"since\""},
        {R"({"v": 1, "cmd": "pause", "node": "n", "plugin": "p"})", "bad_argument", "takes no \"plugin\""},
        {R"({"v": 1, "cmd": "params"})", "bad_argument", "\"params\" needs \"node\""},
        {R"({"v": 1, "cmd": "params", "node": "n", "name": "gain"})", "bad_argument", "takes no \"name\""},
        {R"({"v": 1, "cmd": "set_param", "node": "n", "name": "gain"})", "bad_argument",
         "needs \"name\" and \"value\""},
        {R"({"v": 1, "cmd": "set_param", "node": "n", "value": 1})", "bad_argument", "needs \"name\" and \"value\""},
        {R"({"v": 1, "cmd": "set_param", "node": "n", "name": "", "value": 1})", "bad_argument", "\"name\" must be"},
        {R"({"v": 1, "cmd": "set_param", "node": "n", "name": "g", "value": null})", "bad_argument",
         "\"value\" must be"},
        {R"({"v": 1, "cmd": "set_param", "node": "n", "name": "g", "value": [1]})", "bad_argument",
         "\"value\" must be"},
        {R"({"v": 1, "cmd": "set_param", "node": "n", "name": "g", "value": {"a": 1}})", "bad_argument",
         "\"value\" must be"},
        {R"({"v": 1, "cmd": "add"})", "bad_argument", "\"add\" needs \"spec\""},
        {R"({"v": 1, "cmd": "add", "spec": "rec"})", "bad_argument", "\"spec\" must be a JSON object"},
        {R"({"v": 1, "cmd": "add", "spec": {}, "channels": {}})", "bad_argument", "\"channels\" must be a JSON array"},
        {R"({"v": 1, "cmd": "add", "spec": {}, "node": "x"})", "bad_argument", "\"add\" takes no \"node\""},
        {R"({"v": 1, "cmd": "remove"})", "bad_argument", "\"remove\" needs \"node\""},
        {R"({"v": 1, "cmd": "remove", "node": "x", "spec": {}})", "bad_argument", "takes no \"spec\""},
        {std::string(MAX_REQUEST_BYTES + 1, ' '), "malformed", "at most"},
        {"{\"v\": 1, \"cmd\": \"pause\", \"node\": \"\xff\xfe\"}", "malformed", "not JSON"},  // not UTF-8
    };
    for (const Case& c : cases) {
        const Refusal refusal = refusal_of(c.input);
        EXPECT_EQ(refusal.code, c.code) << c.input.substr(0, 80);
        EXPECT_NE(refusal.message.find(c.says), std::string::npos)
            << c.input.substr(0, 80) << " -> " << refusal.message;
    }
    // The id of a request refused past its reading comes back, so the client knows which one it was.
    EXPECT_EQ(refusal_of(R"({"v": 1, "cmd": "reboot", "id": 9})").id, 9);
}

TEST(ControlProtocol, RepliesAreJsonObjectsWithTheVersionTheOutcomeAndTheId) {
    const auto reply = nlohmann::json::parse(encode_reply(4, {{"node", "scale"}}));
    EXPECT_EQ(reply["v"], PROTOCOL_VERSION);
    EXPECT_EQ(reply["ok"], true);
    EXPECT_EQ(reply["id"], 4);
    EXPECT_EQ(reply["node"], "scale");
    const auto refused = nlohmann::json::parse(encode_refusal({"refused", "node 'x' is paused", "a"}));
    EXPECT_EQ(refused["ok"], false);
    EXPECT_EQ(refused["id"], "a");
    EXPECT_EQ(refused["error"]["code"], "refused");
    EXPECT_EQ(refused["error"]["message"], "node 'x' is paused");
}

/// Random bytes, and well-formed requests with bytes flipped, cut, repeated or spliced: each is decoded or
/// refused, and a refusal always has a code and a message.
TEST(ControlProtocol, FuzzedInputsAreAlwaysDecodedOrRefusedNeverThrown) {
    std::mt19937_64 random(20261206);
    const std::vector<std::string> seeds = {
        R"({"v": 1, "cmd": "pause", "node": "scale", "id": 7})",
        R"({"v": 1, "cmd": "stop"})",
        R"({"v": 1, "cmd": "status", "id": "x"})",
        R"({"v": 1, "cmd": "resume", "node": "a"})",
        R"({"v": 1, "cmd": "events", "since": 12})",
        R"({"v": 1, "cmd": "swap", "node": "s", "plugin": "decimate", "params": {"factor": 2}})",
        R"({"v": 1, "cmd": "add", "spec": {"id": "r", "plugin": "recorder", "inputs": ["raw"]}, "channels": []})",
        R"({"v": 1, "cmd": "remove", "node": "r"})",
        R"({"v": 1, "cmd": "set_param", "node": "s", "name": "gain", "value": 2.5})",
        R"({"v": 1, "cmd": "params", "node": "s"})"};
    std::size_t accepted = 0;
    for (int round = 0; round < 100'000; ++round) {
        std::string input;
        const auto choice = random() % 4;
        if (choice == 0) {
            input.resize(random() % 256);
            for (char& byte : input)
                byte = static_cast<char>(random());
        } else {
            input = seeds[random() % seeds.size()];
            const std::size_t edits = 1 + random() % 4;
            for (std::size_t e = 0; e < edits && !input.empty(); ++e) {
                const std::size_t at = random() % input.size();
                switch (random() % 4) {
                    case 0:
                        input[at] = static_cast<char>(random());
                        break;
                    case 1:
                        input.erase(at, 1 + random() % 8);
                        break;
                    case 2:
                        input.insert(at, input.substr(0, random() % input.size()));
                        break;
                    default:
                        input.insert(at, 1, "{}[]\",:0\\"[random() % 10]);
                        break;
                }
            }
        }
        const Decoded decoded = decode_request(input);
        if (decoded.ok()) {
            ++accepted;
            continue;
        }
        ASSERT_FALSE(decoded.refusal().code.empty()) << input;
        ASSERT_FALSE(decoded.refusal().message.empty()) << input;
        ASSERT_NO_THROW((void)encode_refusal(decoded.refusal())) << input;
    }
    EXPECT_GT(accepted, 0u) << "some mutations are still requests (a flipped id digit): the fuzz reaches the end";
}

}  // namespace
}  // namespace dhub::control
