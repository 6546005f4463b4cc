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

// Field names, for the writer and the reader alike. The top level follows ECS.
inline constexpr std::string_view kTimestamp = "@timestamp";
inline constexpr std::string_view kEvent = "event";
inline constexpr std::string_view kUser = "user";
inline constexpr std::string_view kSource = "source";
inline constexpr std::string_view kDiag = "diag";
inline constexpr std::string_view kDestination = "destination";
inline constexpr std::string_view kHost = "host";
inline constexpr std::string_view kSchemaField = "schema";
inline constexpr std::string_view kProcess = "process";
// event.*
inline constexpr std::string_view kAction = "action";
// user.*, source.*, host.*
inline constexpr std::string_view kUserName = "name";
inline constexpr std::string_view kSourceIp = "ip";
inline constexpr std::string_view kSourcePort = "port";
inline constexpr std::string_view kHostHostname = "hostname";
inline constexpr std::string_view kHostName = "name";
inline constexpr std::string_view kHostId = "id";
inline constexpr std::string_view kHostBootId = "boot_id";
inline constexpr std::string_view kHostBoot = "boot";  // host.boot.id, as ECS names boot_id: read too
// diag.*
inline constexpr std::string_view kDecision = "decision";
inline constexpr std::string_view kReason = "reason";
inline constexpr std::string_view kRule = "rule";
inline constexpr std::string_view kRequestId = "request_id";
inline constexpr std::string_view kKey = "key";
inline constexpr std::string_view kOrigin = "origin";
inline constexpr std::string_view kSshdPid = "sshd_pid";
inline constexpr std::string_view kPolicy = "policy";
inline constexpr std::string_view kMessage = "message";
inline constexpr std::string_view kDenyEntry = "deny_entry";
inline constexpr std::string_view kSensitive = "sensitive";
inline constexpr std::string_view kPaths = "paths";
inline constexpr std::string_view kArgv = "argv";
inline constexpr std::string_view kConfinement = "confinement";
inline constexpr std::string_view kWithheld = "withheld";  // glob matches held back (adr/0014)
inline constexpr std::string_view kPipeline = "pipeline";  // every stage of a pipeline (adr/0015)
inline constexpr std::string_view kSkipped = "skipped";    // denied paths a tree's program skips (adr/0016)
inline constexpr std::string_view kResult = "result";      // the end record's outcome
// diag.key.* and diag.key.certificate.*
inline constexpr std::string_view kKeyType = "type";
inline constexpr std::string_view kKeyFingerprint = "fingerprint";
inline constexpr std::string_view kKeyPrincipal = "principal";
inline constexpr std::string_view kKeyError = "error";
inline constexpr std::string_view kKeyCertificate = "certificate";
inline constexpr std::string_view kCertKeyId = "key_id";
inline constexpr std::string_view kCertSerial = "serial";
inline constexpr std::string_view kCertCaFingerprint = "ca_fingerprint";
// diag.result.*
inline constexpr std::string_view kResultExitStatus = "exit_status";
inline constexpr std::string_view kResultExitCode = "exit_code";
inline constexpr std::string_view kResultSignal = "signal";
inline constexpr std::string_view kResultDurationMs = "duration_ms";
inline constexpr std::string_view kResultStdout = "stdout";
inline constexpr std::string_view kResultStderr = "stderr";
inline constexpr std::string_view kResultBytes = "bytes";  // of stdout and stderr
inline constexpr std::string_view kResultTimedOut = "timed_out";
inline constexpr std::string_view kResultOutputCapped = "output_capped";
inline constexpr std::string_view kResultClientGone = "client_gone";
inline constexpr std::string_view kResultError = "error";
// process.*
inline constexpr std::string_view kPid = "pid";
inline constexpr std::string_view kParent = "parent";
inline constexpr std::string_view kCommandLine = "command_line";
inline constexpr std::string_view kCommandLineB64 = "command_line_b64";
inline constexpr std::string_view kCommandLineRedacted = "command_line_redacted";
inline constexpr std::string_view kShellC = "shell_c";
inline constexpr std::string_view kArgs = "args";

// Serialized order. The fields auditors filter on come first, so a relay that cuts a line keeps
// them; the request, argv and paths, which the client controls, come last. Keys not listed follow
// the listed ones in name order.
inline constexpr std::array<std::string_view, 8> kTopFirst = {kTimestamp, kEvent,       kUser, kSource,
                                                              kDiag,      kDestination, kHost, kSchemaField};
inline constexpr std::array<std::string_view, 1> kTopLast = {kProcess};
inline constexpr std::array<std::string_view, 11> kDiagFirst = {
    kDecision, kReason, kRule, kRequestId, kKey, kChain, kCheckpoint, kOrigin, kSshdPid, kPolicy, kTruncated};
// Client-controlled and unbounded by nature: after every other diag field, in this order.
inline constexpr std::array<std::string_view, 9> kDiagLast = {kMessage, kDenyEntry, kSensitive,   kPaths,   kWithheld,
                                                              kSkipped, kArgv,      kConfinement, kPipeline};
inline constexpr std::array<std::string_view, 4> kProcessLast = {kCommandLine, kCommandLineB64, kShellC, kArgs};

// Fields a bound never shortens beyond kProtectedBytes: what a record is found by.
inline constexpr std::array<std::string_view, 16> kProtected = {
    "@timestamp",           "event.action",       "event.outcome", "user.name",      "user.id",         "source.ip",
    "source.port",          "diag.decision",      "diag.reason",   "diag.rule",      "diag.request_id", "diag.key.type",
    "diag.key.fingerprint", "diag.key.principal", "diag.chain.id", "diag.chain.prev"};
// The request as the client sent it: kept up to the request cap, not the smaller field cap.
inline constexpr std::array<std::string_view, 3> kRequestFields = {"process.command_line", "process.command_line_b64",
                                                                   "process.shell_c"};

}  // namespace diag::audit_schema
