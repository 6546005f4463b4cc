// SPDX-License-Identifier: Apache-2.0
// The policy file and its drop-ins -> a frozen Policy: opening them with the ownership and mode
// checks, the top level of each file (version, which tables it may hold, [deny], [command]), and
// the checks and defaults that need every file read.
#include "wrapper/policy/loader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/command_schema.h"
#include "wrapper/policy/deny_list.h"
#include "wrapper/policy/settings.h"
#include "wrapper/policy/toml_read.h"

namespace diag::policy_loader {

namespace {

using policy::Command;
using policy::Policy;

// Everything read so far, before the whole policy is assembled.
struct Accum {
    Policy policy;
    std::map<std::string, std::string> command_origin;
    std::string hash_input;
};

// toml++ 3.3 reaches __builtin_unreachable (undefined behaviour) classifying some non-ASCII code
// points (found by policy_loader_fuzz: U+FEF7 at the start of a key). Policy files are therefore
// ASCII; other characters can still be written as \uXXXX escapes inside strings.
Status check_ascii(const FileCtx& ctx, const std::string& text) {
    unsigned line = 1;
    unsigned col = 1;
    for (const char ch : text) {
        if (static_cast<unsigned char>(ch) >= 0x80) {
            Error e =
                make_error(ErrorCode::kPolicyInvalid,
                           "non-ASCII byte: policy files are ASCII (write other characters as \\uXXXX in strings)");
            e.pos = SourcePos{ctx.file, line, col};
            return e;
        }
        if (ch == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return ok_status();
}

Status check_version(const FileCtx& ctx, const toml::table& root) {
    const auto* version = root.get("version");
    if (version == nullptr) {
        Error e = make_error(ErrorCode::kPolicyInvalid, "missing 'version = 1'");
        e.pos = SourcePos{ctx.file, 1, 1};
        return e;
    }
    DIAG_TRY_ASSIGN(int64_t v, read_int(ctx, *version, "version"));
    if (v != policy::kSchemaVersion) {
        return at(ctx, version->source(), "unsupported policy version " + std::to_string(v) + " (this build reads 1)");
    }
    return ok_status();
}

// [deny] paths, as written, each with the FILE:LINE it came from.
Status read_deny_table(const FileCtx& ctx, const toml::table& root, Accum& acc) {
    DIAG_TRY_ASSIGN(const toml::table* t, find_table(ctx, root, "deny"));
    if (t == nullptr) {
        return ok_status();
    }
    DIAG_TRY(check_keys(ctx, *t, {"paths"}, "deny"));
    if (const auto* n = t->get("paths")) {
        const auto* arr = n->as_array();
        if (arr == nullptr) {
            return at(ctx, n->source(), "deny.paths: expected an array of strings");
        }
        for (const auto& el : *arr) {
            DIAG_TRY_ASSIGN(std::string path, read_abs_path(ctx, el, "deny.paths"));
            acc.policy.deny_written.push_back({path, ctx.file + ":" + std::to_string(el.source().begin.line)});
        }
    }
    return ok_status();
}

// [command.ID] tables: an id is defined once across all files, and there are at most
// policy::kMaxCommands.
Status read_command_table(const FileCtx& ctx, const toml::table& root, Accum& acc) {
    DIAG_TRY_ASSIGN(const toml::table* t, find_table(ctx, root, "command"));
    if (t == nullptr) {
        return ok_status();
    }
    for (const auto& [key, node] : *t) {
        const std::string id(key.str());
        if (auto it = acc.command_origin.find(id); it != acc.command_origin.end()) {
            return at(ctx, key.source(), "command '" + id + "' is already defined at " + it->second);
        }
        DIAG_TRY_ASSIGN(Command cmd, read_command(ctx, id, node));
        acc.command_origin[id] = cmd.source;
        acc.policy.commands.push_back(std::move(cmd));
        if (acc.policy.commands.size() > policy::kMaxCommands) {
            return at(ctx, key.source(), "more than " + std::to_string(policy::kMaxCommands) + " commands");
        }
    }
    return ok_status();
}

// One file's text: parse, the tables it may hold, then each table in schema order.
Status read_file_text(const FileCtx& ctx, const std::string& text, Accum& acc) {
    DIAG_TRY(check_ascii(ctx, text));
    toml::parse_result parsed = toml::parse(text, ctx.file);
    if (!parsed) {
        const auto& err = parsed.error();
        return at(ctx, err.source(), std::string(err.description()));
    }
    const toml::table& root = parsed.table();
    if (ctx.main) {
        DIAG_TRY(check_keys(ctx, root, {"version", "settings", "audit", "deny", "command"}, "policy"));
    } else {
        DIAG_TRY(check_keys(ctx, root, {"version", "deny", "command"}, "drop-in (only version, deny, command)"));
    }
    DIAG_TRY(check_version(ctx, root));
    DIAG_TRY(read_settings(ctx, root, acc.policy));
    DIAG_TRY(read_audit(ctx, root, acc.policy));
    DIAG_TRY(read_deny_table(ctx, root, acc));
    DIAG_TRY(read_command_table(ctx, root, acc));
    return ok_status();
}

// Opens a policy file or drop-in directory: root-owned and not writable by others all the way
// down, except for the build-time check, whose result is printed and never enforced.
Result<sys::UniqueFd> open_policy_path(const std::string& real, int flags, const Options& opts) {
    if (!opts.syntax_only) {
        return sys::open_trusted(real, flags, opts.trusted_owner, ErrorCode::kPolicyInvalid);
    }
    sys::UniqueFd fd(::open(real.c_str(), flags | O_CLOEXEC));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kPolicyInvalid, "open(" + real + ")", errno);
    }
    return fd;
}

// A policy file or drop-in, opened with the checks above; `real` gets its real path, `st` its
// fstat.
Result<sys::UniqueFd> open_policy_file(const std::string& path, const Options& opts, std::string& real,
                                       struct stat& st) {
    DIAG_TRY_ASSIGN(real, sys::real_path(path, ErrorCode::kPolicyInvalid));
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, open_policy_path(real, O_RDONLY | O_NONBLOCK, opts));
    DIAG_TRY_ASSIGN(st, sys::fstat_fd(fd.get(), real, ErrorCode::kPolicyInvalid));
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kPolicyInvalid, real + ": not a regular file");
    }
    return fd;
}

