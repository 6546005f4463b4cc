// SPDX-License-Identifier: Apache-2.0
// ELF dependency walking for the filter ruleset: see elf_deps.h.
#include "wrapper/confine/elf_deps.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "wrapper/base/sys.h"
#include "wrapper/confine/real_open.h"

namespace diag::elf_deps {

namespace {

Error malformed(const std::string& name, const std::string& what) {
    return make_error(ErrorCode::kExecFailed, name + ": truncated or malformed ELF (" + what + ")");
}

// An ELF file being read: every read is checked against its size first. Its first kHeadBytes are
// read at once (the header, the program headers and PT_INTERP lie there in every binary seen), so
// most reads cost no syscall.
class File {
  public:
    static constexpr uint64_t kHeadBytes = 4096;

    File(int fd, std::string name, uint64_t size) : fd_(fd), name_(std::move(name)), size_(size) {
        head_.resize(static_cast<size_t>(std::min(size, kHeadBytes)));
        const ssize_t n = ::pread(fd_, head_.data(), head_.size(), 0);
        head_.resize(n < 0 ? 0 : static_cast<size_t>(n));  // short: at() reads the rest itself
    }

    // Fails unless the `len` bytes at `off` are all inside the file.
    Status within(uint64_t off, uint64_t len, const char* what) const {
        if (off > size_ || len > size_ - off) {
            return malformed(name_, std::string(what) + " beyond the end of the file");
        }
        return ok_status();
    }

    // Reads `len` bytes at `off` into `dst`, or fails when they are not all inside the file.
    Status at(uint64_t off, void* dst, uint64_t len, const char* what) const {
        DIAG_TRY(within(off, len, what));
        if (len == 0) {
            return ok_status();  // an empty table: `dst` may be null, and memcpy must not see it
        }
        if (off + len <= head_.size()) {
            std::memcpy(dst, head_.data() + off, static_cast<size_t>(len));
            return ok_status();
        }
        if (::pread(fd_, dst, len, static_cast<off_t>(off)) != static_cast<ssize_t>(len)) {
            return malformed(name_, std::string(what) + " unreadable");
        }
        return ok_status();
    }
    const std::string& name() const { return name_; }

  private:
    int fd_;
    std::string name_;
    uint64_t size_;
    std::string head_;
};

std::vector<std::string> split_path_list(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        const size_t end = s.find(':', start);
        out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) {
            return out;
        }
        start = end + 1;
    }
}

// The file offset of virtual address `vaddr`, through the PT_LOAD segment that holds it.
Result<uint64_t> file_offset(const File& f, const std::vector<Elf64_Phdr>& ph, uint64_t vaddr) {
    for (const auto& p : ph) {
        if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr - p.p_vaddr < p.p_filesz) {
            return p.p_offset + (vaddr - p.p_vaddr);
        }
    }
    return malformed(f.name(), "string table outside every loaded segment");
}

// The NUL-terminated string at `off` of (the part read of) the string table `strtab`.
Result<std::string> string_at(const File& f, const std::string& strtab, uint64_t off) {
    if (off >= strtab.size()) {
        return malformed(f.name(), "string offset beyond the string table");
    }
    const size_t end = strtab.find('\0', static_cast<size_t>(off));
    if (end == std::string::npos) {
        return malformed(f.name(), "unterminated string");
    }
    return strtab.substr(static_cast<size_t>(off), end - static_cast<size_t>(off));
}

Result<std::vector<Elf64_Phdr>> program_headers(const File& f, const Elf64_Ehdr& eh) {
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > kMaxProgramHeaders) {
        return malformed(f.name(), "program header table");
    }
    std::vector<Elf64_Phdr> ph(eh.e_phnum);
    DIAG_TRY(f.at(eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr), "program headers"));
    return ph;
}

