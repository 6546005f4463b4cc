// SPDX-License-Identifier: Apache-2.0
// diag-audit run(): reads the inputs of search, show and report once, warns about what reading
// skipped, and hands over to the command; follow and verify read their inputs themselves.
#include "wrapper/audit/cli.h"

#include <utility>

#include "wrapper/audit/follow.h"
#include "wrapper/audit/join.h"
#include "wrapper/audit/journal.h"
#include "wrapper/audit/render.h"
#include "wrapper/audit/report.h"
#include "wrapper/audit/search.h"
#include "wrapper/audit/verify.h"

namespace diag::audit_cli {

namespace {

using audit_reader::Request;
using audit_render::escape;

void report_stats(Io& io, const audit_reader::ReadStats& s) {
    if (s.skipped != 0) {
        std::string where;
        for (const auto& at : s.skipped_at) {
            where += (where.empty() ? "" : ", ") + at;
        }
        say_warning(io, std::to_string(s.skipped) + " line(s) skipped (not JSON objects): " + where +
                            (s.skipped > s.skipped_at.size() ? ", ..." : ""));
    }
    if (s.conflicts != 0) {
        say_warning(io, std::to_string(s.conflicts) +
                            " record(s) conflict with an earlier record of the same request id; the first is shown");
    }
    if (s.unknown != 0) {
        say_warning(io, std::to_string(s.unknown) + " record(s) with an unknown event.action ignored");
    }
    for (const auto& note : audit_reader::journal_notes(s)) {
        say_warning(io, note);
    }
}

// Reads every input of a non-follow command; `unreadable` is set when journal entries could not be read.
Result<std::vector<Request>> load(const Options& o, Io& io, bool& unreadable) {
    audit_reader::Collected c;
    if (o.journal) {
        std::vector<std::string> warnings;
        DIAG_TRY_ASSIGN(uid_t uid, audit_reader::diag_uid(o.uid, o.account, o.passwd_file));
        DIAG_TRY(audit_reader::read_journal(c, uid, warnings));
        for (const auto& w : warnings) {
            say_warning(io, w);
        }
    }
    std::vector<std::string> files = o.files;
    if (files.empty() && !o.journal) {
        DIAG_TRY_ASSIGN(files, audit_reader::default_files(o.default_file));
    }
    for (const auto& f : files) {
        DIAG_TRY(audit_reader::read_file(f, c));
    }
    auto requests = audit_reader::join(std::move(c.records), c.stats);
    report_stats(io, c.stats);
    unreadable = !c.stats.unreadable.empty();
    return requests;
}

}  // namespace

void say_error(Io& io, const Error& e) { io.err("diag-audit: error: " + escape(e.describe()) + "\n"); }

void say_warning(Io& io, const std::string& msg) { io.err("diag-audit: warning: " + escape(msg) + "\n"); }

int run(const Options& o, Io& io) {
    switch (o.command) {
        case Command::kHelp:
            io.out(usage_text());
            return kExitOk;
        case Command::kVersion:
            io.out(std::string("diag-audit ") + DIAG_VERSION + "\n");
            return kExitOk;
        case Command::kFollow:
            return audit_follow::run(o, io);
        case Command::kVerify:
            return audit_verify::run(o, io);
        case Command::kSearch:
        case Command::kShow:
        case Command::kReport:
            break;
    }
    bool unreadable = false;
    auto all = load(o, io, unreadable);
    if (!all.ok()) {
        say_error(io, all.error());
        return kExitError;
    }
    int rc = kExitOk;
    switch (o.command) {
        case Command::kShow:
            rc = audit_search::show(o, io, *all);
            break;
        case Command::kReport:
            rc = audit_report::run(o, io, *all);
            break;
        default:
            rc = audit_search::search(o, io, *all);
            break;
    }
    // Unreadable entries may hold any request: neither "found nothing" nor "complete" is known.
    return unreadable && rc != kExitError ? kExitUnreadable : rc;
}

}  // namespace diag::audit_cli
