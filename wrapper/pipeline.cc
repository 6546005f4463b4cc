// SPDX-License-Identifier: Apache-2.0
#include "wrapper/pipeline.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "wrapper/record/writer.h"
#include "wrapper/request/command.h"
#include "wrapper/base/deadline.h"
#include "wrapper/confine/env.h"
#include "wrapper/confine/exec.h"
#include "wrapper/policy/help.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/path_resolve.h"
#include "wrapper/policy/loader.h"
#include "wrapper/policy/pin.h"
#include "wrapper/confine/rlimits.h"
#include "wrapper/confine/seccomp.h"
#include "wrapper/base/sha256.h"
#include "wrapper/confine/supervise.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"

namespace diag::pipeline {

namespace {

using nlohmann::json;

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
    return text_safety::printable(out + "'", 4096);
}

// The decision, as far as it got: everything the record, --explain and the exec need.
struct Decision {
    std::vector<std::string> argv;
    matcher::Match match;
    std::vector<path_resolve::Resolved> resolved;  // owns the held-open files of `bound`
    std::vector<int> bound;                         // held-open files, in exec::bound_fd order
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
        std::string given = r.canonical;
        if (r.fd.valid()) {
            // Handed over as the object checked (its path could be swapped): /proc/self/fd/N.
            if (d.bound.size() >= static_cast<size_t>(exec::kMaxBoundFds)) {
                return deny("path-replaceable", "more than " + std::to_string(exec::kMaxBoundFds) +
                                                    " files whose paths other users could swap");
            }
            given = "/proc/self/fd/" + std::to_string(exec::bound_fd(static_cast<int>(d.bound.size())));
            d.bound.push_back(r.fd.get());
        }
        d.match.exec_args[ref.index] = ref.prefix + given;
        r.given = given;
        d.resolved.push_back(std::move(r));
    }
    // 3b. Only then the hard-link scans, which read directory trees: a request that a cheap
    // check refuses costs no scan, and all its arguments share one scan budget.
    path_resolve::ScanBudget budget;
    for (size_t i = 0; i < d.resolved.size(); ++i) {
        DIAG_TRY(path_resolve::check_links(policy.deny, d.resolved[i], d.match.paths[i].use, budget));
    }
    return d;
}

// Sensitive values (adr/0008): the record keeps SHA-256 and length, never the value, in argv,
// in the executed argv and in the command line.
struct Redaction {
    std::vector<std::string> values;  // exact values to hide
    bool all_but_first = false;       // matching failed on a rule with sensitive arguments
};

bool hides(const Redaction& r, const std::string& token, size_t index) {
    if (r.all_but_first && index > 0) {
        return true;
    }
    for (const auto& v : r.values) {
        // The value itself, or an option carrying it attached (--token=V, -tV).
        if (!v.empty() && (token == v || (token.size() > v.size() && token[0] == '-' &&
                                          token.compare(token.size() - v.size(), v.size(), v) == 0))) {
            return true;
        }
    }
    return false;
}


// Replaces the command line and argv of `rec` with redacted versions when `r` hides anything.
void apply_redaction(json& rec, const Redaction& r, const std::vector<std::string>& argv) {
    if (r.values.empty() && !r.all_but_first) {
        return;
    }
    json sensitive = json::array();
    json shown = json::array();
    std::string line;
    for (size_t i = 0; i < argv.size(); ++i) {
        std::string t = argv[i];
        if (hides(r, t, i)) {
            sensitive.push_back({{"argv_index", i}, {"sha256", sha256_hex(t)}, {"length", t.size()}});
            t = "[redacted]";
        }
        shown.push_back(text_safety::valid_utf8(t) ? t : text_safety::printable(t, 4096));
        line += (i ? " " : "") + shell_quote(t);
    }
    rec["diag"]["argv"] = std::move(shown);
    rec["diag"]["sensitive"] = std::move(sensitive);
    rec["process"]["command_line"] = line;
    rec["process"]["command_line_redacted"] = true;
    rec["process"].erase("command_line_b64");
    if (rec["process"].contains("args")) {
        for (auto& a : rec["process"]["args"]) {
            if (a.is_string() && hides(Redaction{r.values, false}, a.get<std::string>(), 1)) {
                a = "[redacted]";
            }
        }
    }
}