Result<std::string> read_text(int fd, const std::string& real) {
    auto text = sys::read_all(fd, real, kMaxPolicyBytes);
    if (!text.ok()) {
        return make_error(ErrorCode::kPolicyInvalid, text.error().msg);
    }
    return std::move(text).value();
}

Result<std::string> read_policy_file(const std::string& path, const Options& opts) {
    std::string real;
    struct stat st {};
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, open_policy_file(path, opts, real, st));
    return read_text(fd.get(), real);
}

// The drop-in files of the directory `real`: every *.toml that is not hidden, in lexical order.
// `st` gets the directory's fstat.
Result<std::vector<std::string>> list_drop_ins(const std::string& real, const Options& opts, struct stat& st) {
    DIAG_TRY_ASSIGN(sys::UniqueFd dfd, open_policy_path(real, O_RDONLY | O_DIRECTORY, opts));
    DIAG_TRY_ASSIGN(st, sys::fstat_fd(dfd.get(), real, ErrorCode::kPolicyInvalid));
    DIR* d = ::fdopendir(dfd.release());
    if (d == nullptr) {
        return sys_error(ErrorCode::kPolicyInvalid, "opendir(" + real + ")", errno);
    }
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d)) {
        const std::string name = e->d_name;
        if (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0 && name[0] != '.') {
            names.push_back(name);
        }
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    if (names.size() > kMaxDropIns) {
        return make_error(ErrorCode::kPolicyInvalid, real + ": more than " + std::to_string(kMaxDropIns) + " drop-ins");
    }
    return names;
}

// The walk over the drop-ins: `on_dir(real, st)` for each include directory that exists, then
// `on_file(file, real, fd, st)` for each of its *.toml that is not hidden, lexical order. Loading,
// the digest of the sources (source_digest) and their identities (source_ids) all walk through
// this.
template <typename OnDir, typename OnFile>
Status walk_drop_ins(const std::vector<std::string>& include, const Options& opts, OnDir on_dir, OnFile on_file) {
    for (const auto& dir : include) {
        auto real = sys::real_path(dir, ErrorCode::kPolicyInvalid);
        if (!real.ok()) {
            if (errno == ENOENT) {
                continue;  // no drop-ins on this host
            }
            return std::move(real).error();
        }
        struct stat dir_st {};
        DIAG_TRY_ASSIGN(std::vector<std::string> names, list_drop_ins(*real, opts, dir_st));
        on_dir(*real, dir_st);
        for (const auto& name : names) {
            const std::string file = *real + "/" + name;
            std::string real_file;
            struct stat st {};
            DIAG_TRY_ASSIGN(sys::UniqueFd fd, open_policy_file(file, opts, real_file, st));
            DIAG_TRY(on_file(file, real_file, fd.get(), st));
        }
    }
    return ok_status();
}

// Calls `each(file, text)` for every drop-in.
template <typename Each>
Status for_each_drop_in(const std::vector<std::string>& include, const Options& opts, Each each) {
    return walk_drop_ins(
        include, opts, [](const std::string&, const struct stat&) {},
        [&each](const std::string& file, const std::string& real, int fd, const struct stat&) -> Status {
            DIAG_TRY_ASSIGN(std::string text, read_text(fd, real));
            return each(file, text);
        });
}

SourceId identity(const std::string& path, const struct stat& st) {
    constexpr int64_t kNs = 1'000'000'000;
    return SourceId{path,
                    static_cast<uint64_t>(st.st_dev),
                    static_cast<uint64_t>(st.st_ino),
                    static_cast<uint64_t>(st.st_size),
                    static_cast<uint32_t>(st.st_mode),
                    static_cast<uint32_t>(st.st_uid),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * kNs + st.st_mtim.tv_nsec,
                    static_cast<int64_t>(st.st_ctim.tv_sec) * kNs + st.st_ctim.tv_nsec};
}

