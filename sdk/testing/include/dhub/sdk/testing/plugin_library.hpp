// SPDX-License-Identifier: Apache-2.0
// Loads a built plugin (dhub-<name>.so) the way the kernel does: dlopen with RTLD_NOW | RTLD_LOCAL, the one
// entry symbol dhub_plugin_entry, a descriptor whose name must equal the file stem. Testing the built
// file, not the compiled sources, also tests what the plugin exports. Like the kernel, it never unloads
// a plugin, so descriptors stay valid for the whole test program.
#pragma once

#include <dlfcn.h>

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "dhub/sdk/abi.h"
#include "dhub/sdk/testing/harness_error.hpp"

namespace dhub::sdk::testing {

class PluginLibrary {
public:
    /// Opens the plugin file; HarnessError says why not (dlopen's message, no entry symbol, bad ABI).
    static PluginLibrary open(const std::filesystem::path& file) {
        void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = dlerror();
            throw HarnessError("cannot load plugin " + file.string() + ": " + (why != nullptr ? why : "unknown error"));
        }
        void* symbol = dlsym(handle, DHUB_PLUGIN_ENTRY_SYMBOL);
        if (symbol == nullptr) {
            throw HarnessError(file.string() + " is not a dhub plugin: no " + DHUB_PLUGIN_ENTRY_SYMBOL + " symbol");
        }
        // POSIX guarantees that a data pointer from dlsym converts to a function pointer.
        const auto entry = reinterpret_cast<dhub_plugin_entry_fn>(symbol);
        const dhub_plugin_descriptor* descriptor = entry();
        if (descriptor == nullptr) throw HarnessError(file.string() + ": dhub_plugin_entry() returned no descriptor");
        if (descriptor->abi_major != DHUB_SDK_VERSION_MAJOR || descriptor->abi_minor > DHUB_SDK_VERSION_MINOR) {
            throw HarnessError(file.string() + ": built for SDK ABI " + std::to_string(descriptor->abi_major) + "." +
                               std::to_string(descriptor->abi_minor) + ", this harness is " +
                               std::to_string(DHUB_SDK_VERSION_MAJOR) + "." + std::to_string(DHUB_SDK_VERSION_MINOR));
        }
        return PluginLibrary(file, descriptor);
    }

    const std::filesystem::path& path() const noexcept { return path_; }
    const dhub_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
    /// The plugin name the file name promises: "dhub-<name>.so" gives "<name>" (empty if not that shape).
    std::string file_stem_name() const {
        const std::string stem = path_.stem().string();
        return stem.rfind("dhub-", 0) == 0 ? stem.substr(5) : std::string();
    }
    std::span<const dhub_component_descriptor* const> components() const noexcept {
        return {descriptor_->components, descriptor_->component_count};
    }
    /// The component with that id; HarnessError listing the plugin's components if there is none.
    const dhub_component_descriptor* component(std::string_view id) const {
        std::string known;
        for (const dhub_component_descriptor* component : components()) {
            if (component != nullptr && component->id != nullptr && id == component->id) return component;
            known +=
                std::string(known.empty() ? "" : ", ") + (component != nullptr && component->id ? component->id : "?");
        }
        throw HarnessError(path_.string() + " has no component '" + std::string(id) + "' (it has: " + known + ")");
    }

private:
    PluginLibrary(std::filesystem::path path, const dhub_plugin_descriptor* descriptor)
        : path_(std::move(path)), descriptor_(descriptor) {}

    std::filesystem::path path_;
    const dhub_plugin_descriptor* descriptor_;
};

}  // namespace dhub::sdk::testing
