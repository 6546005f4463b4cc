// SPDX-License-Identifier: Apache-2.0
// The records of one request: see decision.h.
#include "wrapper/record/decision.h"

#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/record/writer.h"

namespace diag::record {

using nlohmann::json;

void describe_decision(json& rec, const decision::Decision& d) {
    rec["diag"]["argv"] = json::array();
    for (const auto& a : d.argv) {
        rec["diag"]["argv"].push_back(text_safety::valid_utf8(a) ? a : text_safety::printable(a, 4096));
    }
    if (d.help) {
        rec["diag"]["rule"] = "help";
        return;
    }
    const policy::Command& c = *d.match.command;
    rec["diag"]["rule"] = c.id;
    json exec_argv = json::array({c.exe_path});
    for (const auto& a : d.match.exec_args) {
        exec_argv.push_back(a);
    }
    rec["process"]["executable"] = c.exe_path;
    rec["process"]["args"] = exec_argv;
    rec["diag"]["paths"] = json::array();
    for (const auto& r : d.resolved) {
        json p = {{"input", r.input}, {"resolved", r.canonical}, {"hops", r.hops}};
        if (!r.metadata_of_denied.empty()) {
            p["metadata_only_denied"] = r.metadata_of_denied;
        }
        if (r.fd.valid()) {
            p["given_as"] = r.given;
            p["held_open_because"] = r.bound_because;
        }
        rec["diag"]["paths"].push_back(std::move(p));
    }
    rec["diag"]["limits"] = {{"timeout_ms", c.timeout_ms}, {"output_cap", c.output_cap}};
}

void mark_allowed(json& rec, const std::string& reason) {
    rec["event"]["outcome"] = "success";
    rec["diag"]["decision"] = "allow";
    rec["diag"]["reason"] = reason;
}

void mark_denied(json& rec, const Error& e) {
    rec["event"]["outcome"] = "failure";
    rec["diag"]["decision"] = e.code == ErrorCode::kDenied ? "deny" : "error";
    rec["diag"]["reason"] = e.code == ErrorCode::kDenied ? e.reason : "internal-error";
    rec["diag"]["message"] = e.describe();
    if (!e.detail.empty()) {
        rec["diag"]["deny_entry"] = e.detail;
    }
}

bool write_or_refuse(const policy::Audit& cfg, const json& rec, const std::string& id) {
    if (auto st = audit::write(cfg, rec); !st.ok()) {
        sys::say("error: " + st.error().msg + " (request " + id + " refused)");
        return false;
    }
    return true;
}

bool refuse(const policy::Audit& cfg, json& rec, const std::string& id, const Error& e, const redact::Redaction& r,
            const std::vector<std::string>& argv) {
    mark_denied(rec, e);
    redact::derived(rec, r, argv);
    if (!write_or_refuse(cfg, rec, id)) {
        return false;
    }
    if (e.code == ErrorCode::kDenied) {
        sys::say("denied: " + e.reason + ": " + e.describe() + " (request " + id + ")");
    } else {
        sys::say("error: " + e.describe() + " (request " + id + ")");
    }
    return true;
}

void describe_outcome(json& end, const supervise::Outcome& o) {
    end["event"]["outcome"] = o.exit_status == 0 ? "success" : "failure";
    end["event"]["duration"] = o.duration_ms * 1000000;  // ECS: nanoseconds
    json result = {{"exit_status", o.exit_status},
                   {"timed_out", o.timed_out},
                   {"output_capped", o.output_capped},
                   {"client_gone", o.client_gone},
                   {"swept", o.swept},
                   {"duration_ms", o.duration_ms},
                   {"stdout", {{"bytes", o.out.bytes}, {"delivered", o.out.delivered}, {"sha256", o.out.sha256}}},
                   {"stderr", {{"bytes", o.err.bytes}, {"delivered", o.err.delivered}, {"sha256", o.err.sha256}}},
                   {"rusage",
                    {{"utime_us", o.rusage.ru_utime.tv_sec * 1000000 + o.rusage.ru_utime.tv_usec},
                     {"stime_us", o.rusage.ru_stime.tv_sec * 1000000 + o.rusage.ru_stime.tv_usec},
                     {"maxrss_kb", o.rusage.ru_maxrss}}}};
    if (o.exit_code >= 0) {
        result["exit_code"] = o.exit_code;
    }
    if (o.signal != 0) {
        result["signal"] = o.signal;
    }
    if (o.wrapper_signal != 0) {
        result["wrapper_signal"] = o.wrapper_signal;
    }
    end["diag"]["result"] = std::move(result);
}

}  // namespace diag::record
