// SPDX-License-Identifier: Apache-2.0
// SHA-256 against the FIPS 180-4 examples, the two compression functions against each other,
// and the streaming interface against one-shot hashing at every split.
#include "wrapper/base/sha256.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

namespace diag {
namespace {

std::string random_bytes(std::mt19937_64& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng() & 0xff);
    }
    return s;
}

TEST(Sha256, FipsExamples) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(
        sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                   "mnopqrstnopqrstu"),
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    Sha256 h;
    const std::string a(1000, 'a');
    for (int i = 0; i < 1000; ++i) {
        h.update(a.data(), a.size());
    }
    EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
    // 55, 56 and 64 bytes: the length fits, just misses, and a whole padding block follows.
    EXPECT_EQ(sha256_hex(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    EXPECT_EQ(sha256_hex(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    EXPECT_EQ(sha256_hex(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    EXPECT_EQ(sha256_raw("abc").size(), 32u);
}

TEST(Sha256, ShaExtensionsAgreeWithPortableCode) {
    if (!sha256_impl::have_shani()) {
        GTEST_SKIP() << "this CPU has no SHA extensions: only the portable code runs here";
    }
    std::mt19937_64 rng(20261123);
    for (size_t blocks = 1; blocks <= 40; ++blocks) {
        const std::string data = random_bytes(rng, blocks * 64);
        uint32_t a[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
        uint32_t b[8];
        for (int i = 0; i < 8; ++i) {
            a[i] ^= static_cast<uint32_t>(rng());  // any chaining value, not only the initial one
            b[i] = a[i];
        }
        const auto* p = reinterpret_cast<const unsigned char*>(data.data());
        sha256_impl::compress_portable(a, p, blocks);
        sha256_impl::compress_shani(b, p, blocks);
        for (int i = 0; i < 8; ++i) {
            ASSERT_EQ(a[i], b[i]) << blocks << " blocks, word " << i;
        }
    }
}

TEST(Sha256, StreamingEqualsOneShotAtEverySplit) {
    std::mt19937_64 rng(7);
    const std::string data = random_bytes(rng, 300);
    const std::string whole = sha256_hex(data);
    for (size_t cut = 0; cut <= data.size(); ++cut) {
        for (size_t cut2 = cut; cut2 <= data.size(); cut2 += 37) {
            Sha256 h;
            h.update(data.data(), cut);
            h.update(nullptr, 0);  // an empty update, even of a null pointer, changes nothing
            h.update(data.data() + cut, cut2 - cut);
            h.update(data.data() + cut2, data.size() - cut2);
            ASSERT_EQ(h.hex_digest(), whole) << cut << "/" << cut2;
        }
    }
}

// An outside opinion: coreutils' sha256sum over random data of many lengths.
TEST(Sha256, AgreesWithSha256sum) {
    FILE* probe = ::popen("command -v sha256sum", "r");
    char buf[256] = {};
    const bool found = probe != nullptr && std::fgets(buf, sizeof buf, probe) != nullptr;
    if (probe != nullptr) {
        ::pclose(probe);
    }
    if (!found) {
        GTEST_SKIP() << "sha256sum is not installed";
    }
    std::mt19937_64 rng(99);
    for (size_t n : {0u, 1u, 63u, 64u, 65u, 119u, 120u, 1000u, 65537u}) {
        const std::string data = random_bytes(rng, n);
        char path[] = "/tmp/diag-sha256-XXXXXX";
        const int fd = ::mkstemp(path);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
        ::close(fd);
        FILE* p = ::popen((std::string("sha256sum ") + path).c_str(), "r");
        ASSERT_NE(p, nullptr);
        char out[128] = {};
        ASSERT_NE(std::fgets(out, sizeof out, p), nullptr);
        ::pclose(p);
        ::unlink(path);
        EXPECT_EQ(std::string(out, 64), sha256_hex(data)) << n << " bytes";
    }
}

}  // namespace
}  // namespace diag