// The DT_NEEDED, DT_RPATH and DT_RUNPATH strings of the PT_DYNAMIC segment `dyn`, into `d`.
Status read_dynamic_section(const File& f, const std::vector<Elf64_Phdr>& ph, const Elf64_Phdr& dyn, Dynamic& d) {
    if (dyn.p_filesz / sizeof(Elf64_Dyn) > kMaxDynamicEntries) {
        return malformed(f.name(), "too many dynamic entries");
    }
    std::vector<Elf64_Dyn> entries(dyn.p_filesz / sizeof(Elf64_Dyn));
    DIAG_TRY(f.at(dyn.p_offset, entries.data(), entries.size() * sizeof(Elf64_Dyn), "dynamic section"));
    uint64_t strtab_addr = 0;
    uint64_t strsz = 0;
    std::vector<std::pair<int64_t, uint64_t>> strings;  // (tag, offset in the string table)
    for (const auto& e : entries) {
        if (e.d_tag == DT_NULL) {
            break;
        }
        if (e.d_tag == DT_STRTAB) {
            strtab_addr = e.d_un.d_ptr;
        } else if (e.d_tag == DT_STRSZ) {
            strsz = e.d_un.d_val;
        } else if (e.d_tag == DT_NEEDED || e.d_tag == DT_RPATH || e.d_tag == DT_RUNPATH) {
            strings.emplace_back(e.d_tag, e.d_un.d_val);
        }
    }
    if (strings.empty()) {
        return ok_status();
    }
    if (strtab_addr == 0 || strsz == 0 || strsz > kMaxStringTable) {
        return malformed(f.name(), "string table");
    }
    DIAG_TRY_ASSIGN(const uint64_t strtab_off, file_offset(f, ph, strtab_addr));
    DIAG_TRY(f.within(strtab_off, strsz, "string table"));
    // Only the part of the table the strings lie in, from the first to a page past the last
    // (libc's table is 32 KiB, its one DT_NEEDED a few bytes); the rest of it when a string runs on
    // past that.
    uint64_t lo = strsz;
    uint64_t hi = 0;
    for (const auto& [tag, off] : strings) {
        lo = std::min(lo, off);
        hi = std::max(hi, off);
    }
    if (hi >= strsz) {
        return malformed(f.name(), "string offset beyond the string table");
    }
    uint64_t end = std::min(strsz, hi + kStringWindow);
    std::string strtab;
    for (;;) {
        strtab.assign(static_cast<size_t>(end - lo), '\0');
        DIAG_TRY(f.at(strtab_off + lo, strtab.data(), end - lo, "string table"));
        if (end == strsz || strtab.find('\0', static_cast<size_t>(hi - lo)) != std::string::npos) {
            break;  // every string ends inside: each begins at or before the last one's offset
        }
        end = strsz;
    }
    for (const auto& [tag, off] : strings) {
        DIAG_TRY_ASSIGN(std::string s, string_at(f, strtab, off - lo));
        if (tag == DT_NEEDED) {
            d.needed.push_back(std::move(s));
        } else {
            auto& list = tag == DT_RPATH ? d.rpath : d.runpath;
            for (auto& dir : split_path_list(s)) {
                list.push_back(std::move(dir));
            }
        }
    }
    return ok_status();
}

// The multiarch triplet of this build's platform, whose library directories the loader searches.
constexpr const char* kMultiarch =
#if defined(__x86_64__)
    "x86_64-linux-gnu";
#elif defined(__aarch64__)
    "aarch64-linux-gnu";
#else
    "";
#endif