// Text derived from the request (the refusal's message, the deny entry, resolved paths) with every
// value `r` hides replaced, longest first so a value containing another goes whole.
std::string redact_text(const Redaction& r, const std::vector<std::string>& argv, std::string text) {
    std::vector<std::string> hidden = r.values;
    for (size_t i = 0; i < argv.size(); ++i) {
        if (hides(r, argv[i], i)) {
            hidden.push_back(argv[i]);
        }
    }
    std::sort(hidden.begin(), hidden.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& v : hidden) {
        for (size_t at = v.empty() ? std::string::npos : text.find(v); at != std::string::npos; at = text.find(v, at)) {
            text.replace(at, v.size(), "[redacted]");
            at += std::string("[redacted]").size();
        }
    }
    return text;
}

// Applies redact_text to every string of `j` (in place).
void redact_strings(json& j, const Redaction& r, const std::vector<std::string>& argv) {
    if (j.is_string()) {
        j = redact_text(r, argv, j.get<std::string>());
    } else if (j.is_structured()) {
        for (auto& e : j) {
            redact_strings(e, r, argv);
        }
    }
}

// What else in a record comes from the request: hidden like argv (adr/0008).
void redact_derived(json& rec, const Redaction& r, const std::vector<std::string>& argv) {
    if (r.values.empty() && !r.all_but_first) {
        return;
    }
    for (const char* key : {"message", "deny_entry", "paths"}) {
        if (rec["diag"].contains(key)) {
            redact_strings(rec["diag"][key], r, argv);
        }
    }
}

void describe_decision(json& rec, const Decision& d) {
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

void mark_denied(json& rec, const Error& e) {
    rec["event"]["outcome"] = "failure";
    rec["diag"]["decision"] = e.code == ErrorCode::kDenied ? "deny" : "error";
    rec["diag"]["reason"] = e.code == ErrorCode::kDenied ? e.reason : "internal-error";
    rec["diag"]["message"] = e.describe();
    if (!e.detail.empty()) {
        rec["diag"]["deny_entry"] = e.detail;
    }
}

// Records and reports a refusal; returns the exit status. What `r` hides of `argv` is hidden in
// the record's message too; the client's own line keeps it (the client sent it).
int refuse(const policy::Policy& policy, json& rec, const std::string& id, const Error& e, const Redaction& r = {},
           const std::vector<std::string>& argv = {}) {
    mark_denied(rec, e);
    redact_derived(rec, r, argv);
    if (auto st = audit::write(policy.audit, rec); !st.ok()) {
        sys::say("error: " + st.error().msg + " (request " + id + " refused)");
        return kExitError;
    }
    if (e.code == ErrorCode::kDenied) {
        sys::say("denied: " + e.reason + ": " + e.describe() + " (request " + id + ")");
    } else {
        sys::say("error: " + e.describe() + " (request " + id + ")");
    }
    return exit_code(e.code);
}

// --check (on the host) and --check --build (`build`: in a build sandbox, where executables and
// deny entries are not those of the host, so they are reported and not resolved).
int check(const policy::Policy& p, bool build) {
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
           (build ? " not found on this machine; looked up again on the host)\n" : " unavailable on this host)\n") +
           lines;
    if (build) {
        out += "deny entries: " + std::to_string(p.deny_written.size()) +
               " (syntax checked; resolved on the host when a request is decided)\n";
    } else {
        out += "deny entries: " + std::to_string(p.deny.entries.size()) + " patterns, " +
               std::to_string(p.deny.objects.size()) + " existing objects pinned by inode\n";
    }
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
    if (!c.unavailable.empty()) {
        print("decision: deny\nreason: command-unavailable\nmessage: rule " + c.id +
              " is not available on this host: " + c.unavailable + "\n");
        return kExitDenied;
    }
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
        if (r.fd.valid()) {
            out += " (given as " + r.given + ": " + r.bound_because + ")";
        }
        out += "\n";
    }
    out += "timeout: " + std::to_string(c.timeout_ms) + "ms\noutput-cap: " + std::to_string(c.output_cap) + "\n";
    print(out);
    return 0;
}

struct Confinement {
    landlock::Ruleset landlock;
    seccomp::Filters seccomp;
};

