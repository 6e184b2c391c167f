// SPDX-License-Identifier: Apache-2.0
// A private temporary directory (ipc:// endpoints, RouDi config and log), removed on destruction.
#pragma once

#include <filesystem>
#include <string>

namespace dhub::bench {

class TempDir {
public:
    /// mkdtemp under $TMPDIR (or /tmp) with the given name prefix. Throws std::system_error.
    explicit TempDir(const std::string& prefix);
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace dhub::bench
