// SPDX-License-Identifier: Apache-2.0
// What the diag-audit unit tests share: the recorded fixture (tests/testdata/audit/fixture.jsonl:
// 20 requests R0..R19 plus malformed lines; kId below names them) read and joined once, a
// scratch directory for files, and diag-audit run in-process.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/cli.h"
#include "wrapper/audit/fields.h"
#include "wrapper/audit/filter.h"
#include "wrapper/audit/join.h"
#include "wrapper/audit/reader.h"

namespace diag::audit_reader {

using audit_filter::Filter;

// DIAG_TESTDATA_DIR: a readable copy of tests/testdata, for the unprivileged run
// (tests/helpers/run_unprivileged.sh), where the source tree may not be readable.
inline const std::string kDir =
    (std::getenv("DIAG_TESTDATA_DIR") != nullptr ? std::string(std::getenv("DIAG_TESTDATA_DIR"))
                                                 : std::string(DIAG_SOURCE_DIR) + "/tests/testdata") +
    "/audit";
inline const std::string kFixture = kDir + "/fixture.jsonl";
inline const std::string kFixtureGz = kDir + "/fixture.jsonl.gz";
inline const std::string kPolicy = kDir + "/policy.toml";

// R0 is an end record whose decision is in an older rotation; R1 is from the day before.
inline constexpr const char* kId[] = {
    "01a205b3-cf9c-7dd1-9916-96e15e2ee293",  // R0  orphan end, uptime, 2026-11-22 23:59:59
    "01a2027b-d6e4-782f-93e9-c695dc6b8d1b",  // R1  allow uname (2026-11-22 09:00)
    "01a208be-7608-7db7-97fd-01af957221a4",  // R2  allow uname, exit 0, 87 bytes, 3 ms
    "01a208be-f4f0-7e49-9d63-b2a8a78f048b",  // R3  deny path-denied (cat /etc/shadow)
    "01a208c0-74ba-7a2e-9c8a-dac7fd24b4b7",  // R4  allow df (cert key, IPv6), end after R5
    "01a208c0-d569-75eb-9242-aeb685528629",  // R5  deny unknown-command
    "01a208c1-ac40-725f-91c7-90f16f423d2f",  // R6  allow journalctl on db-3, exit 1
    "01a208c3-0dc4-7dbb-97b2-94e78f1c47d4",  // R7  deny parse-metachar on db-3
    "01a208c3-8100-799c-966b-8eedd61fc424",  // R8  error internal-error
    "01a208c5-1b28-7794-9d9d-1a3026162788",  // R9  allow tail, no end record (incomplete)
    "01a208c5-55c0-725e-933b-f8a5fb556a14",  // R10 allow find, timed out, signal 9, capped
    "01a208c5-caf0-74f2-9ea3-18c182bb84eb",  // R11 help (allowed, never has an end record)
    "01a208c7-2a80-72d7-9f51-e7cfdc27b492",  // R12 newline in the command (new key, no principal)
    "01a208c8-14e0-7fb0-9172-7c5080ba6ebc",  // R13 ESC, CSI (U+009B), DEL in the command
    "01a208c8-ff40-7a73-9757-01335e65d18b",  // R14 U+202E in the command
    "01a208c9-e9a0-7507-983c-4a613d6ebeaa",  // R15 invalid UTF-8 (command_line_b64)
    "01a208ca-d400-721e-9740-0b4e0f51d4aa",  // R16 hostile cert key id and principal, db-3
    "01a208cb-be60-7db5-922a-3881be3c489d",  // R17 end record with wrong types everywhere
    "01a208cd-1df0-7c53-9d8e-591f064af58e",  // R18 sensitive arguments redacted
    "01a208cd-9320-7426-9536-2daeef37d01e",  // R19 the key could not be read (diag.key.error)
};
inline constexpr int kNoId = -1;  // the record with "@timestamp": 12345 and "diag": "oops"
inline const std::string kK1 = "SHA256:UrunsZEDQW+r00OArmrk4+d4pSMIa/61VFhU/9PmuUQ";
inline const std::string kK3 = "SHA256:nEwKeyT9vB3mQ7xL2pR8sW4yH6jK0cF5gD1aZ3uE9iO";
inline const std::string kCa = "SHA256:CaKeyCaKeyR3Xw0Q6hM9tV2yB5nJ8kL1pS4uE7iO0aZ";

inline int64_t at(const char* iso) { return parse_timestamp(iso).value(); }
inline const int64_t kNow = at("2026-11-23T15:00:00Z");

struct Loaded {
    std::vector<Request> requests;
    ReadStats stats;
};

inline Loaded load(const std::vector<std::string>& files) {
    Collected c;
    for (const auto& f : files) {
        auto st = read_file(f, c);
        EXPECT_TRUE(st.ok()) << st.error().describe();
    }
    Loaded l;
    l.requests = join(std::move(c.records), c.stats);
    l.stats = c.stats;
    return l;
}

inline const Loaded& fixture() {
    static const Loaded l = load({kFixture});
    return l;
}

inline int number_of(const Request& r) {
    for (int i = 0; i < static_cast<int>(std::size(kId)); ++i) {
        if (r.id == kId[i]) {
            return i;
        }
    }
    return kNoId;
}

inline const Request& req(int n) {
    for (const auto& r : fixture().requests) {
        if (number_of(r) == n) {
            return r;
        }
    }
    ADD_FAILURE() << "no request R" << n;
    return fixture().requests.front();
}

// The requests `f` selects, as fixture numbers in output (time) order.
inline std::vector<int> selected(const Filter& f) {
    std::vector<int> out;
    for (const auto& r : fixture().requests) {
        auto hit = audit_filter::matches(f, r);
        EXPECT_TRUE(hit.ok());
        if (hit.ok() && *hit) {
            out.push_back(number_of(r));
        }
    }
    return out;
}

inline Filter since(const char* s) {
    Filter f;
    f.since_us = audit_filter::parse_time(s, kNow).value();
    return f;
}

// Decodes UTF-8 and reports the first code point a terminal would act on or hide; "" when clean.
// Newlines separate records; a CR is allowed only right before one (CSV's CRLF).
inline std::string first_raw_control(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        uint32_t cp = c;
        size_t len = 1;
        if (c >= 0x80) {
            len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
            if (len == 0 || i + len > s.size()) {
                return "invalid UTF-8 at byte " + std::to_string(i);
            }
            cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
            for (size_t k = 1; k < len; ++k) {
                const auto b = static_cast<unsigned char>(s[i + k]);
                if ((b & 0xC0) != 0x80) {
                    return "invalid UTF-8 at byte " + std::to_string(i);
                }
                cp = (cp << 6) | (b & 0x3F);
            }
        }
        const bool crlf = cp == '\r' && i + 1 < s.size() && s[i + 1] == '\n';
        const bool bad = (cp < 0x20 && cp != '\n' && !crlf) || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
                         cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E) ||
                         (cp >= 0x2066 && cp <= 0x2069);
        if (bad) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "U+%04X at byte %zu", static_cast<unsigned>(cp), i);
            return buf;
        }
        i += len;
    }
    return "";
}

inline std::vector<const Request*> all_rows() {
    std::vector<const Request*> rows;
    for (const auto& r : fixture().requests) {
        rows.push_back(&r);
    }
    return rows;
}

// A scratch directory, removed after each test.
class AuditReaderFiles : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diag-audit-test.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& bytes) const {
        const std::string p = dir_ + "/" + name;
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
    static std::string slurp(const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::string dir_;
};

// diag-audit run in-process: exit status and what it wrote.
struct Ran {
    int status = -1;
    std::string out;
    std::string err;
};

inline Ran cli(std::vector<std::string> args) {
    Ran r;
    auto o = audit_cli::parse_args(args, kNow);
    if (!o.ok()) {
        r.status = audit_cli::kExitError;
        r.err = o.error().msg;
        return r;
    }
    audit_cli::Io io;
    io.out = [&](std::string_view s) { r.out += s; };
    io.err = [&](std::string_view s) { r.err += s; };
    r.status = audit_cli::run(*o, io);
    return r;
}

}  // namespace diag::audit_reader
