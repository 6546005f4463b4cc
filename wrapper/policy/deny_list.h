// SPDX-License-Identifier: Apache-2.0
// Building the denylist: the built-in entries, the checks of entries as written, and their
// canonicalization into policy::Deny (canonical forms, glob matches, bind-mount aliases, the
// (dev, ino) of every denied object). Done once, when the policy is loaded; the request stages
// only match against the result (deny_match.h).
#pragma once

#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::deny_list {

struct Recorder;

// Denied no matter what the policy says.
[[nodiscard]] const std::vector<std::string>& builtin_denies();

using RawDeny = policy::DenyWritten;

// The checks of deny entries as written that need no file system: absolute, no '.' or '..'
// component, at most policy::kMaxDenyEntries with the built-in ones. build_deny runs them first;
// the build-time policy check runs only them. Errors: kPolicyInvalid.
[[nodiscard]] Status check_deny_syntax(const std::vector<RawDeny>& written);

// Canonicalizes deny entries: the entry as written, its canonical form (symlinks in the glob-free
// prefix resolved), every existing glob match resolved, bind-mount aliases from
// /proc/self/mountinfo, and (dev, ino) of every existing object. Errors: kPolicyInvalid,
// decision-timeout.
// With `recorder`, every question the build asks the file system is noted there (deny_glob.h).
[[nodiscard]] Result<policy::Deny> build_deny(const std::vector<RawDeny>& raw, Recorder* recorder = nullptr);

// /proc and /sys: their objects come and go, the deny patterns cover them, nothing there is scanned.
[[nodiscard]] bool is_pseudo_fs_path(const std::string& p);

}  // namespace diag::deny_list
