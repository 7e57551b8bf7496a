#pragma once
// SHA-256 (OpenSSL) with an incremental interface and hex output.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace fitbridge {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::span<const uint8_t> bytes);
    void update(std::string_view bytes);
    // Finishes the digest and returns it as 64 lowercase hex characters.
    std::string hex();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

std::string sha256_hex(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);

// Fills `out` with cryptographically secure random bytes; throws on failure.
void random_bytes(std::span<uint8_t> out);

// Compares two strings in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace fitbridge
