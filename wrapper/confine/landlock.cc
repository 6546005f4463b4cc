// SPDX-License-Identifier: Apache-2.0
#include "wrapper/confine/landlock.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <type_traits>

#include "wrapper/base/deadline.h"
#include "wrapper/confine/landlock_rules.h"
#include "wrapper/policy/deny_match.h"

namespace diag::landlock {

namespace {

using rules::kFsExecute;
using rules::kFsReadDir;
using rules::kFsReadFile;
using rules::kFsWriteFile;

// The uapi header of the build host may predate ABI 3-7, so the constants are spelled out here
// (include/uapi/linux/landlock.h).
constexpr uint64_t kFsAbi1 = (1ULL << 13) - 1;      // EXECUTE .. MAKE_SYM
constexpr uint64_t kFsRefer = 1ULL << 13;           // ABI 2
constexpr uint64_t kFsTruncate = 1ULL << 14;        // ABI 3
constexpr uint64_t kFsIoctlDev = 1ULL << 15;        // ABI 5
constexpr uint64_t kNetBindTcp = 1ULL << 0;         // ABI 4
constexpr uint64_t kNetConnectTcp = 1ULL << 1;      // ABI 4
constexpr uint64_t kScopeAbstractUnix = 1ULL << 0;  // ABI 6
constexpr uint64_t kScopeSignal = 1ULL << 1;        // ABI 6
constexpr uint32_t kCreateVersion = 1U << 0;
constexpr uint32_t kRestrictLogNewExecOn = 1U << 1;  // ABI 7
constexpr int kRulePathBeneath = 1;
constexpr int kRuleNetPort = 2;  // ABI 4

struct RulesetAttr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct __attribute__((packed)) PathBeneathAttr {
    uint64_t allowed_access;
    int32_t parent_fd;
};

struct NetPortAttr {
    uint64_t allowed_access;
    uint64_t port;
};

// Kernel memory is the limit on rules; this bound only stops a pathological tree from eating time.
constexpr size_t kMaxRules = 100000;
// Entries of one directory walked for rules. The directories walked are the ancestors of deny
// entries, some of them other accounts' (a home matched by /home/*/.ssh); one that holds more is
// one such account filling it to push every request past kMaxRules. Its entries past the bound get
// no rule: unreadable to the child, so only what that directory holds is lost, not the request.
constexpr size_t kMaxEntriesPerDir = 10000;

class Builder {
  public:
    Builder(const policy::Deny& deny, int ruleset_fd, uint64_t read_file, uint64_t read_dir, bool skip_guarded)
        : deny_(deny), fd_(ruleset_fd), read_file_(read_file), read_dir_(read_dir), skip_guarded_(skip_guarded) {}

    // `what` names the object for an error: a path, or a callable that spells it out (most
    // rules never need their name).
    template <typename Name>
    Status add(int parent_fd, uint64_t access, const Name& what) {
        if (const int err = rules::add_path(fd_, parent_fd, access); err != 0) {
            std::string name;
            if constexpr (std::is_invocable_v<Name>) {
                name = what();
            } else {
                name = what;
            }
            return sys_error(ErrorCode::kExecFailed, "landlock_add_rule(" + name + ")", err);
        }
        if (++rules_ > kMaxRules) {
            return make_error(ErrorCode::kExecFailed, "landlock: more than " + std::to_string(kMaxRules) + " rules");
        }
        return ok_status();
    }

    // Grants everything below `dir` except the denied entries: entries that are denied get no
    // rule, entries that lead to a denied path are walked, symlinks get no rule (their target's
    // own path decides), and no inode equal to a denied object is ever granted (a rule on an
    // inode grants it under every name).
    Status walk(const std::string& dir, int dirfd) {
        // READ_DIR on the ancestor, so `ls /etc` and `find /var/lib` work. Landlock rules are
        // inherited, so the *names* inside denied directories become listable (docs/confinement.md §2,
        // step 6); their content stays unreadable. Listing a denied directory by name is still
        // refused by path_resolve.
        DIAG_TRY(add(dirfd, read_dir_, dir));
        const deny_list::DenyScope scope(deny_, dir, skip_guarded_);
        // Listed already by the deny-glob expansion (Deny::listings): only the names are reused;
        // each is opened below this dirfd and checked as if just read.
        size_t seen = 0;
        // False once this directory has had its share of entries (the rest get no rule).
        auto take = [&]() -> Result<bool> {
            DIAG_TRY(deadline::check("building the Landlock rules"));
            if (++seen > kMaxEntriesPerDir) {
                cut_short_.push_back(dir);
                return false;
            }
            return true;
        };
        if (auto it = deny_.listings.find(dir); it != deny_.listings.end()) {
            for (const auto& [name, type] : it->second) {
                DIAG_TRY_ASSIGN(const bool more, take());
                if (!more) {
                    break;
                }
                if (type != DT_LNK) {
                    DIAG_TRY(entry(scope, dir, dirfd, name));
                }
            }
            return ok_status();
        }
        const int listfd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (listfd < 0) {
            return ok_status();  // unreadable to us: it stays unreadable to the child (fail closed)
        }
        DIR* d = ::fdopendir(listfd);
        if (d == nullptr) {
            ::close(listfd);
            return ok_status();
        }
        Status st = ok_status();
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            auto more = take();
            if (!more.ok()) {
                st = std::move(more).error();
                break;
            }
            if (!*more) {
                break;
            }
            if (e->d_type == DT_LNK) {
                continue;  // symlinks get no rule: their target's own path decides
            }
            st = entry(scope, dir, dirfd, name);
            if (!st.ok()) {
                break;
            }
        }
        ::closedir(d);
        return st;
    }

