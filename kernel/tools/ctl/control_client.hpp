// SPDX-License-Identifier: Apache-2.0
// dhub-ctl's side of the control protocol (docs/control.md): one request to a kernel's control endpoint, one
// reply, or an error saying why there is none (no endpoint, no answer in time, not a reply).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "dhub/base/result.hpp"

namespace dhub::ctl {

/// A kernel's TCP control endpoint is CurveZMQ only: its public key, and this client's pair (Z85).
struct CurveKeys {
    std::string server_public;
    std::string public_key;
    std::string secret_key;
};

/// --server-key (a Z85 key, or a .pub file holding one) and --key (this client's secret key file): the keys, or
/// what is wrong with them.
Result<CurveKeys> load_curve_keys(const std::string& server_key, const std::string& secret_key_file);

/// Sends request (its "v" is set here) and returns the kernel's reply, whatever its "ok". curve: for a TCP
/// endpoint; nullptr for the local one.
Result<nlohmann::json> call(const std::string& endpoint,
                            nlohmann::json request,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5),
                            const CurveKeys* curve = nullptr);

}  // namespace dhub::ctl
