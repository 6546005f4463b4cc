// SPDX-License-Identifier: Apache-2.0
// The shipped Nix store rules for real (adr/0018): they run confined, and what stops nix here is
// only a write the confinement refuses (setting up a store); an operand outside /nix/store never
// reaches nix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/integration/default_policy.h"

namespace diag::testing {
namespace {

TEST_F(DefaultPolicy, NixStoreRulesRunConfinedAndStayInTheStore) {
    if (::access("/usr/bin/nix", X_OK) != 0 && ::access("/run/current-system/sw/bin/nix", X_OK) != 0) {
        GTEST_SKIP() << "nix is not installed (scripts/deps.sh: nix-bin)";
    }
    for (const std::string request :
         {"nix path-info /usr", "nix-store --query --size /etc/hostname", "nix why-depends /usr /etc"}) {
        SCOPED_TRACE(request);
        auto r = run_soc(policy_, request);
        EXPECT_EQ(r.exit_code, 126) << r.err;
        EXPECT_EQ(r.err.rfind("diag-wrapper: denied: path-outside-roots: ", 0), 0u) << r.err;
    }
    // As root (this test) nix opens the local store and, where it finds one to set up, is refused
    // the writes; as the diag account it asks the daemon. Either way it ran, confined.
    const bool existed = std::filesystem::exists("/nix");
    auto r = run_soc(policy_, "nix store ping");
    EXPECT_LT(r.exit_code, 125) << "nix itself ran: " << r.err;
    if (r.exit_code != 0) {
        EXPECT_TRUE(r.err.find("Operation not permitted") != std::string::npos ||
                    r.err.find("Permission denied") != std::string::npos)
            << "only a refused write may stop it: " << r.err;
    }
    EXPECT_EQ(std::filesystem::exists("/nix"), existed) << "the confined nix created /nix";
    const auto recs = audit_records();
    ASSERT_GE(recs.size(), 2u);
    EXPECT_EQ(recs[recs.size() - 2]["diag"]["rule"], "nix-store-ping");
    EXPECT_EQ(recs[recs.size() - 2]["diag"]["decision"], "allow");
}

}  // namespace
}  // namespace diag::testing