std::string dir_of(const std::string& path) {
    const size_t slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

// A search directory of `origin_dir`'s object with $ORIGIN expanded; empty when it cannot be used
// (relative, or another dynamic string token): the loader may look there, but we grant nothing, so
// what it would find there stays unreadable (fail closed).
std::string expand(std::string dir, const std::string& origin_dir) {
    for (const char* token : {"${ORIGIN}", "$ORIGIN"}) {
        for (size_t at; (at = dir.find(token)) != std::string::npos;) {
            dir.replace(at, std::strlen(token), origin_dir);
        }
    }
    if (dir.empty() || dir[0] != '/' || dir.find('$') != std::string::npos) {
        return "";
    }
    return dir;
}

// One object to resolve the dependencies of: its path, and the DT_RPATH chain of its loaders.
struct Pending {
    std::string path;
    Dynamic dyn;
    std::vector<std::string> rpath_chain;  // DT_RPATH of the objects that led here, nearest first
    size_t depth = 0;
};

class Walk {
  public:
    Walk(unsigned machine, std::string interp, const std::string& interp_real)
        : machine_(machine), interp_(std::move(interp)), system_(system_dirs(interp_real)) {}

    Status run(Pending top) {
        std::vector<Pending> todo;
        todo.push_back(std::move(top));
        // Breadth first, as the loader maps them.
        for (size_t i = 0; i < todo.size(); ++i) {
            const Pending current = todo[i];  // a copy: resolve() appends to `todo`
            for (const auto& name : current.dyn.needed) {
                DIAG_TRY(resolve(current, name, todo));
            }
        }
        return ok_status();
    }

    std::vector<Library> found;

  private:
    // The search list for the dependencies of `p`: DT_RUNPATH when it has one, else the DT_RPATH
    // chain; then the system directories.
    std::vector<std::string> search_list(const Pending& p) const {
        std::vector<std::string> dirs;
        const std::string origin = dir_of(p.path);
        for (const auto& d : p.dyn.runpath.empty() ? p.rpath_chain : p.dyn.runpath) {
            if (std::string e = expand(d, origin); !e.empty()) {
                dirs.push_back(std::move(e));
            }
        }
        dirs.insert(dirs.end(), system_.begin(), system_.end());
        return dirs;
    }

    Status resolve(const Pending& from, const std::string& name, std::vector<Pending>& todo) {
        if (name.empty() || name.find('/') != std::string::npos) {
            return make_error(ErrorCode::kExecFailed, from.path + ": DT_NEEDED \"" + name +
                                                          "\" is not a plain library name (not supported for filters)");
        }
        if (!seen_.insert(name).second || name == interp_.substr(interp_.rfind('/') + 1)) {
            return ok_status();  // mapped already (the loader matches by name), or the loader itself
        }
        if (from.depth + 1 > kMaxDepth || found.size() >= kMaxLibraries) {
            return make_error(ErrorCode::kExecFailed, from.path + ": more than " + std::to_string(kMaxLibraries) +
                                                          " libraries or deeper than " + std::to_string(kMaxDepth));
        }
        for (const auto& dir : search_list(from)) {
            const std::string path = (dir == "/" ? "" : dir) + "/" + name;
            // Opened once: the object parsed here is the one checked and granted (Library::fd).
            DIAG_TRY_ASSIGN(real_open::Opened o, real_open::open(path, O_RDONLY));
            if (!o.fd.valid()) {
                continue;
            }
            struct stat st {};
            if (::fstat(o.fd.get(), &st) != 0) {
                return sys_error(ErrorCode::kExecFailed, "fstat(" + path + ")", errno);
            }
            DIAG_TRY_ASSIGN(Dynamic d, read(o.fd.get(), path, st));
            if (d.machine != machine_) {
                continue;  // another machine's library (e.g. 32-bit): the loader skips it too
            }
            found.push_back({path, std::move(o.fd), std::move(o.real), st});
            Pending next{path, std::move(d), from.rpath_chain, from.depth + 1};
            next.rpath_chain.insert(next.rpath_chain.begin(), next.dyn.rpath.begin(), next.dyn.rpath.end());
            todo.push_back(std::move(next));
            return ok_status();
        }
        return make_error(ErrorCode::kExecFailed, from.path + ": library " + name + " not found");
    }

    unsigned machine_;
    std::string interp_;
    std::vector<std::string> system_;
    std::set<std::string> seen_;
};

}  // namespace

