// SPDX-License-Identifier: Apache-2.0
// The kernel <-> dhub-node-host control link: messages arrive whole, garbage is refused with what came and
// never crashes the reader, a closed peer is told apart, and reports survive the trip.
#include "host_link.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

namespace dhub::runtime {
namespace {

using namespace std::chrono_literals;

std::pair<HostLink, HostLink> linked() {
    auto links = HostLink::pair();
    if (!links) throw std::runtime_error(links.error().message);
    return std::move(links.value());
}

TEST(HostLink, CarriesOneMessagePerPacket) {
    auto [kernel, host] = linked();
    ASSERT_TRUE(host.send({{"t", host_message::BEAT}, {"progress", 7}}));
    ASSERT_TRUE(host.send({{"t", host_message::READY}}));
    auto first = kernel.receive(1s);
    ASSERT_TRUE(first && *first);
    EXPECT_EQ(first->value()["t"], "beat");
    EXPECT_EQ(first->value()["progress"], 7);
    auto second = kernel.receive(1s);
    ASSERT_TRUE(second && *second);
    EXPECT_EQ(second->value()["t"], "ready");
    EXPECT_FALSE(kernel.receive(10ms));  // nothing more: a timeout, not an error
}

TEST(HostLink, GarbageIsRefusedNamingWhatCameAndTheLinkGoesOn) {
    auto [kernel, host] = linked();
    for (const std::string& garbage : {std::string("\x00\xff{{", 4), std::string("[1,2,3]"),
                                       std::string(R"({"no_type": 1})"), std::string(R"({"t": 5})"), std::string()}) {
        ASSERT_GE(::send(host.fd(), garbage.data(), garbage.size(), 0), 0);
    }
    for (int i = 0; i < 4; ++i) {
        auto received = kernel.receive(1s);
        ASSERT_TRUE(received);
        ASSERT_FALSE(*received);
        EXPECT_EQ(received->error().code, ErrorCode::Incompatible);
        EXPECT_NE(received->error().message.find("not a message"), std::string::npos) << received->error().message;
    }
    auto empty = kernel.receive(1s);  // an empty packet is not a message either (and not a closed peer)
    ASSERT_TRUE(empty);
    ASSERT_FALSE(*empty);
    EXPECT_EQ(empty->error().code, ErrorCode::NotFound);
    ASSERT_TRUE(host.send({{"t", host_message::END}}));
    auto good = kernel.receive(1s);
    ASSERT_TRUE(good && *good);
    EXPECT_EQ(good->value()["t"], "end");
}

TEST(HostLink, OversizedPacketIsRefusedWithItsSize) {
    auto [kernel, host] = linked();
    int size = static_cast<int>(2 * MAX_HOST_PACKET);
    ASSERT_EQ(::setsockopt(host.fd(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
    ASSERT_EQ(::setsockopt(kernel.fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size), 0);
    const std::string big(MAX_HOST_PACKET + 100, 'x');
    if (::send(host.fd(), big.data(), big.size(), 0) < 0) GTEST_SKIP() << "the socket refuses a packet this big";
    auto received = kernel.receive(1s);
    ASSERT_TRUE(received);
    ASSERT_FALSE(*received);
    EXPECT_NE(received->error().message.find(std::to_string(big.size()) + " bytes"), std::string::npos)
        << received->error().message;
    EXPECT_FALSE(host.send({{"t", "beat"}, {"padding", big}}));  // the sender refuses one itself
}

TEST(HostLink, ClosedPeerIsNotFound) {
    auto [kernel, host] = linked();
    host.close();
    auto received = kernel.receive(1s);
    ASSERT_TRUE(received);
    ASSERT_FALSE(*received);
    EXPECT_EQ(received->error().code, ErrorCode::NotFound);
    EXPECT_FALSE(kernel.send({{"t", host_message::STOP}}));
}

TEST(HostLink, ReportsSurviveTheTripAndWrongFieldsReadAsZero) {
    NodeReport report;
    report.id = "stage";
    report.component = "test.stage.crashy";
    report.handled = 41;
    report.slots_in = 42;
    report.burst_calls = 3;
    report.end_reason = EndReason::InputClosed;
    report.end_detail = "input 'raw' closed";
    report.pacing = {250.0, 100, 2, 3, 4'000'000, 9'000'000};
    const NodeReport back = node_report_from_json(to_json(report));
    EXPECT_EQ(back.pacing.rate_hz, 250.0);
    EXPECT_EQ(back.pacing.ticks, 100u);
    EXPECT_EQ(back.pacing.late_ticks, 2u);
    EXPECT_EQ(back.pacing.skipped_ticks, 3u);
    EXPECT_EQ(back.pacing.max_lateness_ns, 4'000'000u);
    EXPECT_EQ(back.pacing.total_lateness_ns, 9'000'000u);
    EXPECT_EQ(to_json(report)["pacing"]["mean_lateness_ns"], 90'000u);
    EXPECT_TRUE(to_json(NodeReport{})["pacing"].is_null());  // a node without pacing
    EXPECT_EQ(back.id, "stage");
    EXPECT_EQ(back.handled, 41u);
    EXPECT_EQ(back.slots_in, 42u);
    EXPECT_EQ(back.burst_calls, 3u);
    EXPECT_EQ(back.end_reason, EndReason::InputClosed);
    EXPECT_EQ(back.end_detail, "input 'raw' closed");

    const NodeReport odd = node_report_from_json({{"handled", "many"}, {"errors", -3}, {"end_reason", "sideways"}});
    EXPECT_EQ(odd.handled, 0u);
    EXPECT_EQ(odd.errors, 0u);
    EXPECT_EQ(odd.end_reason, EndReason::Running);
    EXPECT_EQ(node_report_from_json(nlohmann::json::array()).handled, 0u);

    ValidatorReport judged{"raw", "tenth", "drop", "", 100, 10, {{"nth", 10}}};
    const auto validators = validator_reports_from_json(to_json(std::vector<ValidatorReport>{judged}));
    ASSERT_EQ(validators.size(), 1u);
    EXPECT_EQ(validators[0].judged, 100u);
    EXPECT_EQ(validators[0].reasons.at("nth"), 10u);
    EXPECT_TRUE(validator_reports_from_json({{"not", "a list"}}).empty());
}

TEST(EndReason, NamesReadBackAsThemselves) {
    for (int value = 0; value <= static_cast<int>(EndReason::Hung); ++value) {
        const auto reason = static_cast<EndReason>(value);
        EXPECT_EQ(end_reason_from_string(to_string(reason)), reason) << to_string(reason);
    }
    EXPECT_STREQ(to_string(EndReason::Hung), "watchdog");
    EXPECT_STREQ(to_string(EndReason::Crashed), "crashed");
}

}  // namespace
}  // namespace dhub::runtime
