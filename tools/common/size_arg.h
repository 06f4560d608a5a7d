// SPDX-License-Identifier: MIT
//
// DOC: sizes on kmem-sim's command line: bytes, or a number with a K, M, G
// or T suffix (powers of 1024; "KiB", "MB", "k" and so on read the same),
// decimal or 0x-hex: --window 2G, --window 0x40000000, --efi-desc-size 48.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kmem::tools {

// False with a reason ("'2X' is not a size: ...") if `text` is not a size.
bool parse_size(std::string_view text, uint64_t &out, std::string &error);

// The shortest exact way to write `bytes` with a suffix: "16M", "1G", "48".
std::string size_text(uint64_t bytes);

} // namespace kmem::tools
