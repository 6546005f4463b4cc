// SPDX-License-Identifier: Apache-2.0
// Which rules may be pipeline filters (adr/0013). A filter reads only its standard input, so its
// rule may name no file, reach no network, and list nothing its program uses to open, write or
// run something. The tables here know the usual text tools by name; they guard against a policy
// that would hand such a power to a later pipeline stage. The boundary itself is the filter
// stage's confinement (no file system access beyond loading its own binary).
#pragma once

#include <string>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

// Refuses the rule `c` (read from table `t`, named `what`) as a filter when: its program (by
// basename) runs programs or writes files (awk, sed, shells, interpreters, xargs, tee, ...); an
// option or positional is typed path or meta-path; an option is recursive; it sets network; it
// lists an option its program uses to open, write or run something (grep -f, sort -o, tail -f,
// abbreviations of those included); it takes more operands than its program reads as non-files
// (sort: none; grep: the pattern, and none next to -e, fixed words not starting with '-' counting
// as operands); or a fixed word names a file (contains '/'), is such an option, or is an operand
// of a program whose operands are files. Option names and fixed words are read as getopt reads
// them whatever the rule's style: every letter of a single-dash cluster (sort -ro is -r -o), a
// long option up to '='.
// A rule without filter = true passes unchecked.
// Errors: kPolicyInvalid, one line naming the rule and what it may not have, at the offending key.
[[nodiscard]] Status check_filter(const FileCtx& ctx, const toml::table& t, const std::string& what,
                                  const policy::Command& c);

}  // namespace diag::policy_loader
