// Helpers shared by the test suites (hosted; the standard library is fine).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>
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

// Run a shell command; its exit status (-1 if it did not exit) and stdout.
struct CommandResult {
    int status = -1;
    std::string out;
};
inline CommandResult run_command(const std::string &cmd) {
    CommandResult r;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int st = pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

// The seed of a model test: `fixed`, so a failure reproduces - or the one in
// KMEM_TEST_SEED, with which scripts/soak runs them on fresh seeds (it is
// printed, so such a failure reproduces too).
inline uint64_t test_seed(uint64_t fixed) {
    const char *env = std::getenv("KMEM_TEST_SEED");
    if (env == nullptr || *env == '\0') return fixed;
    const uint64_t seed = std::strtoull(env, nullptr, 0);
    std::fprintf(stderr, "KMEM_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
    return seed;
}

// splitmix64: a small, reproducible random source for model and stress tests.
struct Rng {
    uint64_t x;
    uint64_t next() {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return next() % n; }
    bool chance(unsigned percent) { return below(100) < percent; }
};

} // namespace kmem::test
