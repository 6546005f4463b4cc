// SPDX-License-Identifier: Apache-2.0
// [settings] and [audit] of the main policy file (see settings.h).
#include "wrapper/policy/settings.h"

#include <string>
#include <vector>

#include "wrapper/base/parse.h"

namespace diag::policy_loader {

namespace {

Result<std::vector<std::string>> read_abs_dirs(const FileCtx& ctx, const toml::node& n, const std::string& what) {
    DIAG_TRY_ASSIGN(auto dirs, read_strings(ctx, n, what));
    for (const auto& d : dirs) {
        if (d.empty() || d[0] != '/') {
            return at(ctx, n.source(), what + ": '" + d + "' is not absolute");
        }
    }
    return dirs;
}

Status read_landlock(const FileCtx& ctx, const toml::node& n, policy::Policy& p) {
    DIAG_TRY_ASSIGN(std::string mode, read_string(ctx, n, "settings.landlock"));
    if (mode == "required") {
        p.landlock = policy::LandlockMode::kRequired;
    } else if (mode == "best-effort") {
        p.landlock = policy::LandlockMode::kBestEffort;
    } else {
        return at(ctx, n.source(), "settings.landlock: 'required' or 'best-effort'");
    }
    return ok_status();
}

Status read_account(const FileCtx& ctx, const toml::node& n, policy::Policy& p) {
    DIAG_TRY_ASSIGN(p.account, read_string(ctx, n, "settings.account"));
    // A passwd(5) name as useradd accepts it; ':' or a newline could never match an entry.
    if (p.account.empty() || p.account.size() > 32 || p.account[0] == '-' ||
        p.account.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
            std::string::npos) {
        return at(ctx, n.source(), "settings.account: '" + p.account + "' is not an account name");
    }
    return ok_status();
}

Status read_decision_timeout(const FileCtx& ctx, const toml::node& n, policy::Policy& p) {
    DIAG_TRY_ASSIGN(p.decision_timeout_ms, read_duration(ctx, n, "settings.decision_timeout"));
    if (p.decision_timeout_ms < policy::kMinDecisionTimeoutMs ||
        p.decision_timeout_ms > policy::kMaxDecisionTimeoutMs) {
        return at(ctx, n.source(),
                  "settings.decision_timeout: between " + std::to_string(policy::kMinDecisionTimeoutMs) + "ms and " +
                      std::to_string(policy::kMaxDecisionTimeoutMs / 1000) + "s");
    }
    return ok_status();
}

Status read_sinks(const FileCtx& ctx, const toml::node& n, policy::Policy& p) {
    DIAG_TRY_ASSIGN(auto sinks, read_strings(ctx, n, "audit.sinks"));
    for (const auto& s : sinks) {
        if (s == "file") {
            p.audit.sinks.push_back(policy::AuditSink::kFile);
        } else if (s == "syslog") {
            p.audit.sinks.push_back(policy::AuditSink::kSyslog);
        } else if (s == "journald") {
            p.audit.sinks.push_back(policy::AuditSink::kJournald);
        } else {
            return at(ctx, n.source(), "audit.sinks: unknown sink '" + s + "' (file, syslog, journald)");
        }
    }
    return ok_status();
}

// audit.principals: key fingerprint -> the name the record shows for it.
Status read_principals(const FileCtx& ctx, const toml::node& n, policy::Policy& p) {
    DIAG_TRY_ASSIGN(const toml::table* pt, as_table(ctx, n, "audit.principals"));
    for (const auto& [key, value] : *pt) {
        const std::string fp(key.str());
        if (!util::starts_with(fp, "SHA256:") || fp.size() != 50) {
            return at(ctx, key.source(),
                      "audit.principals: '" + fp + "' is not a key fingerprint (SHA256:..., as ssh-keygen -lf prints)");
        }
        DIAG_TRY_ASSIGN(std::string name, read_string(ctx, value, "audit.principals." + fp));
        p.audit.principals[fp] = name;
    }
    return ok_status();
}

Status read_settings_table(const FileCtx& ctx, const toml::table& t, policy::Policy& p) {
    DIAG_TRY(check_keys(ctx, t,
                        {"search_path", "include", "timeout", "output_cap", "landlock", "decision_timeout", "account"},
                        "settings"));
    if (const auto* n = t.get("landlock")) {
        DIAG_TRY(read_landlock(ctx, *n, p));
    }
    if (const auto* n = t.get("search_path")) {
        DIAG_TRY_ASSIGN(p.search_path, read_abs_dirs(ctx, *n, "settings.search_path"));
    }
    if (const auto* n = t.get("include")) {
        DIAG_TRY_ASSIGN(p.include, read_abs_dirs(ctx, *n, "settings.include"));
    }
    if (const auto* n = t.get("timeout")) {
        DIAG_TRY_ASSIGN(p.timeout_ms, read_duration(ctx, *n, "settings.timeout"));
    }
    if (const auto* n = t.get("output_cap")) {
        DIAG_TRY_ASSIGN(p.output_cap, read_size(ctx, *n, "settings.output_cap"));
    }
    if (const auto* n = t.get("account")) {
        DIAG_TRY(read_account(ctx, *n, p));
    }
    if (const auto* n = t.get("decision_timeout")) {
        DIAG_TRY(read_decision_timeout(ctx, *n, p));
    }
    return ok_status();
}

}  // namespace

Status read_settings(const FileCtx& ctx, const toml::table& root, policy::Policy& p) {
    DIAG_TRY_ASSIGN(const toml::table* t, find_table(ctx, root, "settings"));
    if (t != nullptr) {
        DIAG_TRY(read_settings_table(ctx, *t, p));
    }
    if (ctx.main && p.search_path.empty()) {
        return at(ctx, root.source(), "settings.search_path is required");
    }
    return ok_status();
}

Status read_audit(const FileCtx& ctx, const toml::table& root, policy::Policy& p) {
    DIAG_TRY_ASSIGN(const toml::table* t, find_table(ctx, root, "audit"));
    if (t == nullptr) {
        return ok_status();
    }
    DIAG_TRY(
        check_keys(ctx, *t, {"sinks", "file", "principals", "chain", "journald_socket", "syslog_socket"}, "audit"));
    if (const auto* n = t->get("principals")) {
        DIAG_TRY(read_principals(ctx, *n, p));
    }
    if (const auto* n = t->get("sinks")) {
        DIAG_TRY(read_sinks(ctx, *n, p));
    }
    if (const auto* n = t->get("file")) {
        DIAG_TRY_ASSIGN(p.audit.file, read_abs_path(ctx, *n, "audit.file"));
    }
    if (const auto* n = t->get("chain")) {
        DIAG_TRY_ASSIGN(p.audit.chain, read_abs_path(ctx, *n, "audit.chain"));
    }
    if (const auto* n = t->get("journald_socket")) {
        DIAG_TRY_ASSIGN(p.audit.journald_socket, read_abs_path(ctx, *n, "audit.journald_socket"));
    }
    if (const auto* n = t->get("syslog_socket")) {
        DIAG_TRY_ASSIGN(p.audit.syslog_socket, read_abs_path(ctx, *n, "audit.syslog_socket"));
    }
    return ok_status();
}

}  // namespace diag::policy_loader