// Builds Landlock and seccomp for `cmd` and notes in `rec` what will be applied. Landlock below
// ABI 3 refuses to run unless the policy says landlock = "best-effort".
Result<Confinement> confine(const policy::Policy& policy, const policy::Command& cmd, const exec::Prepared& prep,
                            json& rec) {
    Confinement c;
    // A hard link of a denied file outside the denied paths would be granted with its directory.
    DIAG_TRY_ASSIGN(const std::vector<std::string> unverified, path_resolve::check_links_contained(policy.deny));
    const int abi = landlock::abi_version();
    json ll = {{"abi", abi}, {"mode", policy.landlock == policy::LandlockMode::kRequired ? "required" : "best-effort"}};
    if (abi < landlock::kMinAbi && policy.landlock == policy::LandlockMode::kRequired) {
        rec["diag"]["confinement"] = {{"landlock", ll}};
        return make_error(ErrorCode::kExecFailed,
                          "landlock ABI " + std::to_string(abi) + " is below the required " +
                              std::to_string(landlock::kMinAbi) + " (policy settings.landlock = \"required\")");
    }
    if (abi >= 1) {
        std::vector<int> held;
        for (const auto& f : prep.bound) {
            held.push_back(f.get());
        }
        DIAG_TRY_ASSIGN(c.landlock, landlock::build(policy.deny, prep.exec_paths, held));
        ll["rules"] = c.landlock.rules;
        if (!c.landlock.cut_short.empty()) {
            ll["dirs_cut_short"] = c.landlock.cut_short;
        }
        ll["raw_io_devices"] = c.landlock.raw_io_by_kernel ? "kernel" : "landlock";
    }
    ll["enforced"] = abi >= landlock::kMinAbi;
    c.seccomp = seccomp::filters(cmd.network);
    rec["diag"]["confinement"] = {{"landlock", ll},
                                  {"seccomp", {{"network", cmd.network}}},
                                  {"no_new_privs", true},
                                  {"rlimits", true},
                                  {"exec_paths", prep.exec_paths},
                                  {"hardlinks_unverified", unverified}};
    return c;
}

}  // namespace

int exit_code(ErrorCode code) { return code == ErrorCode::kDenied ? kExitDenied : kExitError; }

