// SPDX-License-Identifier: Apache-2.0
// The Landlock rulesets that grant named files only, never a directory tree: a pipeline filter's
// (its binary and what loading it reads) and that of a rule that reads only its path operands
// (the same, plus each operand's checked object). See landlock.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/sys.h"
#include "wrapper/confine/elf_deps.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/confine/landlock_rules.h"
#include "wrapper/confine/real_open.h"
#include "wrapper/policy/deny_match.h"

namespace diag::landlock {

namespace {

using rules::kFsExecute;
using rules::kFsReadDir;
using rules::kFsReadFile;
using rules::kFsWriteFile;

// Where the loader finds libraries by name before searching directories.
constexpr const char* kLdCache = "/etc/ld.so.cache";
// glibc's compiled locale for LC_ALL=C.UTF-8 (env.cc), where glibc looks for it.
constexpr const char* kLocaleDir = "/usr/lib/locale/C.utf8";

// Adds rules on named files to `rs`, each checked against the denylist by its real path and by
// inode first, and lists them in rs.files.
class Granter {
  public:
    Granter(const policy::Deny& deny, Ruleset& rs) : deny_(deny), rs_(rs) {}

    // A rule with `access` on the object open as `fd`, whose real path (as opened) is `real` and
    // fstat `st`, once that path and its inode pass the denylist; listed as `path`.
    Status checked(int fd, const std::string& real, const struct stat& st, uint64_t access, const std::string& path) {
        if (deny_list::match_deny(deny_, real) != nullptr || deny_.objects.count({st.st_dev, st.st_ino}) != 0) {
            return make_error(ErrorCode::kExecFailed, "landlock: the command would need the denied file " + real);
        }
        DIAG_TRY(object(fd, access, path));
        rs_.files.push_back(path);
        return ok_status();
    }

    // Opens `path` with `flags` and grants what it opened. A library found through a RUNPATH is a
    // file like any other: the denylist wins. Opened first and checked as opened (its real path as
    // that open resolved it, and its inode): a name checked and then opened again could be swapped
    // in between, by whoever may write a library directory, for a denied file that the rule would
    // then grant. `optional`: a file that is not there (or, with O_DIRECTORY, not a directory) is
    // left out, and so is a directory with a deny entry below it. Returns whether it was granted.
    Result<bool> file(const std::string& path, uint64_t access, int flags = O_PATH, bool optional = false) {
        DIAG_TRY_ASSIGN(const real_open::Opened o, real_open::open(path, flags));
        if (!o.fd.valid()) {
            if (optional && (o.err == ENOENT || o.err == ENOTDIR || o.err == EACCES)) {
                return false;
            }
            return sys_error(ErrorCode::kExecFailed, "open(" + path + ")", o.err);
        }
        struct stat st {};
        if (::fstat(o.fd.get(), &st) != 0) {
            return sys_error(ErrorCode::kExecFailed, "fstat(" + path + ")", errno);
        }
        if (optional && S_ISDIR(st.st_mode) && deny_list::deny_below(deny_, o.real) != nullptr) {
            // A rule on a directory reaches every file below it: one with a deny entry there is
            // left out, never granted along with it.
            return false;
        }
        DIAG_TRY(checked(o.fd.get(), o.real, st, access, path));
        return true;
    }

    // A rule on the object open as `fd` (O_PATH is enough), named `what` in errors.
    Status object(int fd, uint64_t access, const std::string& what) {
        if (const int err = rules::add_path(rs_.fd.get(), fd, access); err != 0) {
            return sys_error(ErrorCode::kExecFailed, "landlock_add_rule(" + what + ")", err);
        }
        ++rs_.rules;
        return ok_status();
    }

