// SPDX-License-Identifier: Apache-2.0
// A private temporary directory, removed with everything in it on destruction: the one way tests and the
// bench make scratch space (graph files, recordings, keys, ipc:// endpoints), so nothing is shared or left.
#pragma once

#include <filesystem>
#include <string>

namespace dhub::testing {

class TempDir {
public:
    /// mkdtemp under $TMPDIR (or /tmp): "<prefix>-XXXXXX". Throws std::system_error.
    explicit TempDir(const std::string& prefix = "dhub-test");
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
    /// The path of a file in it, as a string.
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

}  // namespace dhub::testing
