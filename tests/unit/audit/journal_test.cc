// SPDX-License-Identifier: Apache-2.0
// diag-audit's journal source: how one line of `journalctl -o json --all` becomes a record, an
// untrusted entry or an unreadable one (never nothing), and the diag account's uid.
#include "wrapper/audit/journal.h"

#include <gtest/gtest.h>

#include <string>

#include "wrapper/base/passwd.h"

namespace diag::audit_reader {
namespace {

using Kind = JournalEntry::Kind;

std::string line(nlohmann::json fields) {
    fields.emplace("__CURSOR", "s=1;i=2");
    fields.emplace("_EXE", "/usr/bin/diag-wrapper");
    fields.emplace("_UID", "998");
    return fields.dump();
}

TEST(AuditJournal, ARecordComesFromTheDiagAccountsWrapper) {
    const JournalEntry e = classify_journal_line(line({{"MESSAGE", "{\"a\":1}"}}), 998, 7);
    EXPECT_EQ(e.kind, Kind::kRecord);
    EXPECT_EQ(e.message, "{\"a\":1}");
    EXPECT_EQ(e.cursor, "s=1;i=2");
    EXPECT_EQ(e.origin, "journal:7 _EXE=/usr/bin/diag-wrapper _UID=998 __CURSOR=s=1;i=2");
}

TEST(AuditJournal, BinaryFieldsAreArraysOfBytes) {
    // journalctl prints a value that is not UTF-8 as an array of byte values, _EXE included.
    nlohmann::json msg = nlohmann::json::array({'{', '}', 0xff});
    nlohmann::json exe = nlohmann::json::array();
    for (const char c : std::string("/opt/\xe9/diag-wrapper")) {
        exe.push_back(static_cast<unsigned char>(c));
    }
    const JournalEntry e = classify_journal_line(line({{"MESSAGE", msg}, {"_EXE", exe}}), 998, 1);
    EXPECT_EQ(e.kind, Kind::kRecord);
    EXPECT_EQ(e.message, "{}\xff");
    EXPECT_EQ(e.exe, "/opt/\xe9/diag-wrapper");
}

TEST(AuditJournal, WhatCannotBeReadIsUnreadableNeverAbsent) {
    const struct {
        std::string line;
        const char* why;
    } cases[] = {
        {line({{"MESSAGE", nullptr}}), "printed MESSAGE as null"},  // a long field without --all
        {line({}), "no MESSAGE field"},
        {line({{"MESSAGE", {"a", "b"}}}), "MESSAGE is not one value"},  // sent twice
        {line({{"MESSAGE", {1, 300}}}), "MESSAGE is not one value"},
        {line({{"MESSAGE", 5}}), "MESSAGE is not one value"},
    };
    for (const auto& c : cases) {
        const JournalEntry e = classify_journal_line(c.line, 998, 3);
        EXPECT_EQ(e.kind, Kind::kUnreadable) << c.line;
        EXPECT_NE(e.why.find(c.why), std::string::npos) << c.line << ": " << e.why;
    }
    EXPECT_EQ(classify_journal_line(line({}), 998, 3).cursor, "s=1;i=2");
}

// The wrapper never writes records through a stdout stream; a command's output or systemd-cat
// can, with the diag account's _UID.
TEST(AuditJournal, AStdoutStreamEntryIsUntrusted) {
    const JournalEntry e =
        classify_journal_line(line({{"MESSAGE", "{}"}, {"_UID", "998"}, {"_TRANSPORT", "stdout"}}), 998, 3);
    EXPECT_EQ(e.kind, Kind::kUntrusted);
    EXPECT_NE(e.why.find("_TRANSPORT=stdout"), std::string::npos) << e.why;
}

// Review finding: a line journalctl printed but we cannot parse (another account's 1 MB entry,
// cut at the reader's line limit) was an unreadable record of ours, so any local account could
// make every --journal search exit 3. It carries no trusted sender: untrusted.
TEST(AuditJournal, ALineThatIsNotJsonIsUntrustedNotOurs) {
    const JournalEntry e = classify_journal_line("{\"MESSAGE\":\"" + std::string(1000, 'A'), 998, 3);
    EXPECT_EQ(e.kind, Kind::kUntrusted);
    EXPECT_NE(e.why.find("not a JSON object"), std::string::npos) << e.why;
}

TEST(AuditJournal, OnlyTheDiagUidAndTheWrapperAreTrusted) {
    const JournalEntry other_uid = classify_journal_line(line({{"MESSAGE", "{}"}, {"_UID", "1000"}}), 998, 1);
    EXPECT_EQ(other_uid.kind, Kind::kUntrusted);
    EXPECT_EQ(other_uid.uid, "1000");
    EXPECT_EQ(other_uid.why, "_UID=1000, not the diag account's 998");
    const JournalEntry other_exe =
        classify_journal_line(line({{"MESSAGE", "{}"}, {"_EXE", "/usr/bin/logger"}}), 998, 1);
    EXPECT_EQ(other_exe.kind, Kind::kUntrusted);
    EXPECT_EQ(other_exe.why, "_EXE=/usr/bin/logger, not diag-wrapper");
    // journald could not read _EXE (the sender exited first, common under load): the record of
    // the diag account is kept, with exe empty so that the reader says so.
    nlohmann::json no_exe = nlohmann::json::parse(line({{"MESSAGE", "{}"}}));
    no_exe.erase("_EXE");
    const JournalEntry e = classify_journal_line(no_exe.dump(), 998, 1);
    EXPECT_EQ(e.kind, Kind::kRecord);
    EXPECT_EQ(e.exe, "");
    no_exe["_UID"] = "1000";
    EXPECT_EQ(classify_journal_line(no_exe.dump(), 998, 1).kind, Kind::kUntrusted);
    // A client-sent _UID never reaches the entry (journald drops it); an unreadable one is untrusted.
    EXPECT_EQ(classify_journal_line(line({{"MESSAGE", nullptr}, {"_UID", nullptr}}), 998, 1).kind, Kind::kUntrusted);
}

TEST(AuditJournal, AccountUidFromPasswd) {
    const std::string passwd =
        "root:x:0:0:root:/root:/bin/bash\n"
        "# comment\n"
        "broken:x:abc:1::/:/bin/sh\n"
        "diag:x:998:998:diag:/var/empty:/usr/sbin/nologin\n"
        "diag:x:1001:1001:second:/:/bin/sh\n";
    EXPECT_EQ(account_uid(passwd, "diag").value(), 998u);
    EXPECT_EQ(account_uid(passwd, "root").value(), 0u);
    auto none = account_uid(passwd, "broken");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kUsage);
    EXPECT_EQ(util::passwd_name(passwd, 998), "diag");
}

TEST(AuditReader, TrustedJournalSenders) {
    EXPECT_TRUE(trusted_journal_exe("/usr/bin/diag-wrapper"));
    EXPECT_TRUE(trusted_journal_exe("/nix/store/abc-diag-wrapper-0.1.0/bin/diag-wrapper"));
    EXPECT_TRUE(trusted_journal_exe("/usr/bin/diag-wrapper (deleted)"));
    for (const char* bad : {"", "diag-wrapper", "/usr/bin/logger", "/tmp/diag-wrapper.sh", "/usr/bin/diag-wrapperx",
                            "/usr/bin/diag-wrapper/", " (deleted)"}) {
        EXPECT_FALSE(trusted_journal_exe(bad)) << bad;
    }
}

}  // namespace
}  // namespace diag::audit_reader
