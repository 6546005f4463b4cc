// SPDX-License-Identifier: Apache-2.0
// Stage 0: the TOML policy -> a frozen Policy. Parse, schema walk (unknown keys and wrong types are
// errors with file:line:col), semantic checks, deny canonicalization. The schema of each table is
// in settings.h and command_schema.h; executables are pinned later, by pin.h.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::policy_loader {

inline constexpr size_t kMaxPolicyBytes = 1024 * 1024;
inline constexpr size_t kMaxDropIns = 256;

struct Options {
    // Owner every policy file, drop-in and their directories must have. Always 0 in diag-wrapper;
    // unit tests that cannot be root pass their own uid (never reachable from the SSH client).
    uid_t trusted_owner = 0;
    // Canonicalize the deny entries (deny_list::build_deny) into Policy::deny. The wrapper's
    // request path turns this off and builds them as a stage of its own, under the decision
    // deadline and with an audit record when it fails.
    bool build_deny = true;
    // The build-time check (`diag-wrapper --check --build`): validate what the files say, not
    // where they are, so it runs as an unprivileged build user on files in a build tree. Files and
    // directories are opened without the ownership and mode checks; deny entries get only the
    // checks that need no file system (deny_list::check_deny_syntax), never build_deny
    // against this machine.
    // Such a Policy is printed, never enforced: the request path never sets this.
    bool syntax_only = false;
    // With syntax_only: the drop-in directories to read instead of settings.include (which names
    // where the files will be on the host, not where the build has them).
    std::optional<std::vector<std::string>> include;
};

// Loads `path` and its drop-ins. Errors: kPolicyInvalid, with a position where one is known.
[[nodiscard]] Result<policy::Policy> load(const std::string& path, const Options& opts = {});

// Parses and validates policy text without touching the file system for the policy itself
// (executables and deny entries are still resolved). For tests and the fuzzer.
[[nodiscard]] Result<policy::Policy> load_from_string(const std::string& text, const std::string& name,
                                                      const Options& opts = {});

// The digest Policy::sha256 holds for `path` and the drop-ins of `include` (settings.include of
// that file), from the files as they are now, read with the same checks as load() but not parsed:
// what the compiled image is keyed by (compiled.h). Errors: those of load() reading the files.
[[nodiscard]] Result<std::string> source_digest(const std::string& path, const std::vector<std::string>& include,
                                                const Options& opts = {});

// The identity of a file or include directory source_digest covers, as fstat(2) gives it: what
// the compiled image records so a request can tell its files unchanged without reading them
// (adr/0026).
struct SourceId {
    std::string path;  // as digested: the policy path as given, a directory's or drop-in's real path
    uint64_t dev = 0;
    uint64_t ino = 0;
    uint64_t size = 0;
    uint32_t mode = 0;
    uint32_t uid = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool operator==(const SourceId&) const = default;
};

// The identities of what source_digest(path, include, opts) reads, in its order: every file and
// directory opened with the same checks, the directories listed, nothing read. Errors: those of
// source_digest.
[[nodiscard]] Result<std::vector<SourceId>> source_ids(const std::string& path, const std::vector<std::string>& include,
                                                       const Options& opts = {});

}  // namespace diag::policy_loader
