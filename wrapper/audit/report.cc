// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/report.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <unordered_map>

// Same as wrapper/policy/toml_read.h (one definition for the header-only toml++ in every translation unit).
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_cast<void>(0)
#endif
#include <toml++/toml.h>

#include <nlohmann/json.hpp>

#include "wrapper/audit/cli.h"
#include "wrapper/audit/render.h"
#include "wrapper/base/sys.h"

namespace diag::audit_report {

namespace {

using audit_reader::Request;
using audit_render::escape;

constexpr size_t kMaxPolicyBytes = 1024 * 1024;
constexpr size_t kMaxDropIns = 256;

class Counter {
  public:
    void add(const std::string& v) { ++counts_[v]; }
    [[nodiscard]] Counts sorted(size_t limit = SIZE_MAX) const {
        Counts out(counts_.begin(), counts_.end());
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second > b.second : a.first < b.first;
        });
        if (out.size() > limit) {
            out.resize(limit);
        }
        return out;
    }

  private:
    std::map<std::string, size_t> counts_;
};

std::string label(const std::string& v) { return v.empty() ? "(none)" : escape(v); }

void section(std::string& out, const char* title, const Counts& counts, bool quote = false) {
    out += "\n" + std::string(title) + "\n";
    if (counts.empty()) {
        out += "  (none)\n";
        return;
    }
    size_t w = 0;
    for (const auto& c : counts) {
        w = std::max(w, std::to_string(c.second).size());
    }
    for (const auto& [value, n] : counts) {
        const std::string count = std::to_string(n);
        out += "  " + std::string(w - count.size(), ' ') + count + "  " +
               (quote ? audit_render::quote_command(value) : label(value)) + "\n";
    }
}

nlohmann::json counts_json(const Counts& counts) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& [value, n] : counts) {
        arr.push_back({{"value", value}, {"count", n}});
    }
    return arr;
}

Result<std::vector<std::string>> command_ids(const std::string& path, std::vector<std::string>& files,
                                             std::vector<std::string>* include_dirs) {
    sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kPolicyInvalid, "open(" + path + ")", errno);
    }
    DIAG_TRY_ASSIGN(std::string text, sys::read_all(fd.get(), path, kMaxPolicyBytes));
    files.push_back(path);
    toml::parse_result parsed = toml::parse(text, path);
    if (!parsed) {
        const auto& err = parsed.error();
        Error e = make_error(ErrorCode::kPolicyInvalid, std::string(err.description()));
        e.pos = SourcePos{path, static_cast<unsigned>(err.source().begin.line),
                          static_cast<unsigned>(err.source().begin.column)};
        return e;
    }
    const toml::table& root = parsed.table();
    std::vector<std::string> ids;
    if (const toml::table* commands = root["command"].as_table()) {
        for (const auto& [key, node] : *commands) {
            if (node.is_table()) {
                ids.emplace_back(key.str());
            }
        }
    }
    if (include_dirs != nullptr) {
        if (const toml::array* inc = root["settings"]["include"].as_array()) {
            for (const auto& el : *inc) {
                if (const auto* s = el.as_string()) {
                    include_dirs->push_back(s->get());
                }
            }
        }
    }
    return ids;
}

}  // namespace

Result<std::vector<std::string>> rule_ids_from_policy(const std::string& path, std::vector<std::string>& files) {
    std::vector<std::string> dirs;
    DIAG_TRY_ASSIGN(std::vector<std::string> ids, command_ids(path, files, &dirs));
    for (const auto& dir : dirs) {
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) {
            continue;  // no drop-ins on this host (or not readable by the auditor: the ids come from the main file)
        }
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name.size() > 5 && name[0] != '.' && name.compare(name.size() - 5, 5, ".toml") == 0) {
                names.push_back(name);
            }
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        if (names.size() > kMaxDropIns) {
            return make_error(ErrorCode::kPolicyInvalid,
                              dir + ": more than " + std::to_string(kMaxDropIns) + " drop-ins");
        }
        for (const auto& name : names) {
            DIAG_TRY_ASSIGN(auto more, command_ids(dir + "/" + name, files, nullptr));
            ids.insert(ids.end(), more.begin(), more.end());
        }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

