// SPDX-License-Identifier: Apache-2.0
// The policy model: plain structs, defaults as member initialisers, no I/O. Built by policy_loader,
// frozen (const) afterwards.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wrapper/policy/destination.h"

namespace diag::policy {

inline constexpr int kSchemaVersion = 1;
inline constexpr size_t kMaxCommands = 1024;
inline constexpr size_t kMaxOptionsPerCommand = 128;
inline constexpr size_t kMaxDenyEntries = 4096;
inline constexpr size_t kMaxStringBytes = 4096;
inline constexpr uint64_t kDefaultTimeoutMs = 30000;
inline constexpr uint64_t kDefaultOutputCap = 16ULL * 1024 * 1024;
// settings.decision_timeout: the bound on everything before the decision record (deadline.h).
inline constexpr uint64_t kDefaultDecisionTimeoutMs = 5000;
inline constexpr uint64_t kMinDecisionTimeoutMs = 100;
inline constexpr uint64_t kMaxDecisionTimeoutMs = 60000;

// kBoot: a journal boot, as journalctl's -b takes it: a signed offset (-1, 0, +2) or a 32-hex boot
// ID, optionally with an offset (ID-1).
// The values a boot may take (POSIX ERE, matched whole). No leading zeros: journalctl reads an
// offset such as 010 as octal (boot +8).
inline constexpr const char* kBootPattern = "[+-]?(0|[1-9][0-9]{0,5})|[0-9a-fA-F]{32}([+-](0|[1-9][0-9]{0,5}))?";
enum class ValueType {
    kFlag,
    kInt,
    kEnum,
    kDuration,
    kTime,
    kUnit,
    kHostname,
    kRegex,
    kString,
    kPath,
    kMetaPath,
    kBoot,
    // Network destinations (destination.h), admitted only by the rule's `connect` list.
    kUrl,         // http(s)://HOST[:PORT]/PATH
    kEndpoint,    // HOST:PORT
    kTargetHost,  // HOST (ping, nc)
    kTargetPort   // PORT (nc), paired with the rule's target-host
};

[[nodiscard]] const char* value_type_name(ValueType t);
[[nodiscard]] std::optional<ValueType> value_type_from_name(const std::string& s);
[[nodiscard]] inline bool is_path_type(ValueType t) { return t == ValueType::kPath || t == ValueType::kMetaPath; }
[[nodiscard]] inline bool is_target_type(ValueType t) {
    return t == ValueType::kUrl || t == ValueType::kEndpoint || t == ValueType::kTargetHost ||
           t == ValueType::kTargetPort;
}

struct ValueSpec {
    ValueType type = ValueType::kString;
    std::optional<int64_t> min;
    std::optional<int64_t> max;
    std::vector<std::string> values;  // enum
    std::string pattern;              // regex, and path types' resolved path (unanchored; matched as ^(...)$)
    std::vector<std::string> roots;   // path types: canonical allowed roots (empty = anywhere)
    bool sensitive = false;           // audit records keep its SHA-256 and length, never the value

    bool operator==(const ValueSpec&) const = default;
};

struct OptionSpec {
    std::vector<std::string> names;
    ValueSpec value;         // type kFlag = takes no value
    bool recursive = false;  // flag: path positionals become trees
    bool required = false;
    // The value may be left out (journalctl -b). It is taken from an attached form (-b-1,
    // --boot=-1) or from the next word only when that word has the shape of the type (int, boot),
    // so "-b -1" works and "-b --file=X" is two options; emitted attached, never as two words.
    bool optional_value = false;

    bool operator==(const OptionSpec&) const = default;
};

struct PositionalSpec {
    ValueSpec value;
    size_t min = 1;
    size_t max = 1;
    bool tree = false;  // path: the whole subtree may be read

