// SPDX-License-Identifier: Apache-2.0
// The harness itself, driven with small components compiled into this test (dhub::sdk::component<T>()),
// so that a broken harness is not mistaken for a broken plugin.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "dhub/sdk/plugin.hpp"
#include "dhub/sdk/testing/harness.hpp"

namespace {

using dhub::sdk::testing::Frame;
using dhub::sdk::testing::Harness;
using dhub::sdk::testing::HarnessError;
using dhub::sdk::testing::ManualClock;
using dhub::sdk::testing::ParamValue;

constexpr std::uint64_t ONE_MS_NS = 1'000'000;

struct Sample {
    double value;
    std::uint64_t tick;
};

struct Flex {
    std::uint32_t generation;
};

class TestSource : public dhub::sdk::Source<Sample, Flex> {
public:
    static constexpr const char* id = "test.source.ticks";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "ticks every period_ms";
    static constexpr const char* params_schema = R"json([
{"name":"step","type":"number","default":1.5},
{"name":"period_ms","type":"integer","default":10,"min":1,"max":1000},
{"name":"label","type":"string","default":"a \"quoted\" label","enum":["a \"quoted\" label","plain"]},
{"name":"verbose","type":"boolean","default":false},
{"name":"name","type":"string","doc":"required: no default"}
])json";

    explicit TestSource(dhub::sdk::NodeContext& context)
        : step_(context.params().number("step")),
          period_ns_(static_cast<std::uint64_t>(context.params().integer("period_ms")) * ONE_MS_NS) {
        context.log().info("created " + std::string(context.params().string("name")));
    }
    void start(dhub::sdk::NodeContext& context) {
        (void)context.flex<Flex>(dhub::sdk::Direction::Output).write(Flex{7});
        (void)context.send_message(dhub::sdk::Direction::Output, 0, "hello");
    }
    dhub_status produce(dhub::sdk::NodeContext& context, dhub::sdk::OutputSlot<Sample>& out) {
        if (next_ns_ == 0) next_ns_ = context.now_ns();
        if (const dhub_status status = context.sleep_until(next_ns_); status != DHUB_OK) return status;
        value_ += step_;
        out.value() = Sample{value_, tick_++};
        out.set_timestamp_ns(next_ns_);
        next_ns_ += period_ns_;
        return DHUB_OK;
    }

private:
    double step_;
    std::uint64_t period_ns_;
    std::uint64_t next_ns_ = 0;
    double value_ = 0;
    std::uint64_t tick_ = 0;
};

// Writes one byte more than its slot holds: the harness must notice.
class OverrunSource : public dhub::sdk::Source<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "test.source.overrun";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "writes past its slot";
    dhub_status produce(dhub::sdk::NodeContext&, dhub::sdk::OutputSlot<dhub::sdk::Bytes>& out) {
        std::memset(out.bytes().data(), 1, out.bytes().size() + 1);
        return DHUB_OK;
    }
};

// Queue mode: copies every input frame to its output, doubling each byte, until end of stream.
class DoublingQueueStage : public dhub::sdk::QueueComponent<DHUB_KIND_STAGE> {
public:
    static constexpr const char* id = "test.stage.doubling";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "doubles bytes in queue mode";
    dhub_status run(dhub::sdk::NodeContext& context) {
        while (true) {
            std::vector<std::uint8_t> copy;
            std::uint64_t timestamp_ns = 0;
            const dhub_status pulled = context.input<dhub::sdk::Bytes>().pull([&](const auto& in) {
                for (const std::byte value : in.bytes())
                    copy.push_back(static_cast<std::uint8_t>(2 * std::to_integer<unsigned>(value)));
                timestamp_ns = in.timestamp_ns();
            });
            if (pulled != DHUB_OK) return pulled == DHUB_END_OF_STREAM || pulled == DHUB_STOPPING ? DHUB_OK : pulled;
            const dhub_status pushed = context.output<dhub::sdk::Bytes>().push([&](auto& out) {
                std::memcpy(out.bytes().data(), copy.data(), copy.size());
                out.set_bytes(copy.size());
                out.set_timestamp_ns(timestamp_ns);
                return true;
            });
            if (pushed != DHUB_OK) return pushed;
        }
    }
};