Report build(const std::vector<const Request*>& selected, const std::vector<Request>& all,
             const audit_filter::Filter& f, const std::optional<std::vector<std::string>>& rule_ids, size_t top) {
    Report rep;
    Counter decision, principal, key, rule, reason, host, denied;
    std::set<std::string> used_rules;
    for (const Request* r : selected) {
        ++rep.requests;
        rep.incomplete += r->incomplete() ? 1U : 0U;
        if (r->time_us) {
            rep.first_us = rep.first_us ? std::min(*rep.first_us, *r->time_us) : *r->time_us;
            rep.last_us = rep.last_us ? std::max(*rep.last_us, *r->time_us) : *r->time_us;
        }
        decision.add(r->verdict);
        principal.add(r->principal);
        key.add(r->key_fingerprint);
        rule.add(r->rule);
        reason.add(r->reason);
        host.add(r->host);
        if (r->verdict == "deny") {
            denied.add(r->command);
        }
        if (!r->rule.empty()) {
            used_rules.insert(r->rule);
        }
    }
    rep.by_decision = decision.sorted();
    rep.by_principal = principal.sorted();
    rep.by_key = key.sorted();
    rep.by_rule = rule.sorted();
    rep.by_reason = reason.sorted();
    rep.by_host = host.sorted();
    rep.top_denied = denied.sorted(top);

    // First appearance of each fingerprint over everything read (`all` is in time order; records
    // without a time come last and never count as a first appearance in a window).
    std::unordered_map<std::string, const Request*> first;
    for (const auto& r : all) {
        if (!r.key_fingerprint.empty() && r.time_us && first.find(r.key_fingerprint) == first.end()) {
            first.emplace(r.key_fingerprint, &r);
        }
    }
    std::set<std::string> in_selection;
    for (const Request* r : selected) {
        in_selection.insert(r->key_fingerprint);
    }
    for (const auto& r : all) {
        const auto it = first.find(r.key_fingerprint);
        if (r.key_fingerprint.empty() || it == first.end() || it->second != &r) {
            continue;
        }
        if (audit_filter::in_window(f, r) && in_selection.count(r.key_fingerprint) != 0) {
            rep.new_keys.push_back({r.key_fingerprint, r.principal, r.id, *r.time_us});
        }
    }

    if (rule_ids) {
        rep.have_policy = true;
        for (const auto& id : *rule_ids) {
            if (used_rules.count(id) == 0) {
                rep.unused_rules.push_back(id);
            }
        }
    }
    return rep;
}

std::string render_text(const Report& r) {
    std::string out = "requests  " + std::to_string(r.requests);
    if (r.incomplete != 0) {
        out += " (" + std::to_string(r.incomplete) + " incomplete: no end record)";
    }
    out += "\n";
    if (r.first_us && r.last_us) {
        out += "period    " + audit_render::format_time(*r.first_us) + " .. " + audit_render::format_time(*r.last_us) +
               "\n";
    }
    section(out, "by decision", r.by_decision);
    section(out, "by principal", r.by_principal);
    section(out, "by key", r.by_key);
    section(out, "by rule", r.by_rule);
    section(out, "by reason", r.by_reason);
    section(out, "by host", r.by_host);
    section(out, "top denied commands", r.top_denied, true);
    out += "\nkeys first seen in the range\n";
    if (r.new_keys.empty()) {
        out += "  (none)\n";
    }
    for (const auto& k : r.new_keys) {
        out += "  " + audit_render::format_time(k.first_seen_us) + "  " + escape(k.fingerprint) + "  " +
               label(k.principal) + "  request " + label(k.request_id) + "\n";
    }
    out += "\nrules never used";
    if (!r.have_policy) {
        out += "\n  (give --policy FILE to list them)\n";
        return out;
    }
    std::string files;
    for (const auto& f : r.policy_files) {
        files += (files.empty() ? "" : ", ") + escape(f);
    }
    out += files.empty() ? "\n" : " (" + files + ")\n";
    if (r.unused_rules.empty()) {
        out += "  (none)\n";
    }
    for (const auto& id : r.unused_rules) {
        out += "  " + escape(id) + "\n";
    }
    return out;
}

std::string render_json(const Report& r) {
    nlohmann::json j = {{"requests", r.requests},
                        {"incomplete", r.incomplete},
                        {"by_decision", counts_json(r.by_decision)},
                        {"by_principal", counts_json(r.by_principal)},
                        {"by_key", counts_json(r.by_key)},
                        {"by_rule", counts_json(r.by_rule)},
                        {"by_reason", counts_json(r.by_reason)},
                        {"by_host", counts_json(r.by_host)},
                        {"top_denied_commands", counts_json(r.top_denied)}};
    j["first"] = r.first_us ? nlohmann::json(audit_render::format_iso(*r.first_us)) : nlohmann::json();
    j["last"] = r.last_us ? nlohmann::json(audit_render::format_iso(*r.last_us)) : nlohmann::json();
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : r.new_keys) {
        keys.push_back({{"fingerprint", k.fingerprint},
                        {"principal", k.principal},
                        {"request_id", k.request_id},
                        {"first_seen", audit_render::format_iso(k.first_seen_us)}});
    }
    j["keys_first_seen"] = keys;
    j["unused_rules"] = r.have_policy ? nlohmann::json(r.unused_rules) : nlohmann::json();
    j["policy_files"] = r.policy_files;
    return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
}

int run(const audit_cli::Options& o, audit_cli::Io& io, const std::vector<Request>& all) {
    auto rows = audit_filter::select(all, o.filter);
    if (!rows.ok()) {
        audit_cli::say_error(io, rows.error());
        return audit_cli::kExitError;
    }
    std::optional<std::vector<std::string>> ids;
    std::vector<std::string> files;
    if (!o.policy.empty()) {
        auto r = rule_ids_from_policy(o.policy, files);
        if (!r.ok()) {
            audit_cli::say_error(io, r.error());
            return audit_cli::kExitError;
        }
        ids = std::move(*r);
    }
    Report rep = build(*rows, all, o.filter, ids, o.top);
    rep.policy_files = files;
    io.out(o.format == audit_render::Format::kJson ? render_json(rep) : render_text(rep));
    return audit_cli::kExitOk;
}

}  // namespace diag::audit_report
