// SPDX-License-Identifier: Apache-2.0
#include "elf_symbols.hpp"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace dhub::test {
namespace {

template <typename T>
T read_at(const std::vector<char>& image, std::uint64_t offset, const std::filesystem::path& file) {
    if (offset > image.size() || image.size() - offset < sizeof(T)) {
        throw std::runtime_error(file.string() + ": ELF structure past the end of the file");
    }
    T value{};
    std::memcpy(&value, image.data() + offset, sizeof(T));
    return value;
}

}  // namespace

std::vector<std::string> defined_dynamic_symbols(const std::filesystem::path& file) {
    std::ifstream stream(file, std::ios::binary);
    if (!stream) throw std::runtime_error("cannot open " + file.string());
    const std::vector<char> image((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());

    const auto header = read_at<Elf64_Ehdr>(image, 0, file);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64) {
        throw std::runtime_error(file.string() + " is not a 64-bit ELF file");
    }
    std::vector<std::string> names;
    for (std::uint16_t index = 0; index < header.e_shnum; ++index) {
        const auto section =
            read_at<Elf64_Shdr>(image, header.e_shoff + std::uint64_t{index} * header.e_shentsize, file);
        if (section.sh_type != SHT_DYNSYM) continue;
        const auto strings =
            read_at<Elf64_Shdr>(image, header.e_shoff + std::uint64_t{section.sh_link} * header.e_shentsize, file);
        for (std::uint64_t offset = 0; offset + sizeof(Elf64_Sym) <= section.sh_size; offset += sizeof(Elf64_Sym)) {
            const auto symbol = read_at<Elf64_Sym>(image, section.sh_offset + offset, file);
            const unsigned binding = ELF64_ST_BIND(symbol.st_info);
            if (symbol.st_shndx == SHN_UNDEF || (binding != STB_GLOBAL && binding != STB_WEAK)) continue;
            const std::uint64_t name_offset = strings.sh_offset + symbol.st_name;
            if (name_offset >= image.size()) throw std::runtime_error(file.string() + ": symbol name past the end");
            const char* name = image.data() + name_offset;
            names.emplace_back(name, strnlen(name, image.size() - name_offset));
        }
    }
    return names;
}

}  // namespace dhub::test