// Only burst handlers: fills `fill` of the slots it is offered with a running counter; the C++ layer
// derives its process() (a burst of one) from them.
class BurstOnlySource : public dhub::sdk::Source<std::uint64_t> {
public:
    static constexpr const char* id = "test.source.burst";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "fills a prefix of each burst";
    static constexpr const char* params_schema = R"json([{"name":"fill","type":"integer","default":1000,"min":0},
{"name":"count","type":"integer","default":1000000,"min":1}])json";
    explicit BurstOnlySource(dhub::sdk::NodeContext& context)
        : fill_(static_cast<std::size_t>(context.params().integer("fill"))),
          count_(static_cast<std::uint64_t>(context.params().integer("count"))) {}
    /// Ends the stream in the same call that fills the last value.
    dhub_status produce_burst(dhub::sdk::NodeContext&, dhub::sdk::OutputBurst<std::uint64_t>& out) {
        const std::size_t n = std::min<std::uint64_t>(std::min(fill_, out.size()), count_ - next_);
        for (std::size_t i = 0; i < n; ++i) {
            out[i].value() = next_++;
            out[i].set_bytes(sizeof(std::uint64_t));
        }
        out.set_filled(n);
        return next_ == count_ ? DHUB_END_OF_STREAM : DHUB_OK;
    }

private:
    std::size_t fill_;
    std::uint64_t count_;
    std::uint64_t next_ = 0;
};

class BurstOnlySink : public dhub::sdk::Sink<std::uint64_t> {
public:
    static constexpr const char* id = "test.sink.burst";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "sums what it sees";
    dhub_status consume_burst(dhub::sdk::NodeContext& context, const dhub::sdk::InputBurst<std::uint64_t>& in) {
        for (std::size_t i = 0; i < in.size(); ++i)
            sum_ += in[i].value();
        context.log().info("sum " + std::to_string(sum_) + " after " + std::to_string(in.size()));
        return DHUB_OK;
    }

private:
    std::uint64_t sum_ = 0;
};

/// A sink whose parameters depend on the "script" a node names (SDK 1.3 node_params_schema), as the python
/// plugin's classes do: the harness checks them as `dhub-kernel --validate` does.
class ScriptSink : public dhub::sdk::Sink<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "test.sink.script";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "parameters per script";
    static constexpr const char* params_schema = R"([{"name": "script", "type": "string"}])";

    static std::string node_params_schema(std::string_view params) {
        if (params.find("broken.py") != std::string_view::npos) throw std::runtime_error("broken.py does not compile");
        return R"([{"name": "gain", "type": "number", "min": 0}, {"name": "mode", "type": "string", "default": "a"}])";
    }
    dhub_status consume(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<dhub::sdk::Bytes>&) { return DHUB_OK; }
};

class Harness_test : public ::testing::Test {
protected:
    static constexpr std::uint64_t SAMPLE_BYTES = sizeof(Sample);
};

TEST_F(Harness_test, AppliesDeclaredDefaultsToParamsNotGiven) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}});

    EXPECT_EQ(sut.params().at("step"), ParamValue(1.5));
    EXPECT_EQ(sut.params().at("period_ms"), ParamValue(10));
    EXPECT_EQ(sut.params().at("label"), ParamValue("a \"quoted\" label"));
    EXPECT_EQ(sut.params().at("verbose"), ParamValue(false));
}

TEST_F(Harness_test, HandsTheComponentItsParamsAsJson) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}, {"step", 2}});

    EXPECT_EQ(sut.host().params_json(),
              R"({"label":"a \"quoted\" label","name":"n","period_ms":10,"step":2,"verbose":false})");
}

TEST_F(Harness_test, ConvertsAnIntegerGivenForANumberParam) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}, {"step", 3}});

    EXPECT_EQ(sut.params().at("step").type(), ParamValue::Type::Number);
    EXPECT_EQ(sut.params().at("step").number(), 3.0);
}

