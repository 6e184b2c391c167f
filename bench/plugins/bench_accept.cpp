// SPDX-License-Identifier: Apache-2.0
// dhub.validator.bench_accept: the trivial channel validator, which accepts every slot without looking. What a
// guarded channel costs beyond the validator's own work (dhub-bench --filter dhub.validator_path).
#include <cstdint>

#include "dhub/sdk/plugin.hpp"

namespace {

class BenchAccept : public dhub::sdk::Validator<dhub::sdk::Bytes> {
public:
    static constexpr const char* id = "dhub.validator.bench_accept";
    static constexpr std::uint32_t version = 1;
    static constexpr const char* description = "accepts every slot (the cost of a channel's gate)";
    static constexpr const char* input_schema = "*";
    static constexpr const char* params_schema = R"json([])json";

    explicit BenchAccept(dhub::sdk::NodeContext&) {}

    dhub::sdk::Verdict validate(dhub::sdk::NodeContext&, const dhub::sdk::InputSlot<dhub::sdk::Bytes>&) const {
        return dhub::sdk::Verdict::accept();
    }
};

}  // namespace

DHUB_PLUGIN("bench_accept",
            "1.0.0",
            "Apache-2.0",
            "dhub-bench's trivial channel validator",
            dhub::sdk::component<BenchAccept>());
