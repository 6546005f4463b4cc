// SPDX-License-Identifier: Apache-2.0
// The only place that knows the order of the stages: run() lists them, about one line each; the
// stages themselves live in base/, policy/, request/, confine/ and record/.
#include "wrapper/pipeline.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/confine/child.h"
#include "wrapper/confine/confinement.h"
#include "wrapper/confine/env.h"
#include "wrapper/confine/exec.h"
#include "wrapper/confine/supervise.h"
#include "wrapper/policy/help.h"
#include "wrapper/policy/pin.h"
#include "wrapper/record/decision.h"
#include "wrapper/record/redact.h"
#include "wrapper/record/writer.h"
#include "wrapper/request/command.h"
#include "wrapper/request/decide.h"
#include "wrapper/request/decision.h"
#include "wrapper/request/hints.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/path_resolve.h"
#include "wrapper/request/targets.h"
#include "wrapper/stage_policy.h"

namespace diag::pipeline {

namespace {

using nlohmann::json;

// How many withheld glob matches, or skipped denied paths, the client's note names (the record
// lists all of them).
constexpr size_t kMaxWithheldNamed = 20;

// One request on its way through the stages: what its records need.
struct Request {
    const Invocation& inv;
    policy::Policy& policy;
    std::string id;
    audit::Origin origin;
    json rec;                       // the decision record, filled in stage by stage
    redact::Redaction redaction;    // what the records hide of `argv`
    std::vector<std::string> argv;  // the request as tokenized, once it is
};

// The decision record's skeleton: who asks, what, under which policy.
Request open_record(const Invocation& inv, policy::Policy& policy, const std::string& passwd) {
    Request q{inv, policy, audit::new_request_id(), audit::read_origin(passwd), {}, {}, {}};
    q.rec = audit::base_record(q.id, q.origin, inv.request, &policy);
    if (!inv.ignored_c.empty()) {
        // Shown the listing instead: keep what arrived, so the record is complete.
        q.rec["process"]["shell_c"] =
            text_safety::valid_utf8(inv.ignored_c) ? inv.ignored_c : text_safety::printable(inv.ignored_c, 8192);
    }
    return q;
}

// Records and reports the refusal of `q` by `e`; returns the exit status.
int refuse(Request& q, const Error& e) {
    return record::refuse(q.policy.audit, q.rec, q.id, e, q.redaction, q.argv) ? exit_code(e.code) : kExitError;
}

// True if `word`, the first word of a stage, names a rule with sensitive arguments.
bool names_sensitive_rule(const policy::Policy& policy, const std::string& word) {
    return std::any_of(policy.commands.begin(), policy.commands.end(), [&](const policy::Command& c) {
        return policy::word_matches(c.match[0], word) && policy::has_sensitive(c);
    });
}

// A request refused before it was decided: what in its record may carry a secret is hidden.
void hide_undecided(Request& q) {
    auto stages = command::parse(q.inv.request);
    if (stages.ok() && !stages->empty()) {
        // A refused request for a command with sensitive arguments: which token carried the
        // secret is unknown, so every argument is hidden (of every stage: the words are one list).
        q.argv = record::request_words(*stages);
        q.rec["diag"]["argv"] = q.argv;
        for (const auto& stage : *stages) {
            q.redaction.all_but_first = q.redaction.all_but_first || names_sensitive_rule(q.policy, stage[0].text);
        }
        redact::apply(q.rec, q.redaction, q.argv);
        return;
    }
    // It did not even tokenize, so which of its bytes carry a secret is unknown: when its first
    // word names a rule with sensitive arguments, the record keeps that word, the SHA-256 and
    // the length.
    const std::string& raw = q.inv.request;
    const std::string first = raw.substr(0, raw.find_first_of(" \t"));
    if (names_sensitive_rule(q.policy, first)) {
        redact::untokenized(q.rec, first, raw);
    }
}

// Pins what the decision needs: for the listing every command (it says which ones this host
// cannot run); otherwise only the commands that will run, each (dev, ino) is checked again
// before exec. Errors: kDenied "command-unavailable" when this host cannot run it.
Status pin(policy::Policy& policy, const decision::Decision& d) {
    if (d.help) {
        pin_all(policy);
        return ok_status();
    }
    for (const auto& s : d.stages) {
        policy::Command& chosen = policy.commands[static_cast<size_t>(s.match.command - policy.commands.data())];
        policy_loader::pin(chosen, policy.search_path);
        if (!chosen.unavailable.empty()) {
            return deny("command-unavailable",
                        "rule " + chosen.id + " is not available on this host: " + chosen.unavailable);
        }
    }
    return ok_status();
}

// The decision in the record, its sensitive values hidden. A sensitive path is hidden in every
// form the record would show it in: as typed, canonical, each symlink followed, and as the child
// is given it (all name the same file).
void note_decision(Request& q, const decision::Decision& d) {
    q.argv = record::request_words(d);
    if (!d.help) {
        // Every stage's sensitive values, hidden wherever they appear in the record.
        std::vector<std::string>& v = q.redaction.values;
        for (const auto& s : d.stages) {
            v.insert(v.end(), s.match.sensitive_values.begin(), s.match.sensitive_values.end());
        }
        for (const auto& s : d.stages) {
            for (const auto& w : s.withheld) {
                if (w.sensitive) {
                    v.push_back(w.path);
                }
            }
            for (size_t i = 0; i < s.resolved.size(); ++i) {
                const matcher::PathRef& ref = s.match.paths[i];
                if (!ref.sensitive && !redact::hides(q.redaction, ref.input, 1)) {
                    continue;
                }
                v.push_back(ref.input);  // a glob's match: the client typed only its pattern
                const path_resolve::Resolved& r = s.resolved[i];
                v.insert(v.end(), {r.canonical, r.given, s.match.exec_args[ref.index]});
                v.insert(v.end(), r.hops.begin(), r.hops.end());
            }
        }
    }
    record::describe_decision(q.rec, d);
    redact::apply(q.rec, q.redaction, q.argv);
}

// The glob matches the deny check held back, in one line for the client (the record lists them).
void note_withheld(const Request& q, const decision::Decision& d) {
    std::vector<std::string> names;
    for (const auto& s : d.stages) {
        for (const auto& w : s.withheld) {
            names.push_back(w.path);
        }
    }
    if (names.empty()) {
        return;
    }
    std::string line = "note: " + std::to_string(names.size()) + (names.size() == 1 ? " match" : " matches") +
                       " withheld (denied by the policy):";
    for (size_t i = 0; i < names.size() && i < kMaxWithheldNamed; ++i) {
        line += " " + redact::shell_quote(redact::in_text(q.redaction, q.argv, names[i]));
    }
    if (names.size() > kMaxWithheldNamed) {
        line += " and " + std::to_string(names.size() - kMaxWithheldNamed) + " more";
    }
    sys::say(line);
}

// The denied paths the program skips below its tree operands, in one line for the client (the
// record lists them all): a tree with holes says so.
void note_skipped(const Request& q, const decision::Decision& d) {
    std::vector<std::string> names;
    size_t patterns = 0;
    for (const auto& s : d.stages) {
        names.insert(names.end(), s.skipped.begin(), s.skipped.end());
        patterns += s.skipped_patterns.size();
    }
    if (names.empty() && patterns == 0) {
        return;
    }
    std::string line = "note: skipped " + std::to_string(names.size()) + " denied path" +
                       (names.size() == 1 ? "" : "s") + " below the tree (neither read nor listed):";
    for (size_t i = 0; i < names.size() && i < kMaxWithheldNamed; ++i) {
        line += " " + redact::shell_quote(redact::in_text(q.redaction, q.argv, names[i]));
    }
    if (names.size() > kMaxWithheldNamed) {
        line += " and " + std::to_string(names.size() - kMaxWithheldNamed) + " more";
    }
    if (patterns > 0) {
        line += (names.empty() ? " " : "; ") + std::string("and whatever matches ") + std::to_string(patterns) +
                " deny pattern" + (patterns == 1 ? "" : "s") + " in /proc or /sys";
    }
    sys::say(line);
}

// The listing, recorded first. A client that does not read it holds the request no longer than a
// command's default timeout would.
int list_commands(Request& q, const decision::Decision& d) {
    record::mark_allowed(q.rec, "help");
    if (!record::write_or_refuse(q.policy.audit, q.rec, q.id)) {
        return kExitError;
    }
    const std::string listing = d.help_json              ? help::json(q.policy, d.help_command)
                                : d.help_command.empty() ? help::text(q.policy)
                                                         : help::command_text(q.policy, d.help_command);
    (void)sys::write_within(STDOUT_FILENO, listing,
                            static_cast<int>(std::min<uint64_t>(q.policy.timeout_ms, INT32_MAX)));
    return 0;
}

// What runs: every stage's command, its checked executable and its confinement. Built in full
// before anything starts (the children refer to them, so they must not move afterwards).
struct Plan {
    std::vector<const policy::Command*> cmds;
    std::vector<exec::Prepared> prepared;
    std::vector<confinement::Confinement> confined;
    uint64_t timeout_ms = UINT64_MAX;  // the tightest of the stages' limits: they cover the whole pipeline
    uint64_t output_cap = UINT64_MAX;
};

// 4-5. Re-open every stage's pinned executable and check it is the object pinned at load; build
//      its confinement in the parent, where failures are ordinary errors that reach the record:
//      the Landlock ruleset (the complement of the denylist, or a filter's own binary only) and
//      the seccomp filters.
// True for a path through a literal /proc/self or /proc/thread-self (path_resolve keeps them, and
// /proc/mounts, /proc/net lead there): checked, it is the wrapper's; opened, the child's own, so a
// rule on the object checked never grants what the child opens.
bool names_own_proc(const std::string& canonical) {
    return util::path_within(canonical, "/proc/self") || util::path_within(canonical, "/proc/thread-self");
}

// The objects a stage's child may read when its rule reads only its path operands (adr/0023) and
// none is read as a tree or through /proc/self; nullopt: the complement of the denylist.
std::optional<std::vector<landlock::Operand>> operands_of(const decision::Stage& s) {
    if (s.match.command->reads != policy::Reads::kOperands) {
        return std::nullopt;
    }
    std::vector<landlock::Operand> out;
    for (size_t i = 0; i < s.resolved.size(); ++i) {
        const path_resolve::Use use = s.match.paths[i].use;
        if (use == path_resolve::Use::kTree || use == path_resolve::Use::kMetaTree) {
            return std::nullopt;
        }
        if (use == path_resolve::Use::kContent && names_own_proc(s.resolved[i].canonical)) {
            return std::nullopt;
        }
        if (use == path_resolve::Use::kContent) {  // metadata needs no Landlock right
            out.push_back({s.resolved[i].object.get(), s.resolved[i].canonical});
        }
    }
    return out;
}

Result<Plan> plan(Request& q, const decision::Decision& d) {
    Plan p;
    for (size_t i = 0; i < d.stages.size(); ++i) {
        const decision::Stage& s = d.stages[i];
        const policy::Command& cmd = *s.match.command;
        DIAG_TRY_ASSIGN(exec::Prepared prep,
                        exec::prepare(cmd, s.match.exec_args, env::build(q.policy.search_path), s.bound));
        // The first stage's confinement where a single command's is; a filter's with its stage.
        json filter_rec = json::object();
        const auto operands = operands_of(s);
        DIAG_TRY_ASSIGN(confinement::Confinement c,
                        confinement::build(q.policy, cmd, prep, i == 0 ? q.rec : filter_rec,
                                           targets::tcp_ports(s.match.targets), operands ? &*operands : nullptr));
        if (i > 0) {
            q.rec["diag"]["pipeline"][i]["confinement"] = filter_rec["diag"]["confinement"];
        }
        p.cmds.push_back(&cmd);
        p.prepared.push_back(std::move(prep));
        p.confined.push_back(std::move(c));
        p.timeout_ms = std::min(p.timeout_ms, cmd.timeout_ms);
        p.output_cap = std::min(p.output_cap, cmd.output_cap);
    }
    return p;
}

// The end record's skeleton: the request's, for the decision it closes.
json end_skeleton(const Request& q, const Plan& p) {
    json end = audit::base_record(q.id, q.origin, q.inv.request, &q.policy);
    redact::apply(end, q.redaction, q.argv);
    end["diag"].erase("argv");
    end["event"]["action"] = "end";
    end["diag"]["decision"] = "allow";  // the decision this record closes
    end["diag"]["rule"] = p.cmds[0]->id;
    if (q.rec["diag"].contains("pipeline")) {
        // Each stage's rule and words, as the decision record has them (redacted there).
        for (const auto& stage : q.rec["diag"]["pipeline"]) {
            end["diag"]["pipeline"].push_back({{"rule", stage["rule"]}, {"argv", stage["argv"]}});
        }
    }
    return end;
}

// 8. The end record, then the client's lines; returns the exit status. The record first: a client
//    that hung up or stopped reading must not cost the record (sys::say drops a line the client
//    cannot take).
int record_end(const Request& q, const Plan& p, json& end, const Result<supervise::Outcome>& outcome) {
    end["@timestamp"] = audit::timestamp_utc_us();
    if (!outcome.ok()) {
        end["event"]["outcome"] = "failure";
        end["diag"]["result"] = {{"error", outcome.error().msg}};
        (void)audit::write(q.policy.audit, end);  // the command did not run; the client is told below
        sys::say("error: " + outcome.error().msg + " (request " + q.id + ")");
        return kExitError;
    }
    const supervise::Outcome& o = *outcome;
    record::describe_outcome(end, o);
    if (auto st = audit::write(q.policy.audit, end); !st.ok() && !o.client_gone) {
        sys::say("error: " + st.error().msg + " (request " + q.id + ": end record lost)");
    }
    if (!o.client_gone && o.timed_out) {
        sys::say("timeout: " + std::string(o.signal != 0 ? "the command was killed" : "its output was cut off") +
                 " after " + std::to_string(p.timeout_ms) + " ms");
    }
    if (!o.client_gone && o.output_capped) {
        sys::say("output truncated: the command was killed at the output cap of " + std::to_string(p.output_cap) +
                 " bytes");
    }
    return o.exit_status;
}

// 7. Fork and supervise, one child per stage. Each child runs child::confine_and_exec and nothing
//    else; a failing step is reported through the supervisor's error pipe, never logged from the
//    child. The end record's skeleton is built while the command starts on another CPU
//    (supervise::Started), as is the release of the Landlock rulesets, which the children's
//    domains no longer need.
int supervise_command(const Request& q, Plan& p) {
    const pid_t parent = ::getpid();
    std::vector<supervise::ChildMain> children;
    for (size_t i = 0; i < p.cmds.size(); ++i) {
        const uint64_t cpu_seconds = p.cmds[i]->timeout_ms / 1000 + 2;
        const confinement::Confinement& c = p.confined[i];
        const exec::Prepared& prep = p.prepared[i];
        children.emplace_back(
            [&c, &prep, parent, cpu_seconds]() { return child::confine_and_exec(c, prep, parent, cpu_seconds); });
    }
    json end;
    auto started = [&]() {
        for (auto& c : p.confined) {
            c.landlock.fd = sys::UniqueFd();
        }
        end = end_skeleton(q, p);  // when it throws, `end` stays null and is built again below
    };
    auto outcome = supervise::run(children, {p.timeout_ms, p.output_cap}, started);
    if (end.is_null()) {
        end = end_skeleton(q, p);  // a child failed before exec
    }
    return record_end(q, p, end, outcome);
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
    if (inv.mode == Mode::kCompile) {
        return compile_image(inv);
    }
    // 0. Load the policy (load_policy: from its compiled image when one may be used).
    auto loaded = load_policy(inv);
    if (!loaded.ok()) {
        // No policy means no audit configuration: the one line on stderr is all there is.
        sys::say("error: policy: " + loaded.error().describe());
        return kExitError;
    }
    policy::Policy policy = std::move(loaded->policy);
    const bool every_rule = loaded->all;
    deadline::tighten(policy.decision_timeout_ms);
    if (inv.mode != Mode::kRun) {
        return dry_run(inv, policy);
    }
    // From here until exit nothing but SIGKILL ends the wrapper before it has recorded the request:
    // a client that hangs up costs EPIPE, not SIGPIPE, and SIGHUP/SIGTERM/SIGINT/SIGQUIT wait
    // for the supervisor's signalfd, which ends the command (sys::hold_terminating_signals).
    if (auto st = sys::hold_terminating_signals(); !st.ok()) {
        sys::say("error: " + st.error().msg);
        return kExitError;
    }
    const std::string passwd = audit::read_passwd();  // once: the caller's name and the account
    Request q = open_record(inv, policy, passwd);
    // 0a. The one account this wrapper serves (settings.account): any other local account could
    //     run it with an environment of its choosing and have the record name another key.
    if (auto st = audit::check_account(policy.account, q.origin, passwd, q.rec); !st.ok()) return refuse(q, st.error());
    // 0b. The deny list, canonicalized: part of the decision, so recorded and under the deadline.
    auto snapshot_used = build_deny(policy, loaded->deny_snapshot);
    if (!snapshot_used.ok()) return refuse(q, named_policy_error(snapshot_used.error()));
    q.rec["diag"]["deny_list"] = *snapshot_used ? "snapshot" : "built";
    // 1-3. Tokenize, match, expand, resolve (decide.h).
    auto d = decide::decide(policy, inv.request, suggestable(policy));
    if (!every_rule && (!d.ok() || d->help)) {
        if (auto st = widen(inv, policy); !st.ok()) {
            hide_undecided(q);  // refused undecided: what may carry a secret is hidden, as below
            return refuse(q, st.error());
        }
        d = decide::decide(policy, inv.request, suggestable(policy));
    }
    if (!d.ok()) {
        hide_undecided(q);
        return refuse(q, d.error());
    }
    // Pin what will run, then describe the decision in the record (a command this host cannot run
    // is refused with the decision described).
    const Status runnable = pin(policy, *d);
    note_decision(q, *d);
    if (!runnable.ok()) return refuse(q, runnable.error());
    redact::derived(q.rec, q.redaction, q.argv);
    if (d->help) return list_commands(q, *d);
    // 4-5. Re-open the pinned executables; build the confinement of every stage (plan()).
    auto planned = plan(q, *d);
    if (!planned.ok()) return refuse(q, planned.error());
    // Every loop above checks the deadline as it goes; this catches the work between them.
    if (auto st = deadline::check("deciding"); !st.ok()) return refuse(q, st.error());
    // 6. The decision record, before anything runs: no record, no run (fail closed).
    record::mark_allowed(q.rec, "allowed");
    if (!record::write_or_refuse(policy.audit, q.rec, q.id)) return kExitError;
    // The decision is recorded; from here the command's own timeout bounds the request.
    deadline::clear();
    note_withheld(q, *d);
    note_skipped(q, *d);
    // 7-8. Fork, confine and supervise the stages; then the end record. The request is over once
    //      it is written: the process ends here rather than free the policy, the decision and the
    //      records object by object (the kernel takes the whole heap at once; everything the
    //      wrapper prints went out by write(2), nothing waits in a stdio buffer).
    ::_exit(supervise_command(q, *planned));
}

}  // namespace diag::pipeline
