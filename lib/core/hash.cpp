// The low-level SHA-256 and getrandom(2), not EVP and RAND_bytes: those make
// OpenSSL 3 start its library context and default provider, about 2 MiB of
// resident memory that a daemon with only local accounts never needs.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "core/hash.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fitbridge {

struct Sha256::Impl {
    SHA256_CTX ctx;
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
    if (SHA256_Init(&m_impl->ctx) != 1) throw std::runtime_error("SHA-256 initialisation failed");
}

Sha256::~Sha256() = default;

void Sha256::update(std::span<const uint8_t> bytes) {
    if (!bytes.empty()) SHA256_Update(&m_impl->ctx, bytes.data(), bytes.size());
}

void Sha256::update(std::string_view bytes) {
    if (!bytes.empty()) SHA256_Update(&m_impl->ctx, bytes.data(), bytes.size());
}

std::string Sha256::hex() {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_Final(digest, &m_impl->ctx);
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out(SHA256_DIGEST_LENGTH * 2, '0');
    for (unsigned i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
        out[2 * i] = k_hex[digest[i] >> 4];
        out[2 * i + 1] = k_hex[digest[i] & 0xf];
    }
    return out;
}

std::string sha256_hex(std::span<const uint8_t> bytes) {
    Sha256 h;
    h.update(bytes);
    return h.hex();
}

std::string sha256_hex(std::string_view bytes) {
    Sha256 h;
    h.update(bytes);
    return h.hex();
}

void random_bytes(std::span<uint8_t> out) {
    size_t off = 0;
    while (off < out.size()) {
        const ssize_t n = ::getrandom(out.data() + off, out.size() - off, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
        }
        off += static_cast<size_t>(n);
    }
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace fitbridge
