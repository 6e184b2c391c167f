// SPDX-License-Identifier: Apache-2.0
// Who may use a kernel's control endpoint over TCP (docs/control.md, "Over TCP"): CURVE public keys, each with a
// role. `admin` may do everything the local socket may; `monitor` may read (hello, status, events) and change
// nothing. File format:
//   {"clients": [{"public_key": "<40 Z85 chars>", "name": "operator", "role": "admin"},
//                {"public_key": "...", "name": "grafana", "role": "monitor"}]}
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dhub/base/result.hpp"
#include "dhub/control/control_protocol.hpp"

namespace dhub::control {

enum class Role { Monitor, Admin };
const char* to_string(Role role) noexcept;
/// Whether a client of this role may send this command: a monitor only those that change nothing.
bool permits(Role role, Command command) noexcept;

struct AllowedController {
    std::string public_key;  ///< Z85, 40 characters
    std::string name;        ///< for messages and logs
    Role role = Role::Monitor;
};

class ControlAccess {
public:
    /// Parses the JSON text; path names it in errors, which give the JSON path of what is wrong.
    static Result<ControlAccess> parse(std::string_view text, const std::string& path = "<control allowlist>");
    static Result<ControlAccess> load(const std::string& path);

    /// The entry of a Z85 public key; nullptr if it may not connect.
    const AllowedController* find(std::string_view public_key) const noexcept;
    std::size_t size() const noexcept { return clients_.size(); }

private:
    std::vector<AllowedController> clients_;
};

}  // namespace dhub::control
