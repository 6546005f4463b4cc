// SPDX-License-Identifier: Apache-2.0
#include "wrapper/pipeline.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wrapper/audit.h"
#include "wrapper/command.h"
#include "wrapper/env.h"
#include "wrapper/exec.h"
#include "wrapper/help.h"
#include "wrapper/matcher.h"
#include "wrapper/path_resolve.h"
#include "wrapper/policy_loader.h"
#include "wrapper/util.h"

namespace diag::pipeline {

namespace {

using nlohmann::json;

void say(const std::string& line) {
    const std::string out = "diag-wrapper: " + line + "\n";
    (void)!::write(STDERR_FILENO, out.data(), out.size());
}

void print(const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
        if (n <= 0) {
            return;
        }
        off += static_cast<size_t>(n);
    }
}

std::string shell_quote(const std::string& s) {
    if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,@+%") ==
                          std::string::npos) {
        return s;
    }
    std::string out = "'";
    for (char c : s) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return util::printable(out + "'", 4096);
}

// The decision, as far as it got: everything the record, --explain and the exec need.
struct Decision {
    std::vector<std::string> argv;
    matcher::Match match;
    std::vector<path_resolve::Resolved> resolved;
    bool help = false;
    bool help_json = false;
};

// Stages 1-3 (pure up to path resolution): tokenize, match, resolve.
Result<Decision> decide(const policy::Policy& policy, const std::string& request) {
    Decision d;
    // 1. Tokenize ourselves: never a shell (peers.md A).
    DIAG_TRY_ASSIGN(d.argv, command::tokenize(request));
    // The listing: an empty request (ssh -t, plain login) or `help`; never an interactive shell.
    if (d.argv.empty() || d.argv[0] == "help") {
        if (d.argv.size() > 2 || (d.argv.size() == 2 && d.argv[1] != "--json")) {
            return deny("unknown-option", "usage: help [--json]");
        }
        d.help = true;
        d.help_json = d.argv.size() == 2;
        return d;
    }
    // 2. Match the allowlist: one rule, every argument typed.
    DIAG_TRY_ASSIGN(d.match, matcher::match(policy, d.argv));
    // 3. Resolve every path argument; the denylist always wins.
    for (const auto& ref : d.match.paths) {
        DIAG_TRY_ASSIGN(path_resolve::Resolved r, path_resolve::resolve(policy.deny, ref.input, ref.use, ref.roots));
        d.match.exec_args[ref.index] = ref.prefix + r.canonical;
        d.resolved.push_back(std::move(r));
    }
    return d;
}

void describe_decision(json& rec, const Decision& d) {
    rec["diag"]["argv"] = json::array();
    for (const auto& a : d.argv) {
        rec["diag"]["argv"].push_back(util::valid_utf8(a) ? a : util::printable(a, 4096));
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
        rec["diag"]["paths"].push_back(std::move(p));
    }
    rec["diag"]["limits"] = {{"timeout_ms", c.timeout_ms}, {"output_cap", c.output_cap}};
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

// Records and reports a refusal; returns the exit status.
int refuse(const policy::Policy& policy, json& rec, const std::string& id, const Error& e) {
    mark_denied(rec, e);
    if (auto st = audit::write(policy.audit, rec); !st.ok()) {
        say("error: " + st.error().msg + " (request " + id + " refused)");
        return kExitError;
    }
    if (e.code == ErrorCode::kDenied) {
        say("denied: " + e.reason + ": " + e.describe() + " (request " + id + ")");
    } else {
        say("error: " + e.describe() + " (request " + id + ")");
    }
    return exit_code(e.code);
}

int check(const policy::Policy& p) {
    size_t unavailable = 0;
    std::string lines;
    for (const auto& c : p.commands) {
        if (!c.unavailable.empty()) {
            ++unavailable;
            lines += "  unavailable: " + c.id + ": " + c.unavailable + "\n";
        }
    }
    std::string out = "policy OK: " + p.path + "\n";
    out += "sha256: " + p.sha256 + "\n";
    for (const auto& f : p.loaded_files) {
        out += "file: " + f + "\n";
    }
    out += "commands: " + std::to_string(p.commands.size()) + " (" + std::to_string(unavailable) +
           " unavailable on this host)\n" + lines;
    out += "deny entries: " + std::to_string(p.deny.entries.size()) + " patterns, " +
           std::to_string(p.deny.objects.size()) + " existing objects pinned by inode\n";
    print(out);
    return 0;
}

int explain(const policy::Policy& p, const std::string& request) {
    auto d = decide(p, request);
    if (!d.ok()) {
        const Error& e = d.error();
        std::string out = "decision: deny\nreason: " + (e.code == ErrorCode::kDenied ? e.reason : "internal-error") +
                          "\nmessage: " + e.describe() + "\n";
        if (!e.detail.empty()) {
            out += "deny-entry: " + e.detail + "\n";
        }
        print(out);
        return exit_code(e.code);
    }
    std::string out = "decision: allow\n";
    if (d->help) {
        print(out + "rule: help\n");
        return 0;
    }
    const policy::Command& c = *d->match.command;
    out += "rule: " + c.id + " (" + c.source + ")\n";
    out += "exec: " + shell_quote(c.exe_path);
    for (const auto& a : d->match.exec_args) {
        out += " " + shell_quote(a);
    }
    out += "\n";
    for (const auto& r : d->resolved) {
        out += "path: " + shell_quote(r.input) + " -> " + shell_quote(r.canonical);
        if (!r.metadata_of_denied.empty()) {
            out += " (metadata only; denied by " + r.metadata_of_denied + ")";
        }
        out += "\n";
    }
    out += "timeout: " + std::to_string(c.timeout_ms) + "ms\noutput-cap: " + std::to_string(c.output_cap) + "\n";
    print(out);
    return 0;
}

}  // namespace

