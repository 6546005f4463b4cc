// SPDX-License-Identifier: Apache-2.0
// ELF dependency walking: the libraries found are the ones the dynamic loader maps, and a
// truncated or corrupted file is an error, never a read out of bounds.
#include "wrapper/confine/elf_deps.h"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace diag::elf_deps {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// `bytes` as an anonymous file.
int memfile(const std::string& bytes) {
    const int fd = ::memfd_create("elf", MFD_CLOEXEC);
    if (fd >= 0 && ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// What the loader itself lists for `exe` (`ld.so --list`), resolved, without the loader and vdso.
std::set<std::string> loader_list(const std::string& interp, const std::string& exe) {
    std::set<std::string> out;
    const std::string cmd = interp + " --list " + exe;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char line[4096];
    while (std::fgets(line, sizeof line, p) != nullptr) {
        const std::string l = line;
        const size_t arrow = l.find("=> /");
        if (arrow == std::string::npos) {
            continue;
        }
        const std::string path = l.substr(arrow + 3, l.find(" (", arrow) - arrow - 3);
        out.insert(fs::canonical(path).string());
    }
    ::pclose(p);
    return out;
}

TEST(ElfDeps, TheLibrariesAreTheOnesTheLoaderMaps) {
    for (const char* exe : {"/usr/bin/grep", "/usr/bin/sort", "/usr/bin/tr"}) {
        if (::access(exe, X_OK) != 0) {
            GTEST_SKIP() << exe << " is not installed";
        }
        const int fd = ::open(exe, O_RDONLY | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        auto d = read(fd, exe);
        ::close(fd);
        ASSERT_TRUE(d.ok()) << d.error().msg;
        auto libs = libraries(exe);
        ASSERT_TRUE(libs.ok()) << libs.error().msg;
        std::set<std::string> ours;
        for (const auto& l : *libs) {
            ours.insert(fs::canonical(l).string());
        }
        const std::set<std::string> theirs = loader_list(d->interpreter, exe);
        ASSERT_FALSE(theirs.empty()) << "the loader listed nothing for " << exe;
        ours.erase(fs::canonical(d->interpreter).string());
        std::set<std::string> theirs_no_ld = theirs;
        theirs_no_ld.erase(fs::canonical(d->interpreter).string());
        EXPECT_EQ(ours, theirs_no_ld) << exe;
    }
}

TEST(ElfDeps, ANonElfFileIsRefused) {
    const int text = memfile("#!/bin/sh\necho hi\n");
    ASSERT_GE(text, 0);
    auto d = read(text, "script");
    ::close(text);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().msg.find("not a 64-bit native ELF"), std::string::npos) << d.error().msg;
}

// A minimal ELF file: one PT_LOAD over the whole file, a PT_DYNAMIC with DT_NEEDED "libc.so.6"
// and a DT_RUNPATH of `runpath` (or the bytes given as `table_tail`, unterminated), in a string
// table that starts 8000 bytes before the runpath: the strings lie far apart, and a long runpath
// runs past the window read at first.
std::string tiny_elf(const std::string& runpath, bool terminated = true) {
    constexpr uint64_t kDyn = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    constexpr uint64_t kStr = kDyn + 4 * sizeof(Elf64_Dyn);
    std::string table = std::string(1, '\0') + "libc.so.6" + std::string(1, '\0');
    table.resize(8000, 'x');
    table.back() = '\0';
    const uint64_t runpath_at = table.size();
    table += runpath;
    if (terminated) {
        table += '\0';
    }
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_phoff = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 2;
    Elf64_Phdr ph[2]{};
    ph[0].p_type = PT_LOAD;
    ph[0].p_filesz = kStr + table.size();
    ph[1].p_type = PT_DYNAMIC;
    ph[1].p_offset = kDyn;
    ph[1].p_vaddr = kDyn;
    ph[1].p_filesz = 4 * sizeof(Elf64_Dyn);
    Elf64_Dyn dyn[4]{};
    dyn[0].d_tag = DT_STRTAB;
    dyn[0].d_un.d_ptr = kStr;
    dyn[1].d_tag = DT_STRSZ;
    dyn[1].d_un.d_val = table.size();
    dyn[2].d_tag = DT_NEEDED;
    dyn[2].d_un.d_val = 1;
    dyn[3].d_tag = DT_RUNPATH;
    dyn[3].d_un.d_val = runpath_at;
    std::string out(reinterpret_cast<const char*>(&eh), sizeof eh);
    out.append(reinterpret_cast<const char*>(ph), sizeof ph);
    out.append(reinterpret_cast<const char*>(dyn), sizeof dyn);
    return out + table;
}

// The string table is read from the first string to a window past the last, and to its end when
// a string runs on past the window: the strings are the same either way, and one that runs past
// the end of the table is an error.
TEST(ElfDeps, StringsFarApartOrLongerThanTheWindowAreReadWhole) {
    for (const size_t len : {size_t{10}, kStringWindow - 1, kStringWindow, kStringWindow + 1, 3 * kStringWindow}) {
        const std::string runpath = "/opt/" + std::string(len, 'r');
        const int fd = memfile(tiny_elf(runpath));
        ASSERT_GE(fd, 0);
        auto d = read(fd, "tiny");
        ::close(fd);
        ASSERT_TRUE(d.ok()) << d.error().msg;
        EXPECT_EQ(d->needed, std::vector<std::string>{"libc.so.6"});
        EXPECT_EQ(d->runpath, std::vector<std::string>{runpath}) << len;
    }
    const int fd = memfile(tiny_elf("/opt/" + std::string(2 * kStringWindow, 'r'), /*terminated=*/false));
    ASSERT_GE(fd, 0);
    auto d = read(fd, "unterminated");
    ::close(fd);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().msg.find("unterminated string"), std::string::npos) << d.error().msg;
}

// Every truncation of a real binary that cuts into what the walk reads is an error.
TEST(ElfDeps, ATruncatedFileIsAnError) {
    const std::string grep = slurp("/usr/bin/grep");
    if (grep.size() < 65536) {
        GTEST_SKIP() << "/usr/bin/grep is not there";
    }
    for (size_t len : {size_t{0}, size_t{16}, size_t{63}, size_t{64}, size_t{100}, size_t{1000}, size_t{4000}}) {
        const int fd = memfile(grep.substr(0, len));
        ASSERT_GE(fd, 0);
        auto d = read(fd, "truncated");
        ::close(fd);
        EXPECT_FALSE(d.ok()) << "truncated at " << len;
    }
}

// Corrupted headers: offsets and sizes pointing anywhere are refused without reading out of
// bounds (the sanitizer build would catch one), and no corruption crashes the parser.
TEST(ElfDeps, CorruptedHeadersAreRefusedAndNeverCrash) {
    const std::string grep = slurp("/usr/bin/grep");
    if (grep.size() < 65536) {
        GTEST_SKIP() << "/usr/bin/grep is not there";
    }
    std::string bad = grep;
    const uint64_t huge = ~0ULL - 8;
    std::memcpy(bad.data() + 32, &huge, sizeof huge);  // e_phoff
    int fd = memfile(bad);
    ASSERT_GE(fd, 0);
    EXPECT_FALSE(read(fd, "bad e_phoff").ok());
    ::close(fd);
    std::mt19937 rng(14);
    std::uniform_int_distribution<size_t> where(0, 16383);
    std::uniform_int_distribution<int> value(0, 255);
    for (int i = 0; i < 300; ++i) {
        std::string flipped = grep.substr(0, 65536);
        for (int k = 0; k < 8; ++k) {
            flipped[where(rng)] = static_cast<char>(value(rng));
        }
        fd = memfile(flipped);
        ASSERT_GE(fd, 0);
        (void)read(fd, "flipped");  // an error or a result: either, but in bounds
        ::close(fd);
    }
}

// No program headers, or a PT_DYNAMIC segment too short to hold one entry: nothing to read, and
// nothing is copied (an empty table has no buffer to copy into).
TEST(ElfDeps, EmptyHeaderTablesParseToNothing) {
    const std::string grep = slurp("/usr/bin/grep");
    if (grep.size() < 65536) {
        GTEST_SKIP() << "/usr/bin/grep is not there";
    }
    std::string none = grep;
    const uint16_t zero = 0;
    std::memcpy(none.data() + offsetof(Elf64_Ehdr, e_phnum), &zero, sizeof zero);
    int fd = memfile(none);
    ASSERT_GE(fd, 0);
    auto d = read(fd, "no program headers");
    ::close(fd);
    ASSERT_TRUE(d.ok()) << d.error().msg;
    EXPECT_FALSE(d->dynamic);
    EXPECT_TRUE(d->interpreter.empty());

    std::string empty_dyn = grep;
    Elf64_Ehdr eh{};
    std::memcpy(&eh, empty_dyn.data(), sizeof eh);
    bool patched = false;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        const size_t at = eh.e_phoff + i * sizeof ph;
        std::memcpy(&ph, empty_dyn.data() + at, sizeof ph);
        if (ph.p_type == PT_DYNAMIC) {
            ph.p_filesz = 0;
            std::memcpy(empty_dyn.data() + at, &ph, sizeof ph);
            patched = true;
        }
    }
    ASSERT_TRUE(patched);
    fd = memfile(empty_dyn);
    ASSERT_GE(fd, 0);
    d = read(fd, "empty dynamic segment");
    ::close(fd);
    ASSERT_TRUE(d.ok()) << d.error().msg;
    EXPECT_TRUE(d->dynamic);
    EXPECT_TRUE(d->needed.empty());
}

TEST(ElfDeps, SystemDirsStartWithTheLoadersOwnDirectory) {
    if (::access("/lib64/ld-linux-x86-64.so.2", F_OK) != 0) {
        GTEST_SKIP() << "no /lib64/ld-linux-x86-64.so.2";
    }
    const std::string real = fs::canonical("/lib64/ld-linux-x86-64.so.2").string();
    const auto dirs = system_dirs(real);
    ASSERT_FALSE(dirs.empty());
    EXPECT_EQ(dirs.front(), fs::path(real).parent_path().string());
    EXPECT_EQ(dirs.back(), "/usr/lib");
    EXPECT_EQ(system_dirs("").front(), system_dirs("/nowhere/ld.so").at(1));  // unknown: left out
}

}  // namespace
}  // namespace diag::elf_deps
