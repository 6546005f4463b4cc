// SPDX-License-Identifier: Apache-2.0
// diag-audit verify: is the trail whole? Walks the chained records (adr/0011) of files (plain or
// gzip, rotations in order) and/or the journal, and reports with exact sequence numbers:
//   gap        sequence numbers missing (records deleted or never forwarded)
//   fork       two different records with one sequence number, or one other than an anchor names
//              (a forged or replaced record)
//   edit       a record whose hash is not what its successor (or a checkpoint) says it was
//   order      records out of sequence order (moved, swapped)
//   truncated  the trail ends before a sequence number an anchor, the state file or another
//              input shows to exist, or starts after an anchored one
//   unchained  a line that is not a chained record (unreadable, forged, from before the chain,
//              at seq 0, or longer than any record)
//   restart    a second chain: the state was reset
// Exit status: 0 whole, 1 defects found, 2 usage error or an input that cannot be read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/audit/cli.h"
#include "wrapper/base/error.h"

namespace diag::audit_verify {

inline constexpr int kExitWhole = 0;
inline constexpr int kExitDefects = 1;
inline constexpr int kExitUnreadable = 2;

// One line exactly as stored (without its newline) and where it was read ("file:line").
struct Line {
    std::string text;
    std::string where;
    bool oversized = false;  // longer than audit_reader::kMaxLineBytes: `text` not kept
};

// One input: the files of one log in order, or the journal.
struct Source {
    std::string name;
    std::vector<Line> lines;
};

// A record known to exist outside the inputs: a checkpoint forwarded off the host, or the state
// file's head. `chain` empty: the last chain of the inputs.
struct Anchor {
    uint64_t seq = 0;
    std::string hash;
    std::string chain;
    std::string from;  // for messages: "--anchor", the state file's path
};

struct Finding {
    std::string kind;  // gap, fork, edit, order, truncated, unchained, restart
    std::string text;
};

struct Report {
    std::vector<Finding> defects;
    std::vector<std::string> notes;
    size_t records = 0;
};

// "SEQ:SHA256HEX" (what a checkpoint record says: diag.checkpoint.seq and .head). Errors: kUsage.
[[nodiscard]] Result<Anchor> parse_anchor(std::string_view text);

// Checks the chain over every source. Pure: no I/O.
[[nodiscard]] Report verify(const std::vector<Source>& sources, const std::vector<Anchor>& anchors);

// The verify command of diag-audit: reads the inputs of `o`, prints findings, returns the exit status.
[[nodiscard]] int run(const audit_cli::Options& o, audit_cli::Io& io);

}  // namespace diag::audit_verify
