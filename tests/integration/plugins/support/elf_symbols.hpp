// SPDX-License-Identifier: Apache-2.0
// The dynamic symbols a shared object defines (what `nm -D --defined-only` lists), read from its ELF
// .dynsym section, so the export test needs no external tool.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dhub::test {

/// Names of the global or weak symbols defined in the file's dynamic symbol table. Throws
/// std::runtime_error if the file is not a 64-bit ELF shared object.
std::vector<std::string> defined_dynamic_symbols(const std::filesystem::path& file);

}  // namespace dhub::test
