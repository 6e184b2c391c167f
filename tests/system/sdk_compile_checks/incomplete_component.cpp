// SPDX-License-Identifier: Apache-2.0
// A complete realtime source, from which expect_compile_error.cmake removes one required piece at a time
// (-DOMIT_<piece>): each must be refused by a static_assert that names it, at the component<T>() line.
#include <cstdint>

#include "dhub/sdk/plugin.hpp"

struct Reading {
    double volts;
};

class Voltmeter
#ifndef OMIT_BASE
    : public dhub::sdk::Source<Reading>
#endif
{
public:
#ifndef OMIT_ID
    static constexpr const char* id = "acme.source.voltmeter";
#endif
#ifndef OMIT_VERSION
    static constexpr std::uint32_t version = 1;
#endif
#ifndef OMIT_DESCRIPTION
    static constexpr const char* description = "reads a voltmeter";
#endif
#ifndef OMIT_HANDLER
    dhub_status produce(dhub::sdk::NodeContext& /*context*/, dhub::sdk::OutputSlot<Reading>& out) {
        out.value().volts = 1.5;
        return DHUB_OK;
    }
#endif
};

DHUB_PLUGIN("voltmeter", "1.0.0", "Apache-2.0", "one voltmeter", dhub::sdk::component<Voltmeter>());
