// SPDX-License-Identifier: Apache-2.0
// diag-audit's command line: argv -> Options (parse_args), and the usage text that describes it.
// Every combination a command does not take is refused here, before anything is read.
//
//   diag-audit [--file F]... [--journal] search|show ID|report|follow|verify [options]
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/audit/filter.h"
#include "wrapper/audit/reader.h"
#include "wrapper/audit/render.h"
#include "wrapper/audit/report.h"
#include "wrapper/base/error.h"

namespace diag::audit_cli {

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

[[nodiscard]] std::string usage_text();

}  // namespace diag::audit_cli