    bool operator==(const PositionalSpec&) const = default;
};

enum class Style { kGetopt, kWords };
// How a program skips the denied subtrees of a tree operand (adr/0016): find by an expression the
// wrapper composes around the request's, grep -r by searching the allowed parts of the tree, du by
// --exclude of each denied path. kNone: a tree with a deny entry below it is refused.
enum class Prune { kNone, kFind, kGrep, kDu };
// What of the file system the program reads (adr/0023): whatever the denylist leaves
// (kFilesystem: the complement ruleset), or only its path operands (kOperands: Landlock grants
// those objects and what loading the binary reads; a request with a tree operand falls back).
enum class Reads { kFilesystem, kOperands };
enum class Layout { kSubcommandFirst, kOptionsFirst, kPositionalsFirst };

struct Command {
    std::string id;
    std::vector<std::vector<std::string>> match;  // words; each word a list of alternatives
    std::string program;                          // as written in the policy
    std::string description;
    std::vector<std::string> fixed;
    Style style = Style::kGetopt;
    Layout layout = Layout::kSubcommandFirst;
    bool end_of_options = true;
    // getopt style: a long option's value is passed as `--name=VALUE` (false) or as the next word
    // (true), for programs such as curl whose parser knows no `=`.
    bool separate_long_values = false;
    uint64_t timeout_ms = 0;  // 0 until load: inherits settings.timeout
    uint64_t output_cap = 0;  // 0 until load: inherits settings.output_cap
    bool network = false;     // AF_INET/AF_INET6 sockets allowed (DNS for getent); TCP still refused
    // The destinations its url/endpoint/target-host/target-port arguments may name (adr/0018).
    // A request's TCP ports become the child's only Landlock connect rules; empty: no TCP.
    std::vector<destination::Listed> connect;
    // A pipeline filter (adr/0013): reads only its stdin, may follow `|` in a request, and runs with
    // no file system access beyond loading its own binary. The loader refuses a filter rule with
    // path arguments, network, or an option known to open, write or execute.
    bool filter = false;
    Prune prune = Prune::kNone;
    Reads reads = Reads::kFilesystem;
    // The group `help` lists the rule under (`disk`, `systemd`): the listing's sections. Empty: the
    // last section, "other". Presentation only: matching never looks at it.
    std::string family;
    std::vector<OptionSpec> options;
    std::vector<PositionalSpec> positionals;
    std::string source;  // "file:line" of the table, for messages

    // Filled at load: the pinned executable, or why it is unavailable on this host.
    std::string exe_path;  // canonical absolute path
    dev_t exe_dev = 0;
    ino_t exe_ino = 0;
    std::string unavailable;  // non-empty: reason the command cannot run here

    bool operator==(const Command&) const = default;
};

enum class AuditSink { kFile, kSyslog, kJournald };

struct Audit {
    std::vector<AuditSink> sinks;
    std::string file;
    // The hash chain's state file (adr/0011); empty: records are not chained.
    std::string chain;
    // The datagram sinks' sockets. Only the root-owned policy sets them: the tests' seam, and
    // hosts whose journald or syslog daemon listens elsewhere.
    std::string journald_socket = "/run/systemd/journal/socket";
    std::string syslog_socket = "/dev/log";
    std::map<std::string, std::string> principals;  // "SHA256:..." key fingerprint -> principal name

