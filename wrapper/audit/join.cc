// SPDX-License-Identifier: Apache-2.0
// Records into requests: the record kind, the typed view (field names from record/schema.h), the
// join by request id and the order by time.
#include "wrapper/audit/join.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "wrapper/audit/fields.h"
#include "wrapper/base/encoding.h"
#include "wrapper/record/schema.h"

namespace diag::audit_reader {

using nlohmann::json;
namespace schema = audit_schema;

std::string record_kind(const json& record) {
    const json* action = find(record, {schema::kEvent, schema::kAction});
    if (action != nullptr && action->is_string()) {
        const auto& a = action->get_ref<const std::string&>();
        return a == schema::kActionDecision || a == schema::kActionEnd ? a : std::string();
    }
    if (action != nullptr) {
        return {};  // present but not a string: not ours to guess
    }
    if (find(record, {schema::kDiag, schema::kResult}) != nullptr) {
        return std::string(schema::kActionEnd);
    }
    // Without any of our fields ({} or someone else's JSON) it is not a record of the wrapper.
    const bool ours = find(record, {schema::kDiag, schema::kDecision}) != nullptr ||
                      find(record, {schema::kDiag, schema::kRequestId}) != nullptr;
    return ours ? std::string(schema::kActionDecision) : std::string();
}

namespace {

// A pipeline's rules in order ("ps-bsd | grep-filter"), from the decision record's diag.pipeline;
// empty for a single command or a record that does not have the shape.
std::string pipeline_rules(const json& decision) {
    const json* stages = find(decision, {schema::kDiag, schema::kPipeline});
    if (stages == nullptr || !stages->is_array()) {
        return {};
    }
    std::string out;
    for (const auto& s : *stages) {
        const std::string rule = get_string(s, {schema::kRule});
        if (rule.empty()) {
            return {};
        }
        out += (out.empty() ? "" : " | ") + rule;
    }
    return out;
}

}  // namespace

Request make_request(json decision, json end) {
    Request r;
    r.decision = std::move(decision);
    r.end = std::move(end);
    const json& d = r.decision;
    const json& e = r.end;
    // A field from the decision record, else from the end record (both carry the base fields).
    auto str = [&](FieldPath path) {
        std::string v = get_string(d, path);
        return v.empty() ? get_string(e, path) : v;
    };
    auto scalar = [&](FieldPath path) {
        std::string v = get_scalar(d, path);
        return v.empty() ? get_scalar(e, path) : v;
    };
    r.id = str({schema::kDiag, schema::kRequestId});
    r.timestamp = str({schema::kTimestamp});
    r.time_us = parse_timestamp(r.timestamp);
    r.end_time_us = parse_timestamp(get_string(e, {schema::kTimestamp}));
    r.verdict = str({schema::kDiag, schema::kDecision});
    r.reason = get_string(d, {schema::kDiag, schema::kReason});
    r.rule = str({schema::kDiag, schema::kRule});
    r.pipeline_rules = pipeline_rules(d);
    r.message = get_string(d, {schema::kDiag, schema::kMessage});
    r.principal = str({schema::kDiag, schema::kKey, schema::kKeyPrincipal});
    r.key_type = str({schema::kDiag, schema::kKey, schema::kKeyType});
    r.key_fingerprint = str({schema::kDiag, schema::kKey, schema::kKeyFingerprint});
    r.cert_key_id = str({schema::kDiag, schema::kKey, schema::kKeyCertificate, schema::kCertKeyId});
    r.cert_serial = scalar({schema::kDiag, schema::kKey, schema::kKeyCertificate, schema::kCertSerial});
    r.ca_fingerprint = str({schema::kDiag, schema::kKey, schema::kKeyCertificate, schema::kCertCaFingerprint});
    r.key_error = str({schema::kDiag, schema::kKey, schema::kKeyError});
    const std::string b64 = str({schema::kProcess, schema::kCommandLineB64});
    if (auto bytes = b64.empty() ? std::nullopt : util::base64_decode(b64)) {
        r.command = std::move(*bytes);
        r.command_lossy = true;
    } else {
        r.command = str({schema::kProcess, schema::kCommandLine});
    }
    r.command_redacted = get_bool(d, {schema::kProcess, schema::kCommandLineRedacted}) ||
                         get_bool(e, {schema::kProcess, schema::kCommandLineRedacted});
    r.user = str({schema::kUser, schema::kUserName});
    r.source_ip = str({schema::kSource, schema::kSourceIp});
    r.source_port = scalar({schema::kSource, schema::kSourcePort});
    r.host = str({schema::kHost, schema::kHostHostname});
    if (r.host.empty()) {
        r.host = str({schema::kHost, schema::kHostName});
    }
    r.host_id = str({schema::kHost, schema::kHostId});
    r.boot_id = str({schema::kHost, schema::kHostBootId});
    if (r.boot_id.empty()) {
        r.boot_id = str({schema::kHost, schema::kHostBoot, schema::kHostId});
    }
    r.pid = scalar({schema::kProcess, schema::kPid});
    r.parent_pid = scalar({schema::kProcess, schema::kParent, schema::kPid});
    r.sshd_pid = scalar({schema::kDiag, schema::kSshdPid});
    r.exit_status = get_int(e, {schema::kDiag, schema::kResult, schema::kResultExitStatus});
    r.exit_code = get_int(e, {schema::kDiag, schema::kResult, schema::kResultExitCode});
    r.signal = get_int(e, {schema::kDiag, schema::kResult, schema::kResultSignal});
    r.duration_ms = get_int(e, {schema::kDiag, schema::kResult, schema::kResultDurationMs});
    if (r.duration_ms && *r.duration_ms < 0) {
        r.duration_ms.reset();
    }
    r.stdout_bytes = get_int(e, {schema::kDiag, schema::kResult, schema::kResultStdout, schema::kResultBytes});
    r.stderr_bytes = get_int(e, {schema::kDiag, schema::kResult, schema::kResultStderr, schema::kResultBytes});
    r.timed_out = get_bool(e, {schema::kDiag, schema::kResult, schema::kResultTimedOut});
    r.output_capped = get_bool(e, {schema::kDiag, schema::kResult, schema::kResultOutputCapped});
    r.client_gone = get_bool(e, {schema::kDiag, schema::kResult, schema::kResultClientGone});
    r.end_error = get_string(e, {schema::kDiag, schema::kResult, schema::kResultError});
    return r;
}

std::vector<Request> join(std::vector<RawRecord> records, ReadStats& stats) {
    struct Pending {
        json decision;
        json end;
        std::string decision_origin;
        std::string end_origin;
        size_t order = 0;
    };
    std::vector<Pending> pending;
    std::unordered_map<std::string, size_t> by_id;
    for (auto& rec : records) {
        const std::string kind = record_kind(rec.json);
        if (kind.empty()) {
            // Checkpoints belong to the chain (diag-audit verify), not to any request.
            if (get_string(rec.json, {schema::kEvent, schema::kAction}) != schema::kActionCheckpoint) {
                ++stats.unknown;
            }
            continue;
        }
        const std::string id = get_string(rec.json, {schema::kDiag, schema::kRequestId});
        size_t idx;
        const auto it = id.empty() ? by_id.end() : by_id.find(id);
        if (it == by_id.end()) {
            idx = pending.size();
            pending.push_back({json(), json(), {}, {}, idx});
            if (!id.empty()) {
                by_id.emplace(id, idx);
            }
        } else {
            idx = it->second;
        }
        const bool is_decision = kind == schema::kActionDecision;
        json& slot = is_decision ? pending[idx].decision : pending[idx].end;
        if (slot.is_null()) {
            slot = std::move(rec.json);
            (is_decision ? pending[idx].decision_origin : pending[idx].end_origin) = rec.origin;
        } else if (slot == rec.json) {
            ++stats.duplicates;
        } else {
            ++stats.conflicts;  // keep the first; the warning tells the auditor
        }
    }
    std::vector<Request> out;
    out.reserve(pending.size());
    for (auto& p : pending) {
        Request r = make_request(std::move(p.decision), std::move(p.end));
        r.decision_origin = std::move(p.decision_origin);
        r.end_origin = std::move(p.end_origin);
        r.order = p.order;
        out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [](const Request& a, const Request& b) {
        if (a.time_us.has_value() != b.time_us.has_value()) {
            return a.time_us.has_value();
        }
        if (a.time_us && *a.time_us != *b.time_us) {
            return *a.time_us < *b.time_us;
        }
        return a.order < b.order;
    });
    return out;
}

}  // namespace diag::audit_reader
