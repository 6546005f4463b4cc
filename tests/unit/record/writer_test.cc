// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

namespace diag::audit {
namespace {

using nlohmann::json;

// The /etc/passwd text is read once per request and given to both: these need no real file.
const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "diag:x:998:998::/var/lib/diag-wrapper:/usr/bin/diag-wrapper\n"
    "alice:x:1000:1000::/home/alice:/bin/sh\n";

Origin caller(unsigned uid) {
    Origin o;
    o.uid = uid;
    return o;
}

TEST(AuditAccount, TheServedAccountIsAccepted) {
    json rec;
    ASSERT_TRUE(check_account("diag", caller(998), kPasswd, rec).ok());
    EXPECT_EQ(rec["diag"]["origin"]["account_checked"], true);
    EXPECT_FALSE(rec["diag"]["origin"].contains("account_mismatch"));
}

TEST(AuditAccount, AnotherCallerIsDeniedAndNamed) {
    json rec;
    const Status st = check_account("diag", caller(1000), kPasswd, rec);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::kDenied);
    EXPECT_EQ(st.error().reason, "wrong-account");
    EXPECT_EQ(rec["diag"]["origin"]["account_mismatch"]["expected_uid"], 998);
    EXPECT_EQ(rec["diag"]["origin"]["account_mismatch"]["uid"], 1000);
}

TEST(AuditAccount, AnAccountMissingFromPasswdIsAPolicyError) {
    for (const std::string& passwd : {kPasswd, std::string()}) {  // empty: /etc/passwd unreadable
        json rec;
        const Status st = check_account("nobody-here", caller(998), passwd, rec);
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code, ErrorCode::kPolicyInvalid);
    }
}

TEST(AuditAccount, UnsetMeansUnchecked) {
    json rec;
    ASSERT_TRUE(check_account("", caller(1000), kPasswd, rec).ok());
    EXPECT_EQ(rec["diag"]["origin"]["account_checked"], false);
}

TEST(AuditOrigin, TheCallersNameComesFromThePasswdTextGiven) {
    const unsigned uid = static_cast<unsigned>(::getuid());
    const std::string passwd = "someone:x:" + std::to_string(uid) + ":0::/:/bin/sh\n";
    EXPECT_EQ(read_origin(passwd).user, "someone");
    EXPECT_EQ(read_origin("").user, "");
}

TEST(AuditRecord, TheEndRecordNamesTheDecisionsHost) {
    const Origin o = caller(998);
    const json decision = base_record("id", o, "cat x", nullptr);
    const json end = base_record("id", o, "cat x", nullptr);
    EXPECT_EQ(decision["host"], end["host"]);
    EXPECT_FALSE(decision["host"]["boot_id"].get<std::string>().empty());
}

}  // namespace
}  // namespace diag::audit
