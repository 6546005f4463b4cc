// SPDX-License-Identifier: Apache-2.0
// Records into requests: which kind a record is, the typed view of its fields, and the join of a
// decision with its end record (declared in audit_reader.h, with the Request they build).
#include <algorithm>
#include <unordered_map>
#include <utility>

#include "wrapper/audit/reader.h"
#include "wrapper/base/encoding.h"

namespace diag::audit_reader {

using nlohmann::json;

std::string record_kind(const json& record) {
    const json* action = find(record, {"event", "action"});
    if (action != nullptr && action->is_string()) {
        const auto& a = action->get_ref<const std::string&>();
        return a == "decision" || a == "end" ? a : std::string();
    }
    if (action != nullptr) {
        return {};  // present but not a string: not ours to guess
    }
    if (find(record, {"diag", "result"}) != nullptr) {
        return "end";
    }
    // Without any of our fields ({} or someone else's JSON) it is not a record of the wrapper.
    const bool ours = find(record, {"diag", "decision"}) != nullptr || find(record, {"diag", "request_id"}) != nullptr;
    return ours ? "decision" : std::string();
}

Request make_request(json decision, json end) {
    Request r;
    r.decision = std::move(decision);
    r.end = std::move(end);
    const json& d = r.decision;
    const json& e = r.end;
    // A field from the decision record, else from the end record (both carry the base fields).
    auto str = [&](std::initializer_list<const char*> path) {
        std::string v = get_string(d, path);
        return v.empty() ? get_string(e, path) : v;
    };
    auto scalar = [&](std::initializer_list<const char*> path) {
        std::string v = get_scalar(d, path);
        return v.empty() ? get_scalar(e, path) : v;
    };
    r.id = str({"diag", "request_id"});
    r.timestamp = str({"@timestamp"});
    r.time_us = parse_timestamp(r.timestamp);
    r.end_time_us = parse_timestamp(get_string(e, {"@timestamp"}));
    r.verdict = str({"diag", "decision"});
    r.reason = get_string(d, {"diag", "reason"});
    r.rule = str({"diag", "rule"});
    r.message = get_string(d, {"diag", "message"});
    r.principal = str({"diag", "key", "principal"});
    r.key_type = str({"diag", "key", "type"});
    r.key_fingerprint = str({"diag", "key", "fingerprint"});
    r.cert_key_id = str({"diag", "key", "certificate", "key_id"});
    r.cert_serial = scalar({"diag", "key", "certificate", "serial"});
    r.ca_fingerprint = str({"diag", "key", "certificate", "ca_fingerprint"});
    r.key_error = str({"diag", "key", "error"});
    const std::string b64 = str({"process", "command_line_b64"});
    if (auto bytes = b64.empty() ? std::nullopt : util::base64_decode(b64)) {
        r.command = std::move(*bytes);
        r.command_lossy = true;
    } else {
        r.command = str({"process", "command_line"});
    }
    r.command_redacted =
        get_bool(d, {"process", "command_line_redacted"}) || get_bool(e, {"process", "command_line_redacted"});
    r.user = str({"user", "name"});
    r.source_ip = str({"source", "ip"});
    r.source_port = scalar({"source", "port"});
    r.host = str({"host", "hostname"});
    if (r.host.empty()) {
        r.host = str({"host", "name"});
    }
    r.host_id = str({"host", "id"});
    r.boot_id = str({"host", "boot_id"});
    if (r.boot_id.empty()) {
        r.boot_id = str({"host", "boot", "id"});
    }
    r.pid = scalar({"process", "pid"});
    r.parent_pid = scalar({"process", "parent", "pid"});
    r.sshd_pid = scalar({"diag", "sshd_pid"});
    r.exit_status = get_int(e, {"diag", "result", "exit_status"});
    r.exit_code = get_int(e, {"diag", "result", "exit_code"});
    r.signal = get_int(e, {"diag", "result", "signal"});
    r.duration_ms = get_int(e, {"diag", "result", "duration_ms"});
    if (r.duration_ms && *r.duration_ms < 0) {
        r.duration_ms.reset();
    }
    r.stdout_bytes = get_int(e, {"diag", "result", "stdout", "bytes"});
    r.stderr_bytes = get_int(e, {"diag", "result", "stderr", "bytes"});
    r.timed_out = get_bool(e, {"diag", "result", "timed_out"});
    r.output_capped = get_bool(e, {"diag", "result", "output_capped"});
    r.client_gone = get_bool(e, {"diag", "result", "client_gone"});
    r.end_error = get_string(e, {"diag", "result", "error"});
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
            if (get_string(rec.json, {"event", "action"}) != "checkpoint") {
                ++stats.unknown;
            }
            continue;
        }
        const std::string id = get_string(rec.json, {"diag", "request_id"});
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
        const bool is_decision = kind == "decision";
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