TEST_F(Harness_test, RejectsParamsTheKernelWouldReject) {
    const auto* component = dhub::sdk::component<TestSource>();

    EXPECT_THROW(Harness(component, {{"name", "n"}, {"unknown", 1}}), HarnessError);
    EXPECT_THROW(Harness(component, {}), HarnessError);                                   // name is required
    EXPECT_THROW(Harness(component, {{"name", "n"}, {"period_ms", 0}}), HarnessError);    // below min
    EXPECT_THROW(Harness(component, {{"name", "n"}, {"period_ms", 2.5}}), HarnessError);  // not an integer
    EXPECT_THROW(Harness(component, {{"name", "n"}, {"label", "other"}}), HarnessError);  // not in enum
    EXPECT_THROW(Harness(component, {{"name", "n"}, {"verbose", 1}}), HarnessError);      // not a boolean
}

TEST_F(Harness_test, ChecksTheParametersAComponentDeclaresPerNodeAsValidateDoes) {
    const auto* component = dhub::sdk::component<ScriptSink>();
    Harness sut(component, {{"script", "gain.py"}, {"gain", 2}});
    // Checked, and passed on as given: "mode"'s default is the component's to apply, as in a kernel.
    EXPECT_EQ(sut.host().params_json(), R"({"gain":2,"script":"gain.py"})");

    EXPECT_THROW(Harness(component, {{"script", "gain.py"}, {"gain", -1}}), HarnessError);              // below min
    EXPECT_THROW(Harness(component, {{"script", "gain.py"}}), HarnessError);                            // required
    EXPECT_THROW(Harness(component, {{"script", "gain.py"}, {"gain", 1}, {"gian", 1}}), HarnessError);  // unknown
    try {
        Harness refused(component, {{"script", "broken.py"}});
        FAIL() << "expected a HarnessError";
    } catch (const HarnessError& error) {
        EXPECT_NE(std::string(error.what())
                      .find("component 'test.sink.script' refuses these params: broken.py does "
                            "not compile"),
                  std::string::npos)
            << error.what();
    }
}

TEST_F(Harness_test, NamesEveryBadParamInOneError) {
    try {
        Harness sut(dhub::sdk::component<TestSource>(), {{"unknown", 1}, {"period_ms", 0}});
        FAIL() << "expected a HarnessError";
    } catch (const HarnessError& error) {
        const std::string what = error.what();
        EXPECT_NE(what.find("unknown parameter \"unknown\""), std::string::npos) << what;
        EXPECT_NE(what.find("\"name\" is required"), std::string::npos) << what;
        EXPECT_NE(what.find("\"period_ms\": expected integer in [1, 1000], found 0"), std::string::npos) << what;
    }
}

TEST_F(Harness_test, SleepUntilAdvancesTheManualClockInsteadOfSleeping) {
    ManualClock clock;
    const std::uint64_t start_ns = clock.now_ns();
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}}, clock);
    ASSERT_EQ(sut.start(), DHUB_OK);

    for (int frame = 0; frame < 3; ++frame)
        ASSERT_EQ(sut.produce(SAMPLE_BYTES).status, DHUB_OK);

    EXPECT_EQ(clock.now_ns(), start_ns + 2 * 10 * ONE_MS_NS);
    EXPECT_EQ(sut.host().sleep_deadlines(),
              (std::vector<std::uint64_t>{start_ns, start_ns + 10 * ONE_MS_NS, start_ns + 20 * ONE_MS_NS}));
}

TEST_F(Harness_test, CapturesThePublishedSlot) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}, {"step", 0.5}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    (void)sut.produce(SAMPLE_BYTES);
    const auto result = sut.produce(SAMPLE_BYTES);

    ASSERT_EQ(result.status, DHUB_OK);
    ASSERT_EQ(result.output.bytes.size(), SAMPLE_BYTES);
    EXPECT_EQ(result.output.as<Sample>().value, 1.0);
    EXPECT_EQ(result.output.as<Sample>().tick, 1U);
    EXPECT_EQ(result.output.sequence, 1U);
    EXPECT_EQ(result.output.timestamp_ns, sut.clock().now_ns());
}

