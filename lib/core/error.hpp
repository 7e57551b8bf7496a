#pragma once
// Typed errors and Result<T>. Every error carries a domain code, a class that
// tells callers whether retrying can help, and one human-readable line.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace fitbridge {

// How a caller should react to an error.
enum class ErrorClass {
    transient,     // may succeed if retried later with backoff
    rate_limited,  // retry after `retry_after`
    auth,          // credentials are missing, expired or rejected
    permanent,     // retrying the same thing will fail the same way
    fatal,         // the process cannot continue
};

std::string_view to_string(ErrorClass c);

struct Error {
    std::string code;  // stable machine-readable code, e.g. "fit.crc_mismatch"
    ErrorClass cls = ErrorClass::permanent;
    std::string message;  // one line a person can act on
    std::optional<std::chrono::seconds> retry_after;

    static Error permanent(std::string code, std::string message) {
        return {std::move(code), ErrorClass::permanent, std::move(message), {}};
    }
    static Error transient(std::string code, std::string message) {
        return {std::move(code), ErrorClass::transient, std::move(message), {}};
    }
    // Credentials missing or refused: the account needs re-authorising.
    static Error auth(std::string code, std::string message) {
        return {std::move(code), ErrorClass::auth, std::move(message), {}};
    }
    bool retryable() const { return cls == ErrorClass::transient || cls == ErrorClass::rate_limited; }
};

// A value or an Error. Small on purpose: std::expected is C++23.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : m_v(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}
    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

}  // namespace fitbridge
