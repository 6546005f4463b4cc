// SPDX-License-Identifier: Apache-2.0
// SHA-256 (FIPS 180-4) for the policy hash, key fingerprints, redaction and the output digests.
// Our own, not OpenSSL's: libcrypto's start-up constructor probes the CPU with a series of
// `cpuid` instructions in every process that links it, and on a virtual machine each one is a VM
// exit (bench/README.md). The compression function uses the x86 SHA extensions where the CPU
// has them (as glibc already found out at start-up) and portable code otherwise; both are
// tested against each other and against the FIPS 180-4 examples (tests/unit/sha256_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace diag {

class Sha256 {
  public:
    Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t n);
    // The raw 32-byte digest; the object must not be updated afterwards.
    [[nodiscard]] std::string digest();
    [[nodiscard]] std::string hex_digest();

  private:
    uint32_t state_[8];
    unsigned char block_[64];
    size_t used_ = 0;      // bytes in block_
    uint64_t length_ = 0;  // bytes hashed so far
};

[[nodiscard]] std::string sha256_hex(std::string_view data);
[[nodiscard]] std::string sha256_raw(std::string_view data);

namespace sha256_impl {
// The compression function, exposed so the tests can hold the two implementations to each other.
void compress_portable(uint32_t state[8], const unsigned char* data, size_t blocks);
// False where the CPU (or the build) has no SHA extensions; compress_shani must not be called then.
bool have_shani();
void compress_shani(uint32_t state[8], const unsigned char* data, size_t blocks);
}  // namespace sha256_impl

}  // namespace diag
