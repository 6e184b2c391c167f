// SPDX-License-Identifier: Apache-2.0
// The C function table behind dhub_host_api: each entry finds its Node and forwards. Nothing here may
// throw into the plugin.
#include <exception>

#include "dhub/base/clock.hpp"
#include "dhub/sdk/version.h"
#include "node.hpp"

namespace dhub::runtime {
namespace {

Node& node_of(dhub_node* node) noexcept {
    return *reinterpret_cast<Node*>(node);
}

/// Runs body; an exception (allocation failure, a logging error) becomes a status, never a crash.
template <typename Body>
dhub_status shielded(Body&& body) noexcept {
    try {
        return body();
    } catch (...) {
        return DHUB_ERR_INTERNAL;
    }
}

void host_log(dhub_node* node, dhub_log_level level, const char* message) {
    (void)shielded([&] {
        node_of(node).log(level, message);
        return DHUB_OK;
    });
}

void host_report_error(dhub_node* node, dhub_status code, const char* message) {
    (void)shielded([&] {
        node_of(node).report_error(code, message);
        return DHUB_OK;
    });
}

thread_local const PluginClock* thread_clock = nullptr;

std::uint64_t host_now_ns() {
    return thread_clock != nullptr ? thread_clock->now_ns() : monotonic_ns();
}

int host_stop_requested(dhub_node* node) {
    return node_of(node).stop_requested() ? 1 : 0;
}

dhub_status host_sleep_until(dhub_node* node, std::uint64_t deadline_ns) {
    return shielded([&] { return node_of(node).sleep_until(deadline_ns); });
}

dhub_status host_param_number(dhub_node* node, const char* name, double* value) {
    const nlohmann::json* param = node_of(node).param(name);
    if (param == nullptr || !param->is_number() || value == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    *value = param->get<double>();
    return DHUB_OK;
}

dhub_status host_param_integer(dhub_node* node, const char* name, std::int64_t* value) {
    const nlohmann::json* param = node_of(node).param(name);
    if (param == nullptr || !param->is_number() || value == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    *value = param->is_number_integer() ? param->get<std::int64_t>() : static_cast<std::int64_t>(param->get<double>());
    return DHUB_OK;
}

dhub_status host_param_bool(dhub_node* node, const char* name, int* value) {
    const nlohmann::json* param = node_of(node).param(name);
    if (param == nullptr || !param->is_boolean() || value == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
    *value = param->get<bool>() ? 1 : 0;
    return DHUB_OK;
}

dhub_status host_param_string(dhub_node* node, const char* name, const char** value) {
    return shielded([&] {
        const char* text = node_of(node).param_string(name);
        if (text == nullptr || value == nullptr) return DHUB_ERR_INVALID_ARGUMENT;
        *value = text;
        return DHUB_OK;
    });
}

const char* host_params_json(dhub_node* node) {
    return node_of(node).params_json();
}

dhub_status host_acquire_write(dhub_node* node, std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
    return shielded([&] { return node_of(node).acquire_write(port, timeout_ns, slot); });
}

dhub_status host_commit(dhub_node* node, std::uint32_t port, std::uint64_t bytes, std::uint64_t timestamp_ns) {
    return shielded([&] { return node_of(node).commit(port, bytes, timestamp_ns); });
}

dhub_status host_abort_write(dhub_node* node, std::uint32_t port) {
    return shielded([&] { return node_of(node).abort_write(port); });
}

dhub_status host_acquire_read(dhub_node* node, std::uint32_t port, std::int64_t timeout_ns, dhub_slot* slot) {
    return shielded([&] { return node_of(node).acquire_read(port, timeout_ns, slot); });
}

dhub_status host_release(dhub_node* node, std::uint32_t port) {
    return shielded([&] { return node_of(node).release(port); });
}

dhub_status host_flex_read(dhub_node* node,
                           std::uint32_t direction,
                           std::uint32_t port,
                           void* buffer,
                           std::uint64_t capacity,
                           std::uint64_t* bytes) {
    return shielded([&] { return node_of(node).flex_read(direction, port, buffer, capacity, bytes); });
}

dhub_status host_flex_write(
    dhub_node* node, std::uint32_t direction, std::uint32_t port, const void* data, std::uint64_t bytes) {
    return shielded([&] { return node_of(node).flex_write(direction, port, data, bytes); });
}

dhub_status host_send_message(dhub_node* node, std::uint32_t direction, std::uint32_t port, const char* message) {
    return shielded([&] { return node_of(node).send_message(direction, port, message); });
}

const char* host_port_schema(dhub_node* node, std::uint32_t direction, std::uint32_t port) {
    return node_of(node).port_schema(direction, port);
}

const char* host_port_schema_document(dhub_node* node, std::uint32_t direction, std::uint32_t port) {
    return node_of(node).port_schema_document(direction, port);
}

dhub_status host_port_range(
    dhub_node* node, std::uint32_t direction, const char* port, std::uint32_t* first, std::uint32_t* count) {
    return shielded([&] { return node_of(node).port_range(direction, port, first, count); });
}

dhub_status host_channel_info(dhub_node* node, std::uint32_t direction, std::uint32_t port, dhub_channel_info* info) {
    return node_of(node).channel_info(direction, port, info);
}

dhub_status host_count_upstream_loss(dhub_node* node, std::uint32_t port, std::uint64_t count) {
    return node_of(node).count_upstream_loss(port, count);
}

dhub_status host_peek_read(dhub_node* node,
                           std::uint32_t port,
                           std::int64_t timeout_ns,
                           std::uint32_t skip,
                           std::uint32_t max,
                           dhub_slot* slots,
                           std::uint32_t* count) {
    return shielded([&] { return node_of(node).peek_read(port, timeout_ns, skip, max, slots, count); });
}

dhub_status host_release_oldest(dhub_node* node, std::uint32_t port, std::uint32_t count) {
    return shielded([&] { return node_of(node).release_oldest(port, count); });
}

constexpr dhub_host_api HOST_API = {
    sizeof(dhub_host_api),  DHUB_SDK_VERSION_MAJOR,
    DHUB_SDK_VERSION_MINOR, &host_log,
    &host_report_error,     &host_now_ns,
    &host_stop_requested,   &host_sleep_until,
    &host_param_number,     &host_param_integer,
    &host_param_bool,       &host_param_string,
    &host_params_json,      &host_acquire_write,
    &host_commit,           &host_abort_write,
    &host_acquire_read,     &host_release,
    &host_flex_read,        &host_flex_write,
    &host_send_message,     &host_port_schema,
    &host_port_range,       &host_port_schema_document,
    &host_channel_info,     &host_count_upstream_loss,
    &host_peek_read,        &host_release_oldest,
};

}  // namespace

ThreadClock::ThreadClock(const PluginClock& clock) noexcept : previous_(thread_clock) {
    thread_clock = &clock;
}

ThreadClock::~ThreadClock() {
    thread_clock = previous_;
}

const dhub_host_api& host_api() noexcept {
    return HOST_API;
}

}  // namespace dhub::runtime
