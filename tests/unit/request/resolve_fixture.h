// SPDX-License-Identifier: Apache-2.0
// The fixture the resolve and deny-list tests share: a symlink farm around a denied directory and
// a denied glob, in a temp dir, and one argument run through resolve() and check_links() as the
// pipeline runs them.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "wrapper/policy/deny_list.h"
#include "wrapper/request/path_resolve.h"

namespace diag::path_resolve {

// One argument through both steps, as the pipeline runs them: resolve(), then check_links().
inline Result<Resolved> resolve_and_check(const policy::Deny& deny, const std::string& p, Use use,
                                          const std::vector<std::string>& roots = {}) {
    auto r = resolve(deny, p, use, roots);
    if (!r.ok()) {
        return r;
    }
    ScanBudget budget;
    if (auto links = check_links(deny, *r, use, budget); !links.ok()) {
        return std::move(links).error();
    }
    return r;
}

// A symlink farm around a denied directory and a denied file.
class PathResolve : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/diagresolve.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = std::filesystem::canonical(tmpl).string();
        std::filesystem::create_directories(d_ + "/secret/sub");
        std::filesystem::create_directories(d_ + "/pub/sub");
        std::filesystem::create_directories(d_ + "/keys");
        put(d_ + "/secret/canary", "CANARY");
        put(d_ + "/secret/sub/deep", "DEEP");
        put(d_ + "/keys/host_ed25519_key", "PRIVATE");
        put(d_ + "/keys/host_ed25519_key.pub", "PUBLIC");
        put(d_ + "/pub/readme", "hello");
        std::filesystem::create_symlink("../secret/canary", d_ + "/pub/link");
        std::filesystem::create_symlink(d_ + "/secret", d_ + "/pub/dirlink");
        std::filesystem::create_symlink("hop2", d_ + "/pub/hop1");
        std::filesystem::create_symlink("link", d_ + "/pub/hop2");
        std::filesystem::create_symlink("loop", d_ + "/pub/loop");
        std::filesystem::create_symlink(d_ + "/keys/host_ed25519_key", d_ + "/pub/keylink");
        deny_ = build({d_ + "/secret", d_ + "/keys/host_*_key"});
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(d_, ec);
    }
    static void put(const std::string& p, const std::string& text) { std::ofstream(p) << text; }
    static policy::Deny build(const std::vector<std::string>& entries) {
        std::vector<deny_list::RawDeny> raw;
        for (const auto& e : entries) {
            raw.push_back({e, "test"});
        }
        auto d = deny_list::build_deny(raw);
        EXPECT_TRUE(d.ok()) << d.error().msg;
        return d.ok() ? *d : policy::Deny{};
    }
    Result<Resolved> res(const std::string& p, Use use = Use::kContent, const std::vector<std::string>& roots = {}) {
        return resolve_and_check(deny_, p, use, roots);
    }
    std::string d_;
    policy::Deny deny_;
};

}  // namespace diag::path_resolve
