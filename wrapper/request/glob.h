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

inline constexpr size_t kMaxMatchesPerWord = 256;     // paths one glob word may match, at any level
inline constexpr size_t kMaxMatchesTotal = 1024;      // matches of every glob word of a request
inline constexpr size_t kMaxEntriesRead = 100000;     // directory entries read for one request
inline constexpr size_t kMaxMatchBytes = 128 * 1024;  // bytes of the words the matches become (argv)

// A match held back because resolving it was refused.
struct Withheld {
    std::string path;        // the match as the expansion spelled it
    std::string reason;      // the refusal's reason code (path-denied, path-outside-roots, ...)
    bool sensitive = false;  // the glob's argument is sensitive: the record hides the path
};

// Work done for one request's expansions, checked against the caps above.
struct Budget {
    size_t matches = 0;
    size_t entries = 0;
    size_t bytes = 0;
};

// Expands every PathRef of `m` whose `glob` is set, in place: its exec_args word becomes one word
// per kept match (prefix + match, in byte order) and its PathRef one PathRef per match (glob
// cleared, input the match), the indices of later PathRefs shifted. Resolution results are not
// kept: each expanded PathRef is resolved again by the caller, as any typed path.
//
// The pattern (PathRef::pattern: backslash escapes for quoted characters) is split at `/`; a
// component without an unescaped `*`, `?` or `[` is taken literally, one with them is matched by
// fnmatch(3) with FNM_PERIOD against a listing of each directory reached so far ("." and ".."
// never match). A relative pattern is relative to "/", as path_resolve reads relative paths, and
// its matches stay relative. A trailing `/` keeps directories only.
//
// Listing: each directory is first resolved as content (path_resolve::Use::kContent, no roots) and
// the object resolved is listed. The first directory listed is the one the request names: any
// refusal of it refuses the request (path-denied for a denied one). A directory a glob matched
// (`/var/*/log/*`) that resolves to a refusal is withheld and not listed; one that is not a
// directory or does not exist is passed over.
//
// Matches: each is resolved with the PathRef's own use and roots. A denial withholds it (Withheld
// lists it; decision-timeout and internal errors refuse the request instead); a literal tail after
// a glob that names nothing is passed over (`/home/*/.profile`). If every match was withheld, the
// first withheld match's refusal refuses the request, naming the pattern (`cat /etc/shado?` stays
// path-denied). A word may keep at most PathRef::max_matches matches: exactly one for an option's
// value, since a second would be read as an operand.
//
// Errors are denials: glob-no-match, glob-limit, those of path_resolve::resolve for the directory
// the request names or for every match withheld, decision-timeout; kInternal for a failed listing.
[[nodiscard]] Result<std::vector<Withheld>> expand(const policy::Deny& deny, matcher::Match& m, Budget& budget);

}  // namespace diag::glob
