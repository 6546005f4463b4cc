// SPDX-License-Identifier: Apache-2.0
// diag-audit: the auditors' command. argv -> Options (parse_args) -> run(). Read-only; never needs
// root (read access to the audit file or the journal is enough).
//
//   diag-audit [--file F]... [--journal] search|show ID|report|follow|verify [options]
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/filter.h"
#include "wrapper/audit/journal.h"
#include "wrapper/audit/reader.h"
#include "wrapper/audit/render.h"
#include "wrapper/audit/report.h"
#include "wrapper/base/error.h"

namespace diag::audit_cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotFound = 1;  // search found nothing, show found no such request
inline constexpr int kExitError = 2;     // usage or input error, ambiguous show prefix
// search, show, report, follow: the output is complete as far as it goes, but some journal
// entries of diag-wrapper could not be read (listed on stderr with their cursors): any request
// may be among them, so "nothing found" or "nothing incomplete" cannot be claimed.
inline constexpr int kExitUnreadable = 3;
inline constexpr int kFollowPollMs = 200;

enum class Command { kSearch, kShow, kReport, kFollow, kVerify, kHelp, kVersion };

struct Options {
    Command command = Command::kHelp;
    std::vector<std::string> files;  // --file, in order; "-" is stdin
    bool journal = false;
    // Journal entries are records only when journald says they came from this account (and from a
    // diag-wrapper binary): --uid N, else --account NAME looked up in passwd_file.
    std::string account = "diag";
    std::optional<uid_t> uid;
    std::string passwd_file = "/etc/passwd";
    audit_render::Format format = audit_render::Format::kTable;
    audit_filter::Filter filter;
    std::string request_id;  // show
    std::string policy;      // report --policy
    size_t top = audit_report::kDefaultTop;
    std::optional<size_t> count;  // follow --count: stop after N records
    size_t lines = 10;            // follow --lines: records shown from before the start
    std::string default_file = audit_reader::kDefaultAuditFile;
    std::vector<std::string> anchors;  // verify --anchor SEQ:SHA256, in order
    std::string state;                 // verify --state FILE: the chain state's head as an anchor
};

// Parses the arguments after argv[0]. `now_us` anchors relative times (-2h). Errors: kUsage.
[[nodiscard]] Result<Options> parse_args(const std::vector<std::string>& args, int64_t now_us);

// Where run() writes, and what it needs from the process.
struct Io {
    std::function<void(std::string_view)> out;
    std::function<void(std::string_view)> err;
    const volatile std::sig_atomic_t* stop = nullptr;  // follow ends when it becomes non-zero
    int poll_ms = kFollowPollMs;
};

// Runs the command; returns the exit status (kExitOk, kExitNotFound, kExitError). Errors are one
// line on io.err: "diag-audit: error: ...".
[[nodiscard]] int run(const Options& o, Io& io);

[[nodiscard]] std::string usage_text();

}  // namespace diag::audit_cli