  private:
    const policy::Deny& deny_;
    Ruleset& rs_;
};

// An ELF file among the exec paths whose interpreter maps shared objects for it.
struct Loading {
    std::string path;
    elf_deps::Dynamic dyn;
};

// Grants EXECUTE and READ_FILE on the exec path `path` (the executable when `exe_fd` is its open,
// re-checked object), and returns it parsed when its interpreter will map libraries for it.
Result<std::optional<Loading>> grant_exec(Granter& g, const std::string& path, int exe_fd, std::string& real) {
    real_open::Opened o;
    int fd = exe_fd;
    if (exe_fd >= 0) {
        // exec::prepare walked to it from / following no symlink (sys::open_trusted) and compared it
        // with its pin: that fd is the file execveat runs, and a normalized path is its real path.
        if (real_open::normalized(path)) {
            o.real = path;
        } else {
            DIAG_TRY_ASSIGN(o.real, real_open::path_of(exe_fd, path));
        }
    } else {
        DIAG_TRY_ASSIGN(o, real_open::open(path, O_RDONLY));
        if (!o.fd.valid() && o.err == EACCES) {
            DIAG_TRY_ASSIGN(o, real_open::open(path, O_PATH));  // runnable, not readable: not parsed
        }
        if (!o.fd.valid()) {
            return sys_error(ErrorCode::kExecFailed, "open(" + path + ")", o.err);
        }
        fd = o.fd.get();
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return sys_error(ErrorCode::kExecFailed, "fstat(" + path + ")", errno);
    }
    DIAG_TRY(g.checked(fd, o.real, st, kFsExecute | kFsReadFile, path));
    real = o.real;
    // Parsed from the object granted, so the libraries are those of the file that runs. Not an
    // ELF file with an interpreter (a script, the loader itself, a static binary): nothing to map.
    auto d = elf_deps::read(fd, path, st);
    if (!d.ok()) {
        if (elf_interpreter(fd).empty()) {
            return std::optional<Loading>{};
        }
        return std::move(d).error();
    }
    if (!d->dynamic || d->interpreter.empty()) {
        return std::optional<Loading>{};
    }
    return std::optional<Loading>{Loading{path, std::move(*d)}};
}

// What running the binaries `exec_paths` reads, and nothing else: EXECUTE on each (the kernel maps
// it and starts its interpreter), READ_FILE on the shared objects the interpreter maps for it
// (found through the cache or its search path; mmap with PROT_EXEC is not a Landlock right) and
// on the cache, the locale the wrapper sets, and /dev/null for output a tool discards. `exe_fd`:
// the last of `exec_paths` open as the checked executable (exec::Prepared::exe), or -1.
Status grant_loading(Granter& g, const std::vector<std::string>& exec_paths, int exe_fd) {
    std::map<std::string, std::string> real_of;  // each exec path granted -> its real path
    std::vector<Loading> loading;
    for (size_t i = 0; i < exec_paths.size(); ++i) {
        const bool exe = i + 1 == exec_paths.size();
        std::string real;
        DIAG_TRY_ASSIGN(std::optional<Loading> l, grant_exec(g, exec_paths[i], exe ? exe_fd : -1, real));
        real_of[exec_paths[i]] = real;
        if (l) {
            loading.push_back(std::move(*l));
        }
    }
    std::map<std::string, elf_deps::Library> libs;  // by path: each granted once, in path order
    for (const Loading& l : loading) {
        // The loader's own directory starts the system search; it is normally an exec path, whose
        // real path is known already.
        std::string interp_real;
        if (auto it = real_of.find(l.dyn.interpreter); it != real_of.end()) {
            interp_real = it->second;
        } else {
            DIAG_TRY_ASSIGN(const real_open::Opened ld, real_open::open(l.dyn.interpreter, O_PATH));
            if (!ld.fd.valid()) {
                // The kernel could not start the program either: say so now, not as a library
                // search without the loader's directory.
                return sys_error(ErrorCode::kExecFailed,
                                 "open(" + l.dyn.interpreter + ", the ELF interpreter of " + l.path + ")", ld.err);
            }
            interp_real = ld.real;
        }
        DIAG_TRY_ASSIGN(std::vector<elf_deps::Library> found, elf_deps::libraries(l.dyn, l.path, interp_real));
        for (auto& lib : found) {
            libs.emplace(lib.path, std::move(lib));
        }
    }
    for (const auto& [path, lib] : libs) {
        DIAG_TRY(g.checked(lib.fd.get(), lib.real, lib.st, kFsReadFile, path));
    }
    DIAG_TRY(g.file(kLdCache, kFsReadFile, O_PATH, /*optional=*/true));
    // LC_ALL=C.UTF-8 (env.cc), so a tool reads its input as it does outside the wrapper (multibyte
    // characters, grep's binary-file test): the locale's data files, and READ_DIR on the one
    // directory glibc opens among them (LC_MESSAGES holds one file). Without them setlocale falls
    // back to "C" and the tools still run.
    DIAG_TRY_ASSIGN(const bool locale, g.file(kLocaleDir, kFsReadFile, O_PATH | O_DIRECTORY, /*optional=*/true));
    if (locale) {
        DIAG_TRY(g.file(std::string(kLocaleDir) + "/LC_MESSAGES", kFsReadFile | kFsReadDir, O_PATH | O_DIRECTORY,
                        /*optional=*/true));
    }
    DIAG_TRY(g.file("/dev/null", kFsReadFile | kFsWriteFile));
    return ok_status();
}

}  // namespace

Result<Ruleset> build_filter(const policy::Deny& deny, const std::vector<std::string>& exec_paths, int exe_fd) {
    DIAG_TRY_ASSIGN(Ruleset rs, rules::create());
    Granter g(deny, rs);
    DIAG_TRY(grant_loading(g, exec_paths, exe_fd));
    return rs;
}

Result<Ruleset> build_operands(const policy::Deny& deny, const std::vector<std::string>& exec_paths,
                               const std::vector<Operand>& operands, const std::vector<int>& held,
                               const std::vector<uint16_t>& connect_ports, int exe_fd) {
    DIAG_TRY_ASSIGN(Ruleset rs, rules::create());
    Granter g(deny, rs);
    DIAG_TRY(grant_loading(g, exec_paths, exe_fd));
    // Each operand's object as path_resolve checked it (by name, every hop and inode): a rule on
    // the inode, so the child reaches it by the path it is given and nothing beside it. Checked
    // by inode once more: a denied object never gets a rule.
    auto checked = [&](int fd, const char* what) -> Result<struct stat> {
        struct stat st {};
        if (::fstat(fd, &st) != 0 || deny.objects.count({st.st_dev, st.st_ino}) != 0) {
            return make_error(ErrorCode::kExecFailed, std::string("landlock: ") + what + " is not a checked object");
        }
        return st;
    };
    for (const Operand& o : operands) {
        DIAG_TRY_ASSIGN(const struct stat st, checked(o.object, "an operand"));
        if (S_ISDIR(st.st_mode)) {
            // Listed, not read: READ_DIR reaches the names below it, never a file's content.
            DIAG_TRY(g.object(o.object, kFsReadDir, "operand " + o.path));
        } else if (S_ISREG(st.st_mode)) {
            DIAG_TRY(g.object(o.object, kFsReadFile, "operand " + o.path));
        } else {
            // path_resolve lets only files and directories through as content operands.
            return make_error(ErrorCode::kExecFailed,
                              "landlock: operand " + o.path + " is neither a file nor a directory");
        }
        ++rs.operands;
    }
    for (const int h : held) {
        DIAG_TRY_ASSIGN(const struct stat st, checked(h, "a held file"));
        if (!S_ISREG(st.st_mode)) {
            return make_error(ErrorCode::kExecFailed, "landlock: a held file is not a regular file");
        }
        DIAG_TRY(g.object(h, kFsReadFile, "held fd " + std::to_string(h)));
    }
    DIAG_TRY(rules::grant_connect(rs, connect_ports));
    return rs;
}

}  // namespace diag::landlock
