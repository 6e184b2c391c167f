// SPDX-License-Identifier: Apache-2.0
// Live parameters (docs/control.md, "Live parameters"): a parameter a component declares "live": true may be
// changed while the node runs. The value is checked against the declaration on the asker's thread; the node's
// own thread sets it between two steps and calls the component's on_param there, so a component never sees a
// parameter change during a handler call and needs no lock for it.
#include "dhub/events/event_log.hpp"
#include "node.hpp"
#include "node_ask.hpp"
#include "node_internals.hpp"

namespace dhub::runtime {

nlohmann::json Node::params_view() const {
    const std::lock_guard lock(identity_mutex_);
    nlohmann::json live = nlohmann::json::array();
    for (const plugin::ParamSpec& spec : component_.params) {
        if (spec.live) live.push_back(spec.name);
    }
    return {{"node", id_}, {"component", component_.id}, {"params", params_}, {"live", live}};
}

Result<nlohmann::json> Node::set_param(const std::string& name, const nlohmann::json& value) {
    // One request at a time: a swap cannot change the component under the check below.
    const std::lock_guard one_at_a_time(swap_mutex_);
    const auto spec = std::find_if(component_.params.begin(), component_.params.end(),
                                   [&](const plugin::ParamSpec& declared) { return declared.name == name; });
    if (spec == component_.params.end()) {
        std::string declared;
        for (const plugin::ParamSpec& each : component_.params)
            declared += std::string(declared.empty() ? "" : ", ") + each.name;
        return Error{ErrorCode::InvalidArgument,
                     "component " + component_.id + " of node '" + id_ + "' declares no parameter \"" + name +
                         "\" (it declares: " + (declared.empty() ? std::string("none") : declared) + ")"};
    }
    if (!spec->live) {
        return Error{ErrorCode::InvalidArgument,
                     "parameter \"" + name + "\" of " + component_.id +
                         " is not live-tunable (its declaration has no \"live\": true): change it with a swap "
                         "(dhub-ctl swap " +
                         id_ + " --plugin " + component_.plugin + " --params ...)"};
    }
    if (auto problem = plugin::check_param_value(*spec, value)) {
        return Error{ErrorCode::InvalidArgument, "parameter \"" + name + "\" of node '" + id_ + "': " + *problem};
    }
    if (!swappable()) {
        return Error{ErrorCode::InvalidArgument,
                     "node '" + id_ + "' runs its own loop: the kernel has no step boundary to change it at"};
    }
    ParamRequest request;
    request.name = name;
    request.value = value;
    return ask_node_thread<ParamRequest, nlohmann::json>(param_request_, request);
}

void Node::perform_param(ParamRequest& request) {
    const ThreadClock clock(runner_.clock());
    const auto set_value = [this, &request](const nlohmann::json* value) {
        const std::lock_guard lock(identity_mutex_);
        if (value != nullptr) {
            params_[request.name] = *value;
        } else {
            params_.erase(request.name);  // it had no value before: it has none again
        }
        params_texts_.push_back(params_.dump());
    };
    const bool had_value = params_.contains(request.name);
    const nlohmann::json previous = params_.value(request.name, nlohmann::json());
    set_value(&request.value);
    {
        const std::lock_guard lock(identity_mutex_);
        capturing_ = true;
        captured_.clear();
    }
    const dhub_status status = descriptor_.on_param != nullptr
                                   ? descriptor_.on_param(instance_, request.name.c_str())
                                   : DHUB_ERR_INVALID_ARGUMENT;  // the loader refuses live params without it
    std::string why;
    {
        const std::lock_guard lock(identity_mutex_);
        capturing_ = false;
        why = captured_;
    }
    if (dhub_status_is_error(status)) {
        set_value(had_value ? &previous : nullptr);
        request.done.set_value(Error{ErrorCode::InvalidArgument,
                                     "component " + component_.id + " of node '" + id_ + "' refused " + request.name +
                                         " = " + request.value.dump() + " (" + dhub_status_name(status) +
                                         (why.empty() ? std::string() : ": " + why) + "); it keeps " +
                                         previous.dump()});
        return;
    }
    logger_->info("{}parameter {} changed from {} to {}", log_prefix_, request.name, previous.dump(),
                  request.value.dump());
    nlohmann::json changed = {{"node", id_}, {"name", request.name}, {"from", previous}, {"to", request.value}};
    try {
        runner_.events().emit("param_changed", changed);
    } catch (...) {
        // The change is made; an event that cannot be written does not undo it.
    }
    request.done.set_value(std::move(changed));
}

}  // namespace dhub::runtime
