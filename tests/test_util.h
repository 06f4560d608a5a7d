// Helpers shared by the test suites (hosted; the standard library is fine).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace kmem::test {

inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string data_path(const std::string &rel) { return std::string(KMEM_DATA_DIR) + "/" + rel; }

} // namespace kmem::test
