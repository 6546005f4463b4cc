// SPDX-License-Identifier: Apache-2.0
// SHA-256 for the policy hash, key fingerprints, redaction and the output digests. OpenSSL's
// SHA256_* functions run the same assembly (SHA-NI where the CPU has it) as EVP, without EVP's
// provider initialisation, which cost more than the rest of a request's hashing.
#pragma once

#include <string>
#include <string_view>

namespace diag {

class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t n);
    // The raw 32-byte digest; the object must not be updated afterwards.
    [[nodiscard]] std::string digest();
    [[nodiscard]] std::string hex_digest();

  private:
    alignas(16) unsigned char state_[128];  // SHA256_CTX is 112 bytes
};

[[nodiscard]] std::string sha256_hex(std::string_view data);
[[nodiscard]] std::string sha256_raw(std::string_view data);

}  // namespace diag