    size_t rules() const { return rules_; }
    std::vector<std::string>& cut_short() { return cut_short_; }

  private:
    // `name` in `dir` (open as dirfd). Its full path is spelled out only where it is used: for
    // the walk below it and in error messages.
    Status entry(const deny_list::DenyScope& scope, const std::string& dir, int dirfd, const std::string& name) {
        auto child = [&] { return dir == "/" ? "/" + name : dir + "/" + name; };
        if (dir == "/" && name == "proc") {
            // Granted whole: pid directories appear after this walk (the child's own among them).
            // Other processes' environ/mem/fd are protected by Landlock's ptrace scoping, /proc/kcore
            // by CAP_SYS_RAWIO, and every /proc argument by path_resolve.
            sys::UniqueFd fd(::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            return fd.valid() ? add(fd.get(), read_file_ | read_dir_, "/proc") : ok_status();
        }
        if (scope.denied(name) != nullptr) {
            return ok_status();
        }
        // The inode checked is the one granted: fstat of the opened fd, not of the name.
        sys::UniqueFd fd(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        struct stat st {};
        if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || S_ISLNK(st.st_mode)) {
            return ok_status();
        }
        if (deny_.objects.count({st.st_dev, st.st_ino}) != 0) {
            return ok_status();
        }
        if (S_ISDIR(st.st_mode) && scope.below(name) != nullptr) {
            return walk(child(), fd.get());
        }
        return add(fd.get(), S_ISDIR(st.st_mode) ? (read_file_ | read_dir_) : read_file_, child);
    }

    const policy::Deny& deny_;
    int fd_;
    uint64_t read_file_;
    uint64_t read_dir_;
    bool skip_guarded_;
    size_t rules_ = 0;
    std::vector<std::string> cut_short_;
};

// True when the child could hold CAP_SYS_RAWIO after exec: root (exec grants it), or the
// capability in our effective, permitted, inheritable or ambient set. no_new_privs stops file
// capabilities. When in doubt, true: the walk then covers the raw-I/O devices too.
bool may_hold_raw_io() {
    if (::getuid() == 0 || ::geteuid() == 0) {
        return true;
    }
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &hdr, data) != 0) {
        return true;
    }
    static_assert(CAP_SYS_RAWIO < 32, "CAP_SYS_RAWIO is in the first capability word");
    const uint32_t bit = 1U << CAP_SYS_RAWIO;
    if (((data[0].effective | data[0].permitted | data[0].inheritable) & bit) != 0) {
        return true;
    }
    return ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SYS_RAWIO, 0, 0) != 0;
}

// Grants `access` on the file `path` (opened O_PATH: the rule is on that inode).
Status grant(Builder& b, const std::string& path, uint64_t access) {
    sys::UniqueFd f(::open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!f.valid()) {
        return sys_error(ErrorCode::kExecFailed, "open(" + path + ")", errno);
    }
    return b.add(f.get(), access, path);
}

}  // namespace

int abi_version() {
    const long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateVersion);
    return v < 0 ? 0 : static_cast<int>(v);
}

Result<Ruleset> build(const policy::Deny& deny, const std::vector<std::string>& exec_paths,
                      const std::vector<int>& held, const std::vector<uint16_t>& connect_ports, int exe_fd) {
    DIAG_TRY_ASSIGN(Ruleset rs, rules::create());
    // /dev/mem and the other raw-I/O devices of the built-in denylist need no walk of /dev when
    // the child cannot hold CAP_SYS_RAWIO: their driver refuses it (deny_list.cc).
    rs.raw_io_by_kernel = !may_hold_raw_io();
    Builder b(deny, rs.fd.get(), kFsReadFile, kFsReadDir, rs.raw_io_by_kernel);
    sys::UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
        return sys_error(ErrorCode::kExecFailed, "open(/)", errno);
    }
    if (deny_list::deny_below(deny, "/", rs.raw_io_by_kernel) == nullptr) {
        DIAG_TRY(b.add(root.get(), kFsReadFile | kFsReadDir, "/"));
    } else {
        DIAG_TRY(b.walk("/", root.get()));
    }
    // /dev/null is the one writable object: tools open it for output they discard.
    sys::UniqueFd null(::open("/dev/null", O_PATH | O_CLOEXEC));
    if (null.valid()) {
        DIAG_TRY(b.add(null.get(), kFsReadFile | kFsWriteFile, "/dev/null"));
    }
    for (const int h : held) {
        struct stat st {};
        if (::fstat(h, &st) != 0 || !S_ISREG(st.st_mode) || deny.objects.count({st.st_dev, st.st_ino}) != 0) {
            return make_error(ErrorCode::kExecFailed, "landlock: a held file is not a checked regular file");
        }
        DIAG_TRY(b.add(h, kFsReadFile, "held fd " + std::to_string(h)));
    }
    // Strict exec: a pager or -exec style escape cannot start /bin/sh.
    for (size_t i = 0; i < exec_paths.size(); ++i) {
        if (i + 1 == exec_paths.size() && exe_fd >= 0) {
            // The executable: the rule on the very file execveat runs, not on a name opened again.
            DIAG_TRY(b.add(exe_fd, kFsExecute | kFsReadFile, exec_paths[i]));
        } else {
            DIAG_TRY(grant(b, exec_paths[i], kFsExecute | kFsReadFile));
        }
    }
    rs.rules = b.rules();
    rs.cut_short = std::move(b.cut_short());
    DIAG_TRY(rules::grant_connect(rs, connect_ports));
    return rs;
}

