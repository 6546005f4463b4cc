// SPDX-License-Identifier: Apache-2.0
// The audit record's schema as the writer serializes it and diag-audit reads it: the names of
// the fields the chain and the bound add, the order of the serialized line, and which fields no
// bound may shorten. adr/0011 explains the order and the chain.
#pragma once

#include <array>
#include <string_view>

namespace diag::audit_schema {

inline constexpr std::string_view kSchema = "diag-wrapper.audit/1";

// event.action of each record kind.
inline constexpr std::string_view kActionDecision = "decision";
inline constexpr std::string_view kActionEnd = "end";
inline constexpr std::string_view kActionCheckpoint = "checkpoint";

// diag.chain: {"id": chain UUID, "seq": per-host sequence number from 1, "prev": hex SHA-256 of
// the previous record's line}. diag.checkpoint: {"seq", "head", "time"} of the record it seals.
inline constexpr std::string_view kChain = "chain";
inline constexpr std::string_view kChainId = "id";
inline constexpr std::string_view kChainSeq = "seq";
inline constexpr std::string_view kChainPrev = "prev";
inline constexpr std::string_view kCheckpoint = "checkpoint";
inline constexpr std::string_view kCheckpointSeq = "seq";
inline constexpr std::string_view kCheckpointHead = "head";
// diag.truncated: [{"field", "length" (bytes) or "count" (elements), "sha256"}] for every field the
// bound shortened; the field keeps its first bytes (or elements).
inline constexpr std::string_view kTruncated = "truncated";
// The prev of a chain's first record: no record before it.
inline constexpr std::string_view kGenesisPrev = "0000000000000000000000000000000000000000000000000000000000000000";

// Serialized order. The fields auditors filter on come first, so a relay that cuts a line keeps
// them; the request, argv and paths, which the client controls, come last. Keys not listed follow
// the listed ones in name order.
inline constexpr std::array<std::string_view, 8> kTopFirst = {"@timestamp", "event",       "user", "source",
                                                             "diag",       "destination", "host", "schema"};
inline constexpr std::array<std::string_view, 1> kTopLast = {"process"};
inline constexpr std::array<std::string_view, 11> kDiagFirst = {
    "decision", "reason", "rule", "request_id", "key", "chain", "checkpoint",
    "origin", "sshd_pid", "policy", "truncated"};
// Client-controlled and unbounded by nature: after every other diag field, in this order.
inline constexpr std::array<std::string_view, 6> kDiagLast = {"message", "deny_entry", "sensitive",
                                                              "paths", "argv", "confinement"};
inline constexpr std::array<std::string_view, 4> kProcessLast = {"command_line", "command_line_b64", "shell_c",
                                                                 "args"};

// Fields a bound never shortens beyond kProtectedBytes: what a record is found by.
inline constexpr std::array<std::string_view, 16> kProtected = {
    "@timestamp",       "event.action",      "event.outcome",   "user.name",      "user.id",
    "source.ip",        "source.port",       "diag.decision",   "diag.reason",    "diag.rule",
    "diag.request_id",  "diag.key.type",     "diag.key.fingerprint", "diag.key.principal",
    "diag.chain.id",    "diag.chain.prev"};
// The request as the client sent it: kept up to the request cap, not the smaller field cap.
inline constexpr std::array<std::string_view, 3> kRequestFields = {"process.command_line", "process.command_line_b64",
                                                                   "process.shell_c"};

}  // namespace diag::audit_schema
