// SPDX-License-Identifier: Apache-2.0
// Landlock, the kernel-enforced denylist (docs/confinement.md §2). Landlock only grants, so the ruleset
// is the complement of the denylist: every sibling along the ancestry of a denied path is granted
// read, the denied entries get nothing. No write anywhere but /dev/null; execute only for the
// pinned binary and its interpreter. A filter, and a rule that reads only its path operands
// (adr/0023), get a ruleset of named files instead (landlock_scoped.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/model.h"

namespace diag::landlock {

inline constexpr int kMinAbi = 3;  // TRUNCATE: before ABI 3 O_TRUNC is always allowed
inline constexpr int kNetAbi = 4;  // TCP bind/connect rules: a rule with destinations needs it

// The running kernel's Landlock ABI version, 0 when Landlock is unavailable or disabled.
[[nodiscard]] int abi_version();

struct Ruleset {
    sys::UniqueFd fd;
    int abi = 0;
    size_t rules = 0;
    uint64_t handled_fs = 0;
    bool raw_io_by_kernel = false;  // /dev/mem & co. left to their driver's CAP_SYS_RAWIO check
    // Directories with more entries than one directory may have rules for: the entries past the
    // bound are unreadable to the child (recorded).
    std::vector<std::string> cut_short;
    // A filter's or an operand reader's ruleset: every file it grants to load the binary
    // (build_filter, build_operands); empty for the complement ruleset.
    std::vector<std::string> files;
    size_t operands = 0;  // build_operands: the operands granted
    // The TCP ports the child may connect to (build's `connect_ports`); every other connect and
    // every bind is refused by the kernel.
    std::vector<uint16_t> connect_ports;
};

// Builds the complement ruleset for `deny`, granting EXECUTE only on `exec_paths` (the binary, its
// ELF interpreter, a script's interpreter). Runs in the parent, before fork, so errors are
// ordinary Results (kExecFailed, naming the call and errno).
// `held` are files handed to the child as checked objects (exec::Prepared::bound): each gets a
// read rule of its own, so a file in a directory the walk could not list stays readable through
// its /proc/self/fd name (the object was checked against the denylist by inode already).
// `connect_ports`: TCP ports the child may connect to (a rule's destinations, adr/0018); a
// kernel below kNetAbi cannot confine them, so a non-empty list there is an error.
// `exe_fd`: the last of `exec_paths` (the executable) open as the pinned, re-checked object that
// execveat runs (exec::Prepared::exe), which gets the rule; -1: it is opened by name like the rest.
[[nodiscard]] Result<Ruleset> build(const policy::Deny& deny, const std::vector<std::string>& exec_paths,
                                    const std::vector<int>& held = {}, const std::vector<uint16_t>& connect_ports = {},
                                    int exe_fd = -1);

// The ruleset of a pipeline filter (policy::Command::filter), which reads only its stdin: nothing
// of the file system beyond loading its own binary. EXECUTE and READ_FILE on `exec_paths` (the
// binary and its interpreters), READ_FILE on exactly the shared objects the loader maps for each
// of them (elf_deps::libraries) and on /etc/ld.so.cache, READ_FILE and WRITE_FILE on /dev/null; no
// READ_DIR anywhere; every other right handled and not granted. Each file is opened once, checked
// as opened (its real path and inode, real_open.h) and granted by that fd; the executable's
// libraries are read from `exe_fd` (as build). A file it would grant that `deny` covers is refused.
// Errors: kExecFailed (those of elf_deps and of the Landlock calls, a denied file).
[[nodiscard]] Result<Ruleset> build_filter(const policy::Deny& deny, const std::vector<std::string>& exec_paths,
                                           int exe_fd = -1);

// A path operand of a request whose rule reads only its operands (policy::Reads::kOperands): the
// object path_resolve checked (Resolved::object, O_PATH), and the path it was given as.
struct Operand {
    int object = -1;
    std::string path;
};

// The ruleset of a rule that reads only its path operands: build_filter's, plus READ_FILE on each
// operand that is a file and READ_DIR (names, never content) on each that is a directory, a read
// rule on each of `held` (as build), and TCP connect to `connect_ports` (as build). A rule on the
// object's inode: the child reaches that object by its path, and nothing else by any path. An
// operand or held file whose inode the denylist holds, or an operand that is neither a file nor a
// directory, is refused. Errors: build_filter's.
[[nodiscard]] Result<Ruleset> build_operands(const policy::Deny& deny, const std::vector<std::string>& exec_paths,
                                             const std::vector<Operand>& operands, const std::vector<int>& held,
                                             const std::vector<uint16_t>& connect_ports, int exe_fd = -1);

// In the child, after no_new_privs: landlock_restrict_self (logging denials after exec, ABI >= 7).
// Returns 0 or an errno.
[[nodiscard]] int restrict_self(const Ruleset& rs);

// PT_INTERP of an ELF file (the dynamic loader), or empty for static binaries and non-ELF files.
[[nodiscard]] std::string elf_interpreter(int fd);

}  // namespace diag::landlock