TEST_F(Harness_test, RecordsLogLinesFlexWritesAndMessages) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "probe"}});

    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_TRUE(sut.has_log(DHUB_LOG_INFO, "created probe"));
    EXPECT_EQ(sut.host().read_flex_value<Flex>(dhub::sdk::Direction::Output, 0)->generation, 7U);
    ASSERT_EQ(sut.host().messages().size(), 1U);
    EXPECT_EQ(sut.host().messages()[0].text, "hello");
}

TEST_F(Harness_test, ReturnsStoppingFromSleepOnceStopIsRequested) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    sut.request_stop();

    EXPECT_EQ(sut.produce(SAMPLE_BYTES).status, DHUB_STOPPING);
}

TEST_F(Harness_test, OnSleepHookCanStopTheNodeMidRun) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}});
    int sleeps = 0;
    sut.host().on_sleep([&](std::uint64_t) {
        if (++sleeps == 2) sut.request_stop();
    });
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.produce(SAMPLE_BYTES).status, DHUB_OK);
    EXPECT_EQ(sut.produce(SAMPLE_BYTES).status, DHUB_STOPPING);
}

TEST_F(Harness_test, TooSmallSlotForTheSlotStructBecomesAnErrorStatus) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.produce(SAMPLE_BYTES - 1).status, DHUB_ERR_SCHEMA_MISMATCH);
    EXPECT_EQ(sut.host().log_count(DHUB_LOG_ERROR), 1U);
}

TEST_F(Harness_test, DetectsAComponentWritingPastItsSlot) {
    Harness sut(dhub::sdk::component<OverrunSource>());
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_THROW((void)sut.produce(16), HarnessError);
}

TEST_F(Harness_test, RefusesHandlersOfAnotherKind) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}});
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_THROW((void)sut.consume(Frame{}), HarnessError);
    EXPECT_THROW((void)sut.validate(Frame{}), HarnessError);
    EXPECT_THROW((void)sut.run(), HarnessError);
}

TEST_F(Harness_test, RequiresStartBeforeTheFirstSlot) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "n"}});

    EXPECT_THROW((void)sut.produce(SAMPLE_BYTES), HarnessError);
}

TEST_F(Harness_test, RunsAQueueModeComponentOverQueuedFrames) {
    Harness sut(dhub::sdk::component<DoublingQueueStage>());
    sut.host().push_input(0, Frame::from_bytes(std::array{std::byte{1}, std::byte{2}}, 0, 111));
    sut.host().push_input(0, Frame::from_bytes(std::array{std::byte{3}}, 1, 222));
    sut.host().close_input(0);
    ASSERT_EQ(sut.start(), DHUB_OK);

    EXPECT_EQ(sut.run(), DHUB_OK);

    const auto outputs = sut.host().outputs(0);
    ASSERT_EQ(outputs.size(), 2U);
    EXPECT_EQ(outputs[0].bytes, (std::vector{std::byte{2}, std::byte{4}}));
    EXPECT_EQ(outputs[0].timestamp_ns, 111U);
    EXPECT_EQ(outputs[1].bytes, (std::vector{std::byte{6}}));
    EXPECT_EQ(outputs[1].sequence, 1U);
    EXPECT_TRUE(sut.host().violations().empty());
}

TEST_F(Harness_test, StopsABlockedQueueModeComponentFromAnotherThread) {
    Harness sut(dhub::sdk::component<DoublingQueueStage>());
    ASSERT_EQ(sut.start(), DHUB_OK);
    dhub_status result = DHUB_ERR_INTERNAL;
    std::thread node([&] { result = sut.run(); });

    sut.host().push_input(0, Frame::from_bytes(std::array{std::byte{5}}));
    ASSERT_TRUE(sut.host().wait_for_outputs(0, 1, std::chrono::seconds(10)));
    sut.request_stop();
    node.join();

    EXPECT_EQ(result, DHUB_OK);
    EXPECT_EQ(sut.host().outputs(0).size(), 1U);
}

