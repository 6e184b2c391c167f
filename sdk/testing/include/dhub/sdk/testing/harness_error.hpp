// SPDX-License-Identifier: Apache-2.0
// The one exception the test harness throws: a test used it wrongly (unknown parameter, produce() on a
// sink) or the component broke a contract the harness checks (wrote past its output slot).
#pragma once

#include <stdexcept>

namespace dhub::sdk::testing {

class HarnessError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

}  // namespace dhub::sdk::testing
