// SPDX-License-Identifier: Apache-2.0
// The policy's stages of the pipeline and the modes that stop after the policy (stage_policy.h).
#include "wrapper/stage_policy.h"

#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/sys.h"
#include "wrapper/policy/check.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/deny_snapshot.h"
#include "wrapper/policy/loader.h"
#include "wrapper/policy/pin.h"
#include "wrapper/request/command.h"
#include "wrapper/request/decide.h"

namespace diag::pipeline {

namespace {

// The first word of every command of the request: the rules a compiled image needs to decode.
// None when it does not tokenize (it is refused, and a refusal is decided with every rule).
std::optional<std::vector<std::string>> first_words(const std::string& request) {
    auto stages = command::parse(request);
    if (!stages.ok() || stages->empty()) {
        return std::nullopt;
    }
    std::vector<std::string> words;
    for (const auto& stage : *stages) {
        words.push_back(stage[0].text);
    }
    return words;
}

}  // namespace

// 0. Load the policy: for a request, from its compiled image when one may be used (compiled.h:
//    root-owned, keyed by the digest of the files as they are now), with only the rules the
//    request's words name; otherwise from its files: root-owned, exact types, unknown keys
//    rejected.
Result<compiled::Loaded> load_policy(const Invocation& inv) {
    if (inv.mode == Mode::kRun) {
        const auto words = first_words(inv.request);
        auto image = compiled::load(inv.policy_path, words ? &*words : nullptr);
        if (image.ok()) {
            return image;
        }
    }
    policy_loader::Options load_opts;
    load_opts.build_deny = false;             // stage 0b (build_deny), where a failure can be recorded
    load_opts.syntax_only = inv.build_check;  // main.cc allows it only with --check
    load_opts.include = inv.include;
    DIAG_TRY_ASSIGN(policy::Policy p, policy_loader::load(inv.policy_path, load_opts));
    return compiled::Loaded{std::move(p), true, false, {}};
}

// Every rule, for a request that was decided with only the rules its words name and was refused
// or asked for the listing: hints, suggestions and the listing speak of all of them. From the
// image, or from the files when a rule the request did not name does not read back from it (an
// image never makes a request fail); either must still have the key the request was loaded with.
Status widen(const Invocation& inv, policy::Policy& policy) {
    auto full = compiled::load(inv.policy_path, nullptr);
    if (!full.ok()) {
        policy_loader::Options load_opts;
        load_opts.build_deny = false;
        auto files = policy_loader::load(inv.policy_path, load_opts);
        if (files.ok()) {
            full = compiled::Loaded{std::move(files).value(), true, false, {}};
        }
    }
    if (!full.ok() || full->policy.sha256 != policy.sha256) {
        return make_error(ErrorCode::kPolicyInvalid, "policy: its files changed during the request");
    }
    policy.commands = std::move(full->policy.commands);
    return ok_status();
}

// 0b. Canonicalize the deny entries: globs expanded, symlinks and bind mounts resolved, denied
//     objects pinned by inode. It reads directories other accounts may fill, so for a request it
//     is part of the decision (recorded, under the deadline).
//     A current snapshot taken by --compile stands for the build (adr/0027).
Result<bool> build_deny(policy::Policy& policy, std::string_view snapshot) {
    if (!snapshot.empty()) {
        if (auto restored = deny_snapshot::restore(snapshot, compiled::kSettleNs); restored.ok()) {
            policy.deny = std::move(restored).value();
            return true;
        }
    }
    DIAG_TRY_ASSIGN(policy.deny, deny_list::build_deny(policy.deny_written));
    return false;
}

// An error of the policy's own (a deny entry that cannot be read as one) says so.
Error named_policy_error(Error e) {
    if (e.code == ErrorCode::kPolicyInvalid) {
        e.msg = "policy: " + e.msg;
    }
    return e;
}

void pin_all(policy::Policy& policy) {
    for (auto& c : policy.commands) {
        policy_loader::pin(c, policy.search_path);
    }
}

// The commands a refusal may suggest: those this host can run (hints.h).
hints::Available suggestable(const policy::Policy& policy) {
    return [&policy](const policy::Command& c) { return hints::available_on_host(c, policy.search_path); };
}

// --check and --explain: the policy, or the decision for one request, printed; nothing is
// recorded and nothing runs.
int dry_run(const Invocation& inv, policy::Policy& policy) {
    if (!inv.build_check) {
        if (auto st = build_deny(policy); !st.ok()) {
            sys::say("error: policy: " + st.error().describe());
            return kExitError;
        }
    }
    pin_all(policy);
    if (inv.mode == Mode::kCheck) {
        check::summarize(policy, inv.build_check);
        // Whether requests will use the compiled image: one that is not used costs every request
        // the parse, and nothing else says so. Not a policy error (requests read the files), so
        // not the exit status. A build tree has no image.
        if (!inv.build_check) {
            // Whether the image holds a deny-list snapshot (adr/0027): a line before the image's,
            // which stays the last.
            if (auto img = compiled::load(inv.policy_path, nullptr); img.ok()) {
                (void)sys::write_within(STDOUT_FILENO,
                                        "deny-list snapshot: " + deny_snapshot::describe(img->deny_snapshot) + "\n",
                                        sys::kSayMillis);
            }
            (void)sys::write_within(STDOUT_FILENO, compiled::state(inv.policy_path) + "\n", sys::kSayMillis);
        }
        return 0;
    }
    const Status explained = check::explain(decide::decide(policy, inv.request, suggestable(policy)));
    return explained.ok() ? 0 : exit_code(explained.error().code);
}

// --compile: the policy loaded from its files with every check of a request's load, written as
// its compiled image.
int compile_image(const Invocation& inv) {
    // An image keyed by a path no request names would be ignored by every request, silently.
    if (auto st = compiled::check_request_path(inv.policy_path); !st.ok()) {
        sys::say("error: --compile: " + st.error().msg + "; nothing was written");
        return kExitError;
    }
    auto policy = policy_loader::load(inv.policy_path);
    if (!policy.ok()) {
        sys::say("error: policy: " + policy.error().describe());
        return kExitError;
    }
    // The sources' identities key the image only if they were settled when the compile started
    // (adr/0026); write() reads them again after `started` and records them only if they still
    // hold the bytes loaded above.
    compiled::wait_until_settled(inv.policy_path, policy->include);
    const int64_t started = compiled::now_ns();
    // The deny list as the policy's account sees it now, with what it rests on (adr/0027); none
    // and requests build it, as before.
    auto snapshot = deny_snapshot::take_as(policy->deny_written, policy->account, compiled::kSettleNs);
    auto written = compiled::write(*policy, inv.policy_path, started, {}, snapshot.ok() ? *snapshot : "");
    if (!written.ok()) {
        sys::say("error: " + written.error().describe());
        return kExitError;
    }
    const std::string line =
        "compiled " + inv.policy_path + " (" + std::to_string(policy->loaded_files.size()) + " files, " +
        std::to_string(policy->commands.size()) + " commands) into " + *written + "\n" +
        (snapshot.ok() ? std::string()
                       : "note: no deny-list snapshot (" + snapshot.error().msg + "): requests build the deny list\n");
    return sys::write_within(STDOUT_FILENO, line, sys::kSayMillis) ? 0 : kExitError;
}

}  // namespace diag::pipeline