Result<Dynamic> read(int fd, const std::string& name) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        return sys_error(ErrorCode::kExecFailed, "fstat(" + name + ")", errno);
    }
    return read(fd, name, st);
}

Result<Dynamic> read(int fd, const std::string& name, const struct stat& st) {
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kExecFailed, name + ": not a regular file");
    }
    const File f(fd, name, static_cast<uint64_t>(st.st_size));
    Elf64_Ehdr eh{};
    constexpr unsigned char kNativeData = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
    if (!f.at(0, &eh, sizeof eh, "ELF header").ok() || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != kNativeData) {
        return make_error(ErrorCode::kExecFailed, name + ": not a 64-bit native ELF file");
    }
    Dynamic d;
    d.machine = eh.e_machine;
    DIAG_TRY_ASSIGN(const std::vector<Elf64_Phdr> ph, program_headers(f, eh));
    for (const auto& p : ph) {
        if (p.p_type == PT_INTERP) {
            if (p.p_filesz < 2 || p.p_filesz > 4096) {
                return malformed(name, "PT_INTERP");
            }
            std::string interp(static_cast<size_t>(p.p_filesz), '\0');
            DIAG_TRY(f.at(p.p_offset, interp.data(), p.p_filesz, "PT_INTERP"));
            interp.resize(std::strlen(interp.c_str()));
            d.interpreter = std::move(interp);
        }
    }
    for (const auto& p : ph) {
        if (p.p_type == PT_DYNAMIC) {
            d.dynamic = true;
            DIAG_TRY(read_dynamic_section(f, ph, p, d));
            break;
        }
    }
    return d;
}

std::vector<std::string> system_dirs(const std::string& interp_real) {
    std::vector<std::string> dirs;
    auto add = [&dirs](const std::string& d) {
        for (const auto& have : dirs) {
            if (have == d) {
                return;
            }
        }
        dirs.push_back(d);
    };
    // Where this platform's loader lives is where its libc lives (a merged /usr resolves /lib64 to
    // /usr/lib/<triplet>).
    if (!interp_real.empty()) {
        add(dir_of(interp_real));
    }
    if (kMultiarch[0] != '\0') {
        add(std::string("/lib/") + kMultiarch);
        add(std::string("/usr/lib/") + kMultiarch);
    }
    for (const char* d : {"/lib64", "/usr/lib64", "/lib", "/usr/lib"}) {
        add(d);
    }
    return dirs;
}

Result<std::vector<Library>> libraries(const Dynamic& exe_dyn, const std::string& exe, const std::string& interp_real) {
    if (!exe_dyn.dynamic || exe_dyn.interpreter.empty()) {
        return std::vector<Library>{};  // static: the kernel maps it whole, nothing is loaded
    }
    Walk w(exe_dyn.machine, exe_dyn.interpreter, interp_real);
    Pending top{exe, exe_dyn, exe_dyn.rpath, 0};
    DIAG_TRY(w.run(std::move(top)));
    return std::move(w.found);
}

Result<std::vector<std::string>> libraries(const std::string& exe) {
    sys::UniqueFd fd(::open(exe.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kExecFailed, "open(" + exe + ")", errno);
    }
    DIAG_TRY_ASSIGN(const Dynamic d, read(fd.get(), exe));
    std::string interp_real;
    if (!d.interpreter.empty()) {
        DIAG_TRY_ASSIGN(const real_open::Opened ld, real_open::open(d.interpreter, O_PATH));
        interp_real = ld.real;
    }
    DIAG_TRY_ASSIGN(std::vector<Library> libs, libraries(d, exe, interp_real));
    std::vector<std::string> paths;
    for (const auto& l : libs) {
        paths.push_back(l.path);
    }
    return paths;
}

}  // namespace diag::elf_deps
