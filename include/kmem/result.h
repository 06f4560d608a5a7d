// SPDX-License-Identifier: MIT
//
// DOC: errors as values.
//
// kmem never throws and never aborts on bad input. Every fallible call returns
// a Status (or a Result<T>) that carries an error code, a static, readable
// reason, and, for parsers, where in the input the problem is: a 1-based line
// number for text, a byte offset for binary buffers. The reason strings are
// string literals, so producing an error costs nothing and needs no allocator.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kmem {

enum class Errc : uint8_t {
    ok = 0,
    invalid_argument,    // a parameter the caller controls is wrong
    invalid_range,       // end before start, wrap past 2^64, beyond the address limit
    capacity,            // bounded static storage is full
    truncated,           // a binary buffer ends inside a structure
    bad_magic,           // a binary blob is not what it claims to be
    unsupported_version, // a version field kmem does not understand
    malformed,           // the structure is inconsistent
    unknown_type,        // a memory type name or number kmem does not know
    no_entries,          // the input holds no memory map at all
    no_memory,           // nothing free that satisfies the request
    double_free,         // the block is already free
    not_allocated,       // the address is not an allocated block head
    busy,                // the pages are held somewhere kmem cannot take them from now
    wrong_phase,         // the call is not valid in the current boot phase
    wrong_context,       // the call is not allowed where it was made (an interrupt handler)
};

// Names of the codes, for messages and tests.
const char *errc_name(Errc code);

// Where an error points in its input.
enum class Where : uint8_t { none, line, byte };

// 16 bytes, so a Status comes back in two registers.
struct Error {
    const char *reason = "";     // static string, never null
    Errc code : 8 = Errc::ok;
    Where where : 8 = Where::none;
    uint64_t at : 48 = 0;        // line (1-based) or byte offset, per `where`
};
static_assert(sizeof(Error) == 16, "an error is two words");

// Result of an operation that returns nothing but can fail.
class [[nodiscard]] Status {
public:
    constexpr Status() = default;
    constexpr Status(Error e) : err_(e) {} // NOLINT(google-explicit-constructor)

    constexpr bool ok() const { return err_.code == Errc::ok; }
    constexpr explicit operator bool() const { return ok(); }
    constexpr const Error &error() const { return err_; }
    constexpr Errc code() const { return err_.code; }
    constexpr const char *reason() const { return err_.reason; }

private:
    Error err_{};
};

// A value or an error. T must be default-constructible and trivially copyable
// enough for the freestanding core (no exceptions, no heap).
template <class T> class [[nodiscard]] Result {
public:
    constexpr Result(T v) : value_(v) {}      // NOLINT(google-explicit-constructor)
    constexpr Result(Error e) : err_(e) {}    // NOLINT(google-explicit-constructor)
    constexpr Result(Status s) : err_(s.error()) {} // NOLINT

    constexpr bool ok() const { return err_.code == Errc::ok; }
    constexpr explicit operator bool() const { return ok(); }
    constexpr const T &value() const { return value_; }
    constexpr T &value() { return value_; }
    constexpr const Error &error() const { return err_; }
    constexpr Errc code() const { return err_.code; }
    constexpr Status status() const { return Status(err_); }

private:
    T value_{};
    Error err_{};
};

constexpr Error make_error(Errc code, const char *reason, Where where = Where::none,
                           uint64_t at = 0) {
    Error e;
    e.reason = reason;
    e.code = code;
    e.where = where;
    e.at = at;
    return e;
}

} // namespace kmem

// Propagate an error from an expression returning Status or Result<T>.
#define KMEM_CONCAT_(a, b) a##b
#define KMEM_CONCAT(a, b) KMEM_CONCAT_(a, b)
#define KMEM_TRY(expr) KMEM_TRY_IMPL_(expr, KMEM_CONCAT(kmem_try_r_, __COUNTER__))
#define KMEM_TRY_IMPL_(expr, var)                                                        \
    do {                                                                                 \
        auto var = (expr);                                                               \
        if (!var.ok()) return var.error();                                               \
    } while (0)