// The bytes the policy's digest covers for one file: its name and its text.
std::string hashed(const std::string& name, const std::string& text) { return name + '\0' + text + '\0'; }

Status read_drop_ins(Accum& acc, const Options& opts) {
    Policy& p = acc.policy;
    const std::vector<std::string> include = opts.syntax_only && opts.include ? *opts.include : p.include;
    return for_each_drop_in(include, opts, [&](const std::string& file, const std::string& text) -> Status {
        acc.hash_input += hashed(file, text);
        DIAG_TRY(read_file_text(FileCtx{file, false}, text, acc));
        p.loaded_files.push_back(file);
        return ok_status();
    });
}

Status check_audit_sinks(const Policy& p) {
    if (p.audit.sinks.empty()) {
        return make_error(ErrorCode::kPolicyInvalid, p.path + ": [audit] sinks must name at least one sink");
    }
    if (std::find(p.audit.sinks.begin(), p.audit.sinks.end(), policy::AuditSink::kFile) != p.audit.sinks.end() &&
        p.audit.file.empty()) {
        return make_error(ErrorCode::kPolicyInvalid, p.path + ": [audit] sink 'file' needs audit.file");
    }
    return ok_status();
}

// A command without its own timeout or output cap gets the policy's.
void inherit_command_defaults(Policy& p) {
    for (auto& c : p.commands) {
        if (c.timeout_ms == 0) {
            c.timeout_ms = p.timeout_ms;
        }
        if (c.output_cap == 0) {
            c.output_cap = p.output_cap;
        }
    }
}

Result<Policy> finish(Accum& acc, const Options& opts) {
    Policy& p = acc.policy;
    DIAG_TRY(read_drop_ins(acc, opts));
    DIAG_TRY(check_audit_sinks(p));
    inherit_command_defaults(p);
    if (opts.syntax_only) {
        DIAG_TRY(deny_list::check_deny_syntax(p.deny_written));
    } else if (opts.build_deny) {
        DIAG_TRY_ASSIGN(p.deny, deny_list::build_deny(p.deny_written));
    }
    p.sha256 = sha256_hex(acc.hash_input);
    return std::move(acc.policy);
}

}  // namespace

Result<Policy> load_from_string(const std::string& text, const std::string& name, const Options& opts) {
    Accum acc;
    acc.policy.path = name;
    acc.hash_input = hashed(name, text);
    DIAG_TRY(read_file_text(FileCtx{name, true}, text, acc));
    acc.policy.loaded_files.push_back(name);
    return finish(acc, opts);
}

Result<Policy> load(const std::string& path, const Options& opts) {
    DIAG_TRY_ASSIGN(std::string text, read_policy_file(path, opts));
    return load_from_string(text, path, opts);
}

Result<std::string> source_digest(const std::string& path, const std::vector<std::string>& include,
                                  const Options& opts) {
    Sha256 h;
    // The bytes of hashed(name, text), without holding the text: the main file may be 1 MiB.
    auto add = [&h](const std::string& name, const std::string& body) {
        h.update(name.data(), name.size());
        h.update("", 1);
        h.update(body.data(), body.size());
        h.update("", 1);
    };
    std::string real;
    struct stat st {};
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, open_policy_file(path, opts, real, st));
    h.update(path.data(), path.size());
    h.update("", 1);
    char buf[65536];
    size_t total = 0;
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return sys_error(ErrorCode::kPolicyInvalid, "read(" + real + ")", errno);
        }
        if (n == 0) {
            break;
        }
        total += static_cast<size_t>(n);
        if (total > kMaxPolicyBytes) {
            return make_error(ErrorCode::kPolicyInvalid, real + ": larger than " + std::to_string(kMaxPolicyBytes));
        }
        h.update(buf, static_cast<size_t>(n));
    }
    h.update("", 1);
    DIAG_TRY(for_each_drop_in(include, opts, [&add](const std::string& file, const std::string& drop_in) -> Status {
        add(file, drop_in);
        return ok_status();
    }));
    return h.hex_digest();
}

Result<std::vector<SourceId>> source_ids(const std::string& path, const std::vector<std::string>& include,
                                         const Options& opts) {
    std::vector<SourceId> ids;
    std::string real;
    struct stat st {};
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, open_policy_file(path, opts, real, st));
    ids.push_back(identity(path, st));
    DIAG_TRY(walk_drop_ins(
        include, opts,
        [&ids](const std::string& dir, const struct stat& dir_st) { ids.push_back(identity(dir, dir_st)); },
        [&ids](const std::string& file, const std::string&, int, const struct stat& file_st) -> Status {
            ids.push_back(identity(file, file_st));
            return ok_status();
        }));
    return ids;
}

}  // namespace diag::policy_loader
