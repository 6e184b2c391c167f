// SPDX-License-Identifier: Apache-2.0
// dhub.sink.bench: checks each slot the way the bare DataBlock one-way consumer does and times the run
// after a warm-up, then writes {"messages", "elapsed_ns", "bad", "lost"} to result_path at stop.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dhub/sdk/plugin.hpp"
#include "harness/payload_touch.hpp"

namespace {

class BenchSink : public dhub::sdk::Sink<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.sink.bench";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "benchmark sink: checks each slot's ends, writes its rate";
    static constexpr const char* params_schema = R"json([
        {"name": "result_path", "type": "string", "doc": "where to write the timing as JSON"},
        {"name": "warmup", "type": "integer", "default": 10000, "min": 0, "doc": "slots before timing starts"},
        {"name": "count", "type": "integer", "default": 0, "min": 0,
         "doc": "slots the source writes: the clock is read at the last one only (0: read it every slot)"},
        {"name": "touch", "type": "string", "default": "auto", "enum": ["auto", "ends", "every_byte"],
         "doc": "what of each slot to check: as the bare bench does for the size (auto), or every byte"},
        {"name": "latency", "type": "boolean", "default": false,
         "doc": "also time each slot from its producer's stamp to its arrival here (p50_ns, p99_ns in the result)"}])json";

    explicit BenchSink(dhub::sdk::NodeContext& context)
        : result_path_(context.params().string("result_path")),
          warmup_(static_cast<std::uint64_t>(context.params().integer("warmup"))),
          count_(static_cast<std::uint64_t>(context.params().integer("count"))),
          every_byte_(context.params().string("touch") == "every_byte"),
          ends_(context.params().string("touch") == "ends"),
          latency_(context.params().boolean("latency")) {
        if (latency_) latencies_.reserve(count_);
    }

    dhub_status consume_burst(dhub::sdk::NodeContext& context, const dhub::sdk::InputBurst<dhub::sdk::Bytes>& in) {
        for (std::size_t i = 0; i < in.size(); ++i)
            (void)consume(context, in[i]);
        return DHUB_OK;
    }

    dhub_status consume(dhub::sdk::NodeContext& context, const dhub::sdk::InputSlot<dhub::sdk::Bytes>& in) {
        const auto bytes = in.bytes();
        const dhub::bench::TouchMode touch = every_byte_ ? dhub::bench::TouchMode::every_byte
                                             : ends_     ? dhub::bench::TouchMode::ends
                                                         : dhub::bench::touch_mode_for(bytes.size());
        if (!dhub::bench::read_payload(bytes.data(), bytes.size(), in.sequence(), touch)) {
            ++bad_;
        }
        lost_ += in.sequence() - expected_;
        expected_ = in.sequence() + 1;
        if (latency_ && received_ >= warmup_) latencies_.push_back(context.now_ns() - in.timestamp_ns());
        if (++received_ == warmup_) start_ns_ = context.now_ns();
        if (count_ == 0 || received_ == count_) last_ns_ = context.now_ns();
        return DHUB_OK;
    }

    void stop(dhub::sdk::NodeContext& context) {
        const std::uint64_t timed = received_ > warmup_ ? received_ - warmup_ : 0;
        // Stopped before the last slot (Ctrl-C, --duration): the run ends now, not at a stamp never taken.
        if (timed != 0 && last_ns_ < start_ns_) last_ns_ = context.now_ns();
        std::FILE* file = std::fopen(result_path_.c_str(), "w");
        if (file == nullptr) {
            context.log().error("cannot write " + result_path_);
            return;
        }
        std::sort(latencies_.begin(), latencies_.end());
        const auto percentile = [&](double p) -> unsigned long long {
            if (latencies_.empty()) return 0;
            return latencies_[static_cast<std::size_t>(p * static_cast<double>(latencies_.size() - 1))];
        };
        std::fprintf(file,
                     "{\"messages\": %llu, \"elapsed_ns\": %llu, \"bad\": %llu, \"lost\": %llu, \"p50_ns\": %llu, "
                     "\"p99_ns\": %llu}\n",
                     static_cast<unsigned long long>(timed), static_cast<unsigned long long>(last_ns_ - start_ns_),
                     static_cast<unsigned long long>(bad_), static_cast<unsigned long long>(lost_), percentile(0.5),
                     percentile(0.99));
        std::fclose(file);
    }

private:
    std::string result_path_;
    std::uint64_t warmup_;
    std::uint64_t count_;
    bool every_byte_;
    bool ends_;
    bool latency_;
    std::vector<std::uint64_t> latencies_;  ///< producer stamp to arrival, per slot after the warm-up
    std::uint64_t received_ = 0;
    std::uint64_t expected_ = 0;
    std::uint64_t bad_ = 0;
    std::uint64_t lost_ = 0;
    std::uint64_t start_ns_ = 0;
    std::uint64_t last_ns_ = 0;
};

}  // namespace

DHUB_PLUGIN("bench_sink", "1.0.0", "Apache-2.0", "dhub-bench sink", dhub::sdk::component<BenchSink>());