    bool operator==(const Audit&) const = default;
};

// One denied object as written, plus what canonicalization learned about it.
struct DenyEntry {
    std::string pattern;  // canonical absolute path, may contain globs
    std::string origin;   // the entry as written (or "built-in"), for messages
    // A built-in device the kernel opens only for CAP_SYS_RAWIO (/dev/mem, /dev/port, /dev/kmem):
    // refused as an argument like any entry, but an unprivileged child needs no Landlock walk of
    // /dev for it (landlock.cc).
    bool kernel_guarded = false;
};

// A deny entry whose pattern has glob characters, split into components once.
struct DenyGlob {
    size_t entry;                    // index into Deny::entries
    std::vector<std::string> parts;  // path components, each an fnmatch(3) pattern
};

// Multiply-linked regular files below the denied directories (see link_check.cc).
struct LinkIndex {
    std::map<std::pair<dev_t, ino_t>, std::string> inodes;           // -> one of its names
    std::map<std::pair<dev_t, ino_t>, std::set<std::string>> names;  // its names under denied paths
    std::map<std::pair<dev_t, ino_t>, nlink_t> nlink;
    std::map<std::pair<dev_t, ino_t>, uid_t> owner;
    // Denied directories not fully scanned (unreadable to us, or the bound was reached), with the
    // device they are on: a multiply-linked file on that device may be one of theirs.
    std::vector<std::pair<std::string, dev_t>> unverified;
};

// A directory's entries ("." and ".." left out) with their d_type (DT_UNKNOWN where the file
// system does not say), as read once in a request.
using Listing = std::vector<std::pair<std::string, unsigned char>>;

struct Deny {
    std::vector<DenyEntry> entries;
    // (dev, ino) -> canonical path of every existing denied object.
    std::map<std::pair<dev_t, ino_t>, std::string> objects;
    // Lookup index over `entries` (deny_list::add_deny_entry keeps it current): lookups cost
    // O(path depth), not O(entries), on the per-request hot paths (resolve, the Landlock walk).
    std::unordered_map<std::string, size_t> exact;                // literal pattern -> entry index
    std::unordered_map<std::string, size_t> ancestors;            // proper ancestor of a literal pattern -> entry
    std::unordered_map<std::string, size_t> unguarded_ancestors;  // the same, without kernel_guarded entries
    std::vector<DenyGlob> globs;                                  // entries whose pattern has glob characters
    // Directories a glob deny entry could not look into (unreadable): (dir, device).
    std::vector<std::pair<std::string, dev_t>> unexpanded;
    // Every mount point and its device (/proc/self/mountinfo when the list was built): a scan
    // that could not finish a denied directory cannot vouch for file systems mounted below it.
    std::vector<std::pair<std::string, dev_t>> mount_points;
    // Scanned on first need, at most once per request (a cache, not policy).
    mutable std::optional<LinkIndex> link_index;
    // Directories listed while expanding the deny globs, by the path they were listed at: the
    // Landlock walk of the same request reuses them instead of reading /etc again. A cache, not
    // policy: it only says which names to try, and every name is opened and checked again where
    // it is used, so a listing that went stale can only leave a new name without a rule.
    mutable std::map<std::string, Listing> listings;
};

// A deny entry as written in a policy file, before deny_list::build_deny canonicalizes it.
struct DenyWritten {
    std::string path;    // as written: absolute, may contain globs
    std::string origin;  // "file:line" or "built-in"

    bool operator==(const DenyWritten&) const = default;
};

enum class LandlockMode { kRequired, kBestEffort };

struct Policy {
    int version = kSchemaVersion;
    LandlockMode landlock = LandlockMode::kRequired;
    std::string path;
    std::string sha256;  // hex digest of the main file's bytes
    std::vector<std::string> search_path;
    std::vector<std::string> include;
    std::vector<std::string> loaded_files;
    uint64_t timeout_ms = kDefaultTimeoutMs;
    uint64_t output_cap = kDefaultOutputCap;
    uint64_t decision_timeout_ms = kDefaultDecisionTimeoutMs;
    // settings.account: the one account this wrapper serves (a passwd name); empty: not checked.
    std::string account;
    Audit audit;
    std::vector<DenyWritten> deny_written;  // from every file, in order
    Deny deny;                              // built from deny_written (deny_list::build_deny)
    std::vector<Command> commands;
};

// True if any option or positional of `c` is marked sensitive.
[[nodiscard]] bool has_sensitive(const Command& c);

// "a|b" alternatives of one match word.
[[nodiscard]] bool word_matches(const std::vector<std::string>& alternatives, const std::string& word);
// The placeholder of a value in usage lines: N, UNIT, {a|b}, PATH; empty for a flag.
[[nodiscard]] std::string metavar(const ValueSpec& v);
// Usage line for help: "journalctl [-u UNIT] [-n N] ...".
[[nodiscard]] std::string usage(const Command& c);

}  // namespace diag::policy
