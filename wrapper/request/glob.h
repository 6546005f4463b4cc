// SPDX-License-Identifier: Apache-2.0
// Stage 2b: glob words typed as paths -> the paths they match, expanded by the wrapper as a POSIX
// shell would (byte order, `*` and `?` never match a leading `.` or a `/`), never by a shell.
// Listing a directory is reading it: a directory that resolves to a denied object (or lies inside
// one) is refused, as a typed path would be. Every match is resolved and checked like a typed
// path; matches the deny check refuses are withheld (the request runs without them, the client is
// told which in one note line, the record lists them). No match is refused (glob-no-match, as
// bash's failglob); more than the caps is refused (glob-limit). adr/0014.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/request/matcher.h"

namespace diag::glob {

inline constexpr size_t kMaxMatchesPerWord = 256;  // matches one glob word may expand to
inline constexpr size_t kMaxMatchesTotal = 1024;   // matches of every glob word of a request
inline constexpr size_t kMaxEntriesRead = 100000;  // directory entries read for one request

// A match held back because resolving it was refused.
struct Withheld {
    std::string path;    // the match as the expansion spelled it
    std::string reason;  // the refusal's reason code (path-denied, path-outside-roots, ...)
};

// Work done for one request's expansions, checked against the caps above.
struct Budget {
    size_t matches = 0;
    size_t entries = 0;
};

// Expands every PathRef of `m` whose `glob` is set, in place: its exec_args word becomes one word
// per kept match (prefix + match, in byte order) and its PathRef one PathRef per match (glob
// cleared), the indices of later PathRefs shifted. The value of an option must match exactly one
// path (glob-limit otherwise: a second match would become an operand). Returns the withheld
// matches. Errors are denials: glob-no-match, glob-limit, path-denied (the directory to list is
// denied, or every match was withheld), those of path_resolve::resolve for a directory listed,
// decision-timeout.
[[nodiscard]] Result<std::vector<Withheld>> expand(const policy::Deny& deny, matcher::Match& m, Budget& budget);

}  // namespace diag::glob