int exit_code(ErrorCode code) { return code == ErrorCode::kDenied ? kExitDenied : kExitError; }

int run(const Invocation& inv) {
    // 0. Load the policy: root-owned, exact types, unknown keys rejected, executables pinned.
    auto loaded = policy_loader::load(inv.policy_path);
    if (!loaded.ok()) {
        // No policy means no audit configuration: the one line on stderr is all there is.
        say("error: policy: " + loaded.error().describe());
        return kExitError;
    }
    const policy::Policy& policy = *loaded;
    if (inv.mode == Mode::kCheck) {
        return check(policy);
    }
    if (inv.mode == Mode::kExplain) {
        return explain(policy, inv.request);
    }

    const std::string id = audit::new_request_id();
    json rec = audit::base_record(id, audit::read_origin(), inv.request, &policy);
    // 1-3. Tokenize, match, resolve (decide()).
    auto d = decide(policy, inv.request);
    if (!d.ok()) {
        return refuse(policy, rec, id, d.error());
    }
    describe_decision(rec, *d);
    if (d->help) {
        rec["event"]["outcome"] = "success";
        rec["diag"]["decision"] = "allow";
        rec["diag"]["reason"] = "help";
        if (auto st = audit::write(policy.audit, rec); !st.ok()) {
            say("error: " + st.error().msg + " (request " + id + " refused)");
            return kExitError;
        }
        print(d->help_json ? help::json(policy) : help::text(policy));
        return 0;
    }
    // 4. Re-open the pinned executable and check it is the object pinned at load.
    auto prepared = exec::prepare(*d->match.command, d->match.exec_args, env::build(policy.search_path));
    if (!prepared.ok()) {
        return refuse(policy, rec, id, prepared.error());
    }
    // 5. The decision record, before anything runs: no record, no run (fail closed).
    rec["event"]["outcome"] = "success";
    rec["diag"]["decision"] = "allow";
    rec["diag"]["reason"] = "allowed";
    if (auto st = audit::write(policy.audit, rec); !st.ok()) {
        say("error: " + st.error().msg + " (request " + id + " refused)");
        return kExitError;
    }
    // 6. Process state for the child. Kernel confinement (rlimits, no_new_privs, Landlock,
    //    seccomp) slots in between these steps and the exec, in this order (TODO(#3)).
    for (auto step : {exec::reset_signals, exec::close_extra_fds, exec::stdio_umask_cwd}) {
        if (auto st = step(); !st.ok()) {
            say("error: " + st.error().msg + " (request " + id + ")");
            return kExitError;
        }
    }
    // 7. execveat the checked fd: the name is never looked up again.
    const Error e = exec::execute(*prepared);
    say("error: " + e.msg + " (request " + id + ")");
    return kExitError;
}

}  // namespace diag::pipeline