namespace rules {

// sandboxer.c: a ruleset handling every right, so what no rule grants is refused.
Result<Ruleset> create() {
    Ruleset rs;
    rs.abi = abi_version();
    if (rs.abi < 1) {
        return make_error(ErrorCode::kExecFailed, "landlock: not available in this kernel");
    }
    RulesetAttr attr{};
    attr.handled_access_fs = kFsAbi1;
    if (rs.abi >= 2) attr.handled_access_fs |= kFsRefer;
    if (rs.abi >= 3) attr.handled_access_fs |= kFsTruncate;
    if (rs.abi >= 5) attr.handled_access_fs |= kFsIoctlDev;
    if (rs.abi >= 4) attr.handled_access_net = kNetBindTcp | kNetConnectTcp;  // no TCP at all
    if (rs.abi >= 6) attr.scoped = kScopeAbstractUnix | kScopeSignal;
    const size_t size = rs.abi >= 6 ? sizeof(RulesetAttr) : rs.abi >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
    const long fd = ::syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (fd < 0) {
        return sys_error(ErrorCode::kExecFailed, "landlock_create_ruleset", errno);
    }
    rs.fd = sys::UniqueFd(static_cast<int>(fd));
    rs.handled_fs = attr.handled_access_fs;
    return rs;
}

int add_path(int ruleset_fd, int parent_fd, uint64_t access) {
    PathBeneathAttr attr{access, parent_fd};
    return ::syscall(SYS_landlock_add_rule, ruleset_fd, kRulePathBeneath, &attr, 0) == 0 ? 0 : errno;
}

Status grant_connect(Ruleset& rs, const std::vector<uint16_t>& ports) {
    if (ports.empty()) {
        return ok_status();
    }
    if (rs.abi < kNetAbi) {
        return make_error(ErrorCode::kExecFailed, "landlock ABI " + std::to_string(rs.abi) +
                                                      " cannot confine TCP to the destination's port (needs " +
                                                      std::to_string(kNetAbi) + ")");
    }
    for (const uint16_t port : ports) {
        NetPortAttr attr{kNetConnectTcp, port};
        if (::syscall(SYS_landlock_add_rule, rs.fd.get(), kRuleNetPort, &attr, 0) != 0) {
            return sys_error(ErrorCode::kExecFailed, "landlock_add_rule(tcp connect " + std::to_string(port) + ")",
                             errno);
        }
        ++rs.rules;
        rs.connect_ports.push_back(port);
    }
    return ok_status();
}

}  // namespace rules

int restrict_self(const Ruleset& rs) {
    const unsigned flags = rs.abi >= 7 ? kRestrictLogNewExecOn : 0;
    if (::syscall(SYS_landlock_restrict_self, rs.fd.get(), flags) != 0) {
        return errno;
    }
    return 0;
}

std::string elf_interpreter(int fd) {
    // One read for the header, the program headers and PT_INTERP, which lie in the first page of
    // every binary seen; whatever lies beyond it is read on its own.
    char head[4096];
    const ssize_t n = ::pread(fd, head, sizeof head, 0);
    auto at = [&](uint64_t off, void* dst, uint64_t len) {
        if (n >= 0 && off <= static_cast<uint64_t>(n) && len <= static_cast<uint64_t>(n) - off) {
            std::memcpy(dst, head + off, len);
            return true;
        }
        return ::pread(fd, dst, len, static_cast<off_t>(off)) == static_cast<ssize_t>(len);
    };
    Elf64_Ehdr eh{};
    if (!at(0, &eh, sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
        return "";
    }
    for (unsigned i = 0; i < eh.e_phnum && i < 256; ++i) {
        Elf64_Phdr ph{};
        if (!at(eh.e_phoff + i * sizeof(Elf64_Phdr), &ph, sizeof ph)) {
            return "";
        }
        if (ph.p_type == PT_INTERP && ph.p_filesz > 1 && ph.p_filesz < 4096) {
            std::string interp(ph.p_filesz, '\0');
            if (!at(ph.p_offset, interp.data(), ph.p_filesz)) {
                return "";
            }
            interp.resize(std::strlen(interp.c_str()));
            return interp;
        }
    }
    return "";
}

}  // namespace diag::landlock