TEST_F(Harness_test, BurstSourcePublishesTheFilledPrefixInSequence) {
    Harness sut(dhub::sdk::component<BurstOnlySource>(), {{"fill", 3}});
    ASSERT_NE(sut.descriptor().process_burst, nullptr);
    ASSERT_EQ(sut.start(), DHUB_OK);
    const auto first = sut.produce_burst(5, 64);
    ASSERT_EQ(first.status, DHUB_OK);
    ASSERT_EQ(first.outputs.size(), 3U) << "only the filled prefix is published";
    for (std::uint64_t i = 0; i < 3; ++i) {
        EXPECT_EQ(first.outputs[i].sequence, i);
        EXPECT_EQ(first.outputs[i].as<std::uint64_t>(), i);
    }
    const auto second = sut.produce_burst(2, 64);
    ASSERT_EQ(second.outputs.size(), 2U);
    EXPECT_EQ(second.outputs[0].sequence, 3U);
    EXPECT_EQ(second.outputs[0].as<std::uint64_t>(), 3U);
}

TEST_F(Harness_test, BurstOnlyComponentsStillWorkOneSlotPerCall) {
    Harness source(dhub::sdk::component<BurstOnlySource>(), {{"fill", 1}});
    ASSERT_NE(source.descriptor().process, nullptr) << "derived from produce_burst";
    ASSERT_EQ(source.start(), DHUB_OK);
    const auto one = source.produce(64);
    ASSERT_EQ(one.status, DHUB_OK);
    EXPECT_EQ(one.output.as<std::uint64_t>(), 0U);

    Harness idle(dhub::sdk::component<BurstOnlySource>(), {{"fill", 0}});
    ASSERT_EQ(idle.start(), DHUB_OK);
    EXPECT_EQ(idle.produce(64).status, DHUB_SKIP) << "nothing filled: nothing to publish";

    Harness sink(dhub::sdk::component<BurstOnlySink>());
    ASSERT_EQ(sink.start(), DHUB_OK);
    EXPECT_EQ(sink.consume(Frame::of(std::uint64_t{41})), DHUB_OK);
    EXPECT_EQ(sink.consume_burst({Frame::of(std::uint64_t{1}), Frame::of(std::uint64_t{2})}), DHUB_OK);
    EXPECT_TRUE(sink.has_log(DHUB_LOG_INFO, "sum 44 after 2")) << sink.log_text();
}

TEST_F(Harness_test, RefusesBurstCallsToAComponentWithoutABurstHandler) {
    Harness sut(dhub::sdk::component<TestSource>(), {{"name", "x"}});
    EXPECT_EQ(sut.descriptor().process_burst, nullptr);
    ASSERT_EQ(sut.start(), DHUB_OK);
    EXPECT_THROW((void)sut.produce_burst(4, SAMPLE_BYTES), HarnessError);
}

TEST_F(Harness_test, SlotFilledTogetherWithTheEndIsPublishedOneSlotPerCallToo) {
    Harness sut(dhub::sdk::component<BurstOnlySource>(), {{"count", 2}});
    ASSERT_EQ(sut.start(), DHUB_OK);
    EXPECT_EQ(sut.produce(64).status, DHUB_OK);
    const auto last = sut.produce(64);
    ASSERT_EQ(last.status, DHUB_OK) << "the last value is published, not dropped with the end";
    EXPECT_EQ(last.output.as<std::uint64_t>(), 1U);
    EXPECT_EQ(sut.produce(64).status, DHUB_END_OF_STREAM);
}

TEST_F(Harness_test, TakesADescriptorOfSdk10AsTheKernelDoes) {
    // What a plugin built against SDK 1.0 exports: the descriptor ends before process_burst.
    dhub_component_descriptor old = *dhub::sdk::component<BurstOnlySource>();
    old.struct_size = static_cast<std::uint32_t>(offsetof(dhub_component_descriptor, process_burst));
    Harness sut(&old);
    EXPECT_EQ(sut.descriptor().process_burst, nullptr) << "fields past struct_size read as zero";
    ASSERT_EQ(sut.start(), DHUB_OK);
    EXPECT_EQ(sut.produce(64).status, DHUB_OK);
    EXPECT_THROW((void)sut.produce_burst(2, 64), HarnessError);

    old.struct_size = 16;
    EXPECT_THROW(Harness{&old}, HarnessError);
}

}  // namespace