int run(const Invocation& inv) {
    // Everything before the decision record runs under one deadline: a local account that fills
    // a directory or builds a deep symlink chain must not make the wrapper work without bound
    // before any record or timeout exists. The policy may shorten it once it is read.
    if (inv.mode == Mode::kRun) {
        deadline::start(deadline::kDefaultMillis);
    }
    // 0. Load the policy: root-owned, exact types, unknown keys rejected.
    policy_loader::Options load_opts;
    load_opts.build_deny = false;  // stage 0b below, where a failure can be recorded
    load_opts.syntax_only = inv.build_check;  // main.cc allows it only with --check
    load_opts.include = inv.include;
    auto loaded = policy_loader::load(inv.policy_path, load_opts);
    if (!loaded.ok()) {
        // No policy means no audit configuration: the one line on stderr is all there is.
        sys::say("error: policy: " + loaded.error().describe());
        return kExitError;
    }
    policy::Policy policy = std::move(loaded).value();
    deadline::tighten(policy.decision_timeout_ms);
    if (inv.mode != Mode::kRun && !inv.build_check) {
        auto deny = path_resolve::build_deny(policy.deny_written);
        if (!deny.ok()) {
            sys::say("error: policy: " + deny.error().describe());
            return kExitError;
        }
        policy.deny = std::move(deny).value();
    }
    auto pin_all = [&policy]() {
        for (auto& c : policy.commands) {
            policy_loader::pin(c, policy.search_path);
        }
    };
    if (inv.mode == Mode::kCheck) {
        pin_all();
        return check(policy, inv.build_check);
    }
    if (inv.mode == Mode::kExplain) {
        pin_all();
        return explain(policy, inv.request);
    }

    // From here until exit nothing but SIGKILL ends the wrapper before it has recorded the request:
    // a client that hangs up costs EPIPE, not SIGPIPE, and SIGHUP/SIGTERM/SIGINT/SIGQUIT wait
    // for the supervisor's signalfd, which ends the command (sys::hold_terminating_signals).
    if (auto st = sys::hold_terminating_signals(); !st.ok()) {
        sys::say("error: " + st.error().msg);
        return kExitError;
    }
    const std::string id = audit::new_request_id();
    const audit::Origin origin = audit::read_origin();
    json rec = audit::base_record(id, origin, inv.request, &policy);
    if (!inv.ignored_c.empty()) {
        // Shown the listing instead: keep what arrived, so the record is complete.
        rec["process"]["shell_c"] = text_safety::valid_utf8(inv.ignored_c) ? inv.ignored_c : text_safety::printable(inv.ignored_c, 8192);
    }
    // 0a. The one account this wrapper serves (settings.account): any other local account could
    //     run it with an environment of its choosing and have the record name another key.
    if (auto st = audit::check_account(policy.account, origin, rec); !st.ok()) {
        return refuse(policy, rec, id, st.error());
    }
    // 0b. Canonicalize the deny entries: globs expanded, symlinks and bind mounts resolved, denied
    //     objects pinned by inode. It reads directories other accounts may fill, so it is part of
    //     the decision (recorded, under the deadline).
    if (auto deny = path_resolve::build_deny(policy.deny_written); deny.ok()) {
        policy.deny = std::move(deny).value();
    } else {
        Error e = deny.error();
        if (e.code == ErrorCode::kPolicyInvalid) {
            e.msg = "policy: " + e.msg;
        }
        return refuse(policy, rec, id, e);
    }
    // 1-3. Tokenize, match, resolve (decide()).
    auto d = decide(policy, inv.request);
    Redaction redaction;
    if (!d.ok()) {
        // A refused request for a command with sensitive arguments: which token carried the
        // secret is unknown, so every argument is hidden.
        auto argv = command::tokenize(inv.request);
        if (argv.ok() && !argv->empty()) {
            rec["diag"]["argv"] = *argv;
            for (const auto& c : policy.commands) {
                redaction.all_but_first = redaction.all_but_first ||
                                          (policy::word_matches(c.match[0], (*argv)[0]) && policy::has_sensitive(c));
            }
            apply_redaction(rec, redaction, *argv);
            return refuse(policy, rec, id, d.error(), redaction, *argv);
        }
        // It did not even tokenize, so which of its bytes carry a secret is unknown: when its first
        // word names a rule with sensitive arguments, the record keeps that word, the SHA-256 and
        // the length.
        const std::string& raw = inv.request;
        const std::string first = raw.substr(0, raw.find_first_of(" \t"));
        if (std::any_of(policy.commands.begin(), policy.commands.end(), [&](const policy::Command& c) {
                return policy::word_matches(c.match[0], first) && policy::has_sensitive(c);
            })) {
            rec["process"]["command_line"] = text_safety::printable(first, 256) + " [redacted]";
            rec["process"]["command_line_redacted"] = true;
            rec["process"].erase("command_line_b64");
            rec["diag"]["sensitive"] = json::array({{{"request", true}, {"sha256", sha256_hex(raw)}, {"length", raw.size()}}});
        }
        return refuse(policy, rec, id, d.error());
    }
    if (d->help) {
        pin_all();  // the listing says which commands this host cannot run
    } else {
        // Pin only the command that will run: its (dev, ino) is checked again before exec.
        policy::Command& chosen = policy.commands[static_cast<size_t>(d->match.command - policy.commands.data())];
        policy_loader::pin(chosen, policy.search_path);
        redaction.values = d->match.sensitive_values;
        if (!chosen.unavailable.empty()) {
            describe_decision(rec, *d);
            apply_redaction(rec, redaction, d->argv);
            return refuse(policy, rec, id,
                          deny("command-unavailable",
                               "rule " + chosen.id + " is not available on this host: " + chosen.unavailable),
                          redaction, d->argv);
        }
    }
    describe_decision(rec, *d);
    apply_redaction(rec, redaction, d->argv);
    redact_derived(rec, redaction, d->argv);
    if (d->help) {
        rec["event"]["outcome"] = "success";
        rec["diag"]["decision"] = "allow";
        rec["diag"]["reason"] = "help";
        if (auto st = audit::write(policy.audit, rec); !st.ok()) {
            sys::say("error: " + st.error().msg + " (request " + id + " refused)");
            return kExitError;
        }
        // A client that does not read the listing holds the request no longer than a command's
        // default timeout would.
        (void)sys::write_within(STDOUT_FILENO, d->help_json ? help::json(policy) : help::text(policy),
                                static_cast<int>(std::min<uint64_t>(policy.timeout_ms, INT32_MAX)));
        return 0;
    }
    // 4. Re-open the pinned executable and check it is the object pinned at load.
    const policy::Command& cmd = *d->match.command;
    auto prepared = exec::prepare(cmd, d->match.exec_args, env::build(policy.search_path), d->bound);
    if (!prepared.ok()) {
        return refuse(policy, rec, id, prepared.error(), redaction, d->argv);
    }
    // 5. Build the confinement in the parent, where failures are ordinary errors that reach the
    //    record: the Landlock complement of the denylist, and the seccomp filters.
    auto confinement = confine(policy, cmd, *prepared, rec);
    if (!confinement.ok()) {
        return refuse(policy, rec, id, confinement.error(), redaction, d->argv);
    }
    // Every loop above checks the deadline as it goes; this catches the work between them.
    if (auto st = deadline::check("deciding"); !st.ok()) {
        return refuse(policy, rec, id, st.error(), redaction, d->argv);
    }
    // 6. The decision record, before anything runs: no record, no run (fail closed).
    rec["event"]["outcome"] = "success";
    rec["diag"]["decision"] = "allow";
    rec["diag"]["reason"] = "allowed";
    if (auto st = audit::write(policy.audit, rec); !st.ok()) {
        sys::say("error: " + st.error().msg + " (request " + id + " refused)");
        return kExitError;
    }
    // The decision is recorded; from here the command's own timeout bounds the request.
    deadline::clear();
    // 7. Fork and supervise. The child runs these steps in this order and nothing else; a failing
    //    step is reported through the supervisor's error pipe, never logged from the child.
    const pid_t parent = ::getpid();
    Confinement& c = *confinement;
    exec::Prepared& prep = *prepared;
    const uint64_t cpu_seconds = cmd.timeout_ms / 1000 + 2;
    auto child = [&]() -> supervise::ChildFailure {
        // Own session and process group: the supervisor kills the group (before seccomp forbids setsid).
        if (int e = exec::new_session()) return {"setsid", e};
        // Die with the supervisor; re-check the parent for the fork race.
        if (int e = exec::die_with_parent(parent)) return {"pdeathsig", e};
        // Unblock and reset signals (the supervisor blocked some for its signalfd).
        if (int e = exec::reset_signals()) return {"signals", e};
        // Every fd above 2 close-on-exec: an inherited fd bypasses Landlock (confinement.md 1.3).
        if (int e = exec::close_extra_fds()) return {"close-fds", e};
        // stdin from /dev/null, umask 077, cwd /.
        if (int e = exec::stdio_umask_cwd()) return {"stdin-umask-cwd", e};
        // Resource limits, while setrlimit is still allowed.
        if (int e = rlimits::apply(cpu_seconds)) return {"rlimits", e};
        // no_new_privs: required by Landlock (without CAP_SYS_ADMIN) and by seccomp.
        if (int e = exec::no_new_privs()) return {"no-new-privs", e};
        // Landlock: the denylist, enforced by the kernel for every open of the child.
        if (c.landlock.fd.valid()) {
            if (int e = landlock::restrict_self(c.landlock)) return {"landlock", e};
        }
        // seccomp last: it forbids calls the steps above make (setsid, prctl is allowed).
        if (int e = seccomp::load(c.seccomp)) return {"seccomp", e};
        // execveat of the checked fd: the name is never looked up again.
        return {"execveat", exec::execute(prep)};
    };
    // 8. The end record: how it ended, what it printed, what it cost. Its skeleton is built
    //    while the command starts on another CPU (supervise::Started), as is the release of the
    //    Landlock ruleset, which the child's domain no longer needs.
    json end;
    auto end_skeleton = [&]() {
        end = audit::base_record(id, origin, inv.request, &policy);
        apply_redaction(end, redaction, d->argv);
        end["diag"].erase("argv");
        end["event"]["action"] = "end";
        end["diag"]["decision"] = "allow";  // the decision this record closes
        end["diag"]["rule"] = cmd.id;
    };
    auto started = [&]() {
        c.landlock.fd = sys::UniqueFd();
        try {
            end_skeleton();
        } catch (...) {
            end = json();  // built again below
            throw;
        }
    };
    auto outcome = supervise::run(child, {cmd.timeout_ms, cmd.output_cap}, started);
    if (end.is_null()) {
        end_skeleton();  // the child failed before exec
    }
    end["@timestamp"] = audit::timestamp_utc_us();
    if (!outcome.ok()) {
        end["event"]["outcome"] = "failure";
        end["diag"]["result"] = {{"error", outcome.error().msg}};
        (void)audit::write(policy.audit, end);  // the command did not run; the client is told below
        sys::say("error: " + outcome.error().msg + " (request " + id + ")");
        return kExitError;
    }
    const supervise::Outcome& o = *outcome;
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
    // The record first, then the client's line: a client that hung up or stopped reading must
    // not cost the record (sys::say drops a line the client cannot take).
    if (auto st = audit::write(policy.audit, end); !st.ok() && !o.client_gone) {
        sys::say("error: " + st.error().msg + " (request " + id + ": end record lost)");
    }
    if (!o.client_gone && o.timed_out) {
        sys::say("timeout: " + std::string(o.signal != 0 ? "the command was killed" : "its output was cut off") +
                 " after " + std::to_string(cmd.timeout_ms) + " ms");
    }
    if (!o.client_gone && o.output_capped) {
        sys::say("output truncated: the command was killed at the output cap of " + std::to_string(cmd.output_cap) +
                 " bytes");
    }
    return o.exit_status;
}

}  // namespace diag::pipeline
