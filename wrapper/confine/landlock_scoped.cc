// SPDX-License-Identifier: Apache-2.0
// The Landlock rulesets that grant named files only, never a directory tree: a pipeline filter's
// (its binary and what loading it reads) and that of a rule that reads only its path operands
// (the same, plus each operand's checked object). See landlock.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <set>
#include <string>
#include <vector>

#include "wrapper/base/sys.h"
#include "wrapper/confine/elf_deps.h"
#include "wrapper/confine/landlock.h"
#include "wrapper/confine/landlock_rules.h"
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

// The path of the object open as `fd`, as the kernel names it (never resolved by name again).
Result<std::string> opened_path(int fd, const std::string& path) {
    std::string buf(PATH_MAX, '\0');
    const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf.data(), buf.size());
    if (n <= 0 || static_cast<size_t>(n) >= buf.size() || buf[0] != '/') {
        return make_error(ErrorCode::kExecFailed, "landlock: cannot tell where " + path + " leads");
    }
    buf.resize(static_cast<size_t>(n));
    return buf;
}

// Adds rules on named files to `rs`, each checked against the denylist by its real path and by
// inode first, and lists them in rs.files.
class Granter {
  public:
    Granter(const policy::Deny& deny, Ruleset& rs) : deny_(deny), rs_(rs) {}

    Status file(const std::string& path, uint64_t access) {
        // A library found through a RUNPATH is a file like any other: the denylist wins. Opened
        // first and checked as opened (its own path and inode): a name checked and then opened
        // again could be swapped in between, by whoever may write a library directory, for a
        // denied file that the rule would then grant.
        sys::UniqueFd f(::open(path.c_str(), O_PATH | O_CLOEXEC));
        if (!f.valid()) {
            return sys_error(ErrorCode::kExecFailed, "open(" + path + ")", errno);
        }
        DIAG_TRY_ASSIGN(const std::string real, opened_path(f.get(), path));
        struct stat st {};
        if (::fstat(f.get(), &st) != 0 || deny_list::match_deny(deny_, real) != nullptr ||
            deny_.objects.count({st.st_dev, st.st_ino}) != 0) {
            return make_error(ErrorCode::kExecFailed, "landlock: the command would need the denied file " + real);
        }
        DIAG_TRY(object(f.get(), access, path));
        rs_.files.push_back(path);
        return ok_status();
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

// What running the binaries `exec_paths` reads, and nothing else: EXECUTE on each (the kernel maps
// it and starts its interpreter), READ_FILE on the shared objects the interpreter maps for it
// (found through the cache or its search path; mmap with PROT_EXEC is not a Landlock right) and
// on the cache, the locale the wrapper sets, and /dev/null for output a tool discards.
Status grant_loading(Granter& g, const std::vector<std::string>& exec_paths) {
    std::set<std::string> libs;
    for (const auto& p : exec_paths) {
        DIAG_TRY(g.file(p, kFsExecute | kFsReadFile));
        sys::UniqueFd f(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
        if (f.valid() && !elf_interpreter(f.get()).empty()) {
            DIAG_TRY_ASSIGN(const std::vector<std::string> found, elf_deps::libraries(p));
            libs.insert(found.begin(), found.end());
        }
    }
    for (const auto& lib : libs) {
        DIAG_TRY(g.file(lib, kFsReadFile));
    }
    if (::access(kLdCache, F_OK) == 0) {
        DIAG_TRY(g.file(kLdCache, kFsReadFile));
    }
    // LC_ALL=C.UTF-8 (env.cc), so a tool reads its input as it does outside the wrapper (multibyte
    // characters, grep's binary-file test): the locale's data files, and READ_DIR on the one
    // directory glibc opens among them (LC_MESSAGES holds one file). Without them setlocale falls
    // back to "C" and the tools still run.
    struct stat st {};
    if (::stat(kLocaleDir, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIAG_TRY(g.file(kLocaleDir, kFsReadFile));
        const std::string messages = std::string(kLocaleDir) + "/LC_MESSAGES";
        if (::stat(messages.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            DIAG_TRY(g.file(messages, kFsReadFile | kFsReadDir));
        }
    }
    return g.file("/dev/null", kFsReadFile | kFsWriteFile);
}

}  // namespace

Result<Ruleset> build_filter(const policy::Deny& deny, const std::vector<std::string>& exec_paths) {
    DIAG_TRY_ASSIGN(Ruleset rs, rules::create());
    Granter g(deny, rs);
    DIAG_TRY(grant_loading(g, exec_paths));
    return rs;
}

Result<Ruleset> build_operands(const policy::Deny& deny, const std::vector<std::string>& exec_paths,
                               const std::vector<Operand>& operands, const std::vector<int>& held,
                               const std::vector<uint16_t>& connect_ports) {
    DIAG_TRY_ASSIGN(Ruleset rs, rules::create());
    Granter g(deny, rs);
    DIAG_TRY(grant_loading(g, exec_paths));
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
