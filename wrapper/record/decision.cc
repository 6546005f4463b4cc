// SPDX-License-Identifier: Apache-2.0
// The records of one request: see decision.h.
#include "wrapper/record/decision.h"

#include <algorithm>

#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/record/writer.h"

namespace diag::record {

using nlohmann::json;

namespace {

json text_array(const std::vector<std::string>& words) {
    json out = json::array();
    for (const auto& a : words) {
        out.push_back(text_safety::valid_utf8(a) ? a : text_safety::printable(a, 4096));
    }
    return out;
}

// What the record says about one stage: its rule, how it is executed, its paths, withheld glob
// matches and the denied paths its program skips below its trees.
json describe_stage(const decision::Stage& s) {
    const policy::Command& c = *s.match.command;
    json exec_argv = json::array({c.exe_path});
    for (const auto& a : s.match.exec_args) {
        exec_argv.push_back(a);
    }
    json paths = json::array();
    for (const auto& r : s.resolved) {
        json p = {{"input", r.input}, {"resolved", r.canonical}, {"hops", r.hops}};
        if (!r.metadata_of_denied.empty()) {
            p["metadata_only_denied"] = r.metadata_of_denied;
        }
        if (r.fd.valid()) {
            p["given_as"] = r.given;
            p["held_open_because"] = r.bound_because;
        }
        paths.push_back(std::move(p));
    }
    json out = {{"rule", c.id},
                {"argv", text_array(s.argv)},
                {"executable", c.exe_path},
                {"args", exec_argv},
                {"paths", std::move(paths)}};
    if (!s.withheld.empty()) {
        json withheld = json::array();
        for (const auto& w : s.withheld) {
            withheld.push_back({{"path", w.path}, {"reason", w.reason}});
        }
        out["withheld"] = std::move(withheld);
    }
    if (!s.match.targets.empty()) {
        // The network destinations admitted (adr/0018); Landlock lets the child reach their ports.
        json targets = json::array();
        for (const auto& t : s.match.targets) {
            targets.push_back({{"target", t.text}, {"scheme", t.scheme}, {"host", t.host}, {"port", t.port}});
        }
        out["targets"] = std::move(targets);
    }
    if (!s.skipped.empty() || !s.skipped_patterns.empty()) {
        out["skipped"] = {{"paths", s.skipped}, {"patterns", s.skipped_patterns}};
    }
    return out;
}

}  // namespace

std::vector<std::string> request_words(const std::vector<command::Stage>& stages) {
    std::vector<std::string> out;
    for (size_t i = 0; i < stages.size(); ++i) {
        if (i > 0) {
            out.emplace_back("|");
        }
        for (const auto& w : stages[i]) {
            out.push_back(w.text);
        }
    }
    return out;
}

std::vector<std::string> request_words(const decision::Decision& d) {
    std::vector<std::string> out;
    for (size_t i = 0; i < d.stages.size(); ++i) {
        if (i > 0) {
            out.emplace_back("|");
        }
        out.insert(out.end(), d.stages[i].argv.begin(), d.stages[i].argv.end());
    }
    return out;
}

void describe_decision(json& rec, const decision::Decision& d) {
    rec["diag"]["argv"] = text_array(request_words(d));
    if (d.help) {
        rec["diag"]["rule"] = "help";
        return;
    }
    const decision::Stage& first = d.stages[0];
    json stage = describe_stage(first);
    rec["diag"]["rule"] = stage["rule"];
    rec["process"]["executable"] = stage["executable"];
    rec["process"]["args"] = stage["args"];
    rec["diag"]["paths"] = stage["paths"];
    if (stage.contains("withheld")) {
        rec["diag"]["withheld"] = stage["withheld"];
    }
    if (stage.contains("targets")) {
        rec["diag"]["targets"] = stage["targets"];
    }
    if (stage.contains("skipped")) {
        rec["diag"]["skipped"] = stage["skipped"];
    }
    uint64_t timeout_ms = first.match.command->timeout_ms;
    uint64_t output_cap = first.match.command->output_cap;
    if (d.stages.size() > 1) {
        rec["diag"]["pipeline"] = json::array();
        for (const auto& s : d.stages) {
            rec["diag"]["pipeline"].push_back(describe_stage(s));
            timeout_ms = std::min(timeout_ms, s.match.command->timeout_ms);
            output_cap = std::min(output_cap, s.match.command->output_cap);
        }
    }
    rec["diag"]["limits"] = {{"timeout_ms", timeout_ms}, {"output_cap", output_cap}};
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
    if (!end["diag"].contains("pipeline")) {
        return;
    }
    json& stages = end["diag"]["pipeline"];
    for (size_t i = 0; i < stages.size() && i < o.stages.size(); ++i) {
        if (o.stages[i].exit_code >= 0) {
            stages[i]["exit_code"] = o.stages[i].exit_code;
        }
        if (o.stages[i].signal != 0) {
            stages[i]["signal"] = o.stages[i].signal;
        }
    }
}

}  // namespace diag::record
