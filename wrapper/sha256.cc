// SPDX-License-Identifier: Apache-2.0
// The low-level interface is deprecated in OpenSSL 3 in favour of EVP; it is still supported and
// is what avoids the provider setup (see sha256.h).
#define OPENSSL_API_COMPAT 0x10100000L
#include "wrapper/sha256.h"

#include <openssl/sha.h>

#include "wrapper/util.h"

namespace diag {

static_assert(sizeof(SHA256_CTX) <= 128, "SHA256_CTX does not fit Sha256::state_");

Sha256::Sha256() { SHA256_Init(reinterpret_cast<SHA256_CTX*>(state_)); }

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t n) { SHA256_Update(reinterpret_cast<SHA256_CTX*>(state_), data, n); }

std::string Sha256::digest() {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, reinterpret_cast<SHA256_CTX*>(state_));
    return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

std::string Sha256::hex_digest() {
    const std::string d = digest();
    return util::hex(reinterpret_cast<const unsigned char*>(d.data()), d.size());
}

std::string sha256_hex(std::string_view data) {
    Sha256 h;
    h.update(data.data(), data.size());
    return h.hex_digest();
}

std::string sha256_raw(std::string_view data) {
    Sha256 h;
    h.update(data.data(), data.size());
    return h.digest();
}

}  // namespace diag
