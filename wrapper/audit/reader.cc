// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "wrapper/base/sys.h"

namespace diag::audit_reader {

namespace {

using nlohmann::json;

constexpr size_t kReadChunk = 64 * 1024;
// Deeper records are not the wrapper's; refusing them keeps dump() (recursive) off the stack edge.
constexpr int kMaxDepth = 32;

bool depth_ok(const json& j, int depth) {
    if (depth > kMaxDepth) {
        return false;
    }
    if (j.is_object() || j.is_array()) {
        for (const auto& el : j) {
            if (!depth_ok(el, depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

// Auditors are not root: say what they are missing rather than only EACCES.
Error with_access_hint(Error e, int err) {
    if (err == EACCES) {
        e.msg += " (auditors need read access to the audit log, e.g. an ACL for group adm; or use --journal)";
    }
    return e;
}

}  // namespace

// Streams `fd` to `on_data`, inflating when the first bytes are the gzip magic (1f 8b). Handles
// concatenated gzip members (what `cat a.gz b.gz` and some rotators produce).
Status stream_fd(int fd, const std::string& name, const std::function<void(std::string_view)>& on_data) {
    std::string buf(kReadChunk, '\0');
    std::string out(kReadChunk, '\0');
    bool first = true;
    bool gzip = false;
    bool member_done = false;  // the last gzip member ended; more input starts a new one
    z_stream zs{};
    struct ZGuard {
        z_stream* zs;
        bool active = false;
        ~ZGuard() {
            if (active) {
                inflateEnd(zs);
            }
        }
    } guard{&zs};
    for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error(ErrorCode::kAudit, "read(" + name + ")", errno);
        }
        if (n == 0) {
            break;
        }
        const auto len = static_cast<size_t>(n);
        if (first) {
            first = false;
            gzip = len >= 2 && static_cast<unsigned char>(buf[0]) == 0x1f && static_cast<unsigned char>(buf[1]) == 0x8b;
            if (gzip) {
                // 16 + MAX_WBITS: gzip wrapper only, checked CRC and length.
                if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
                    return make_error(ErrorCode::kAudit, name + ": inflateInit2 failed");
                }
                guard.active = true;
            }
        }
        if (!gzip) {
            on_data(std::string_view(buf.data(), len));
            continue;
        }
        zs.next_in = reinterpret_cast<Bytef*>(buf.data());
        zs.avail_in = static_cast<uInt>(len);
        while (zs.avail_in > 0) {
            if (member_done) {
                if (static_cast<unsigned char>(zs.next_in[0]) != 0x1f) {
                    return make_error(ErrorCode::kAudit, name + ": trailing data after the gzip stream");
                }
                inflateReset(&zs);
                member_done = false;
            }
            zs.next_out = reinterpret_cast<Bytef*>(out.data());
            zs.avail_out = static_cast<uInt>(out.size());
            const int rc = inflate(&zs, Z_NO_FLUSH);
            const size_t produced = out.size() - zs.avail_out;
            if (produced > 0) {
                on_data(std::string_view(out.data(), produced));
            }
            if (rc == Z_STREAM_END) {
                member_done = true;
            } else if (rc == Z_BUF_ERROR && produced == 0) {
                break;  // needs more input
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return make_error(ErrorCode::kAudit, name + ": corrupt gzip data (" +
                                                         std::string(zs.msg != nullptr ? zs.msg : zError(rc)) + ")");
            }
        }
    }
    if (gzip && !member_done) {
        return make_error(ErrorCode::kAudit, name + ": truncated gzip data");
    }
    return ok_status();
}

// ---- lines and records ----

void LineSplitter::feed(std::string_view data, const std::function<void(std::string_view)>& on_line) {
    while (!data.empty()) {
        const size_t nl = data.find('\n');
        const std::string_view piece = data.substr(0, nl);
        if (partial_.empty() && nl != std::string_view::npos) {
            on_line(piece);  // the common case: no copy
        } else {
            // Keep at most one byte more than a record may have: enough to know it is overlong.
            const size_t room = kMaxLineBytes + 1 - std::min(partial_.size(), kMaxLineBytes + 1);
            partial_.append(piece.substr(0, room));
            if (nl != std::string_view::npos) {
                on_line(partial_);
                partial_.clear();
            }
        }
        if (nl == std::string_view::npos) {
            break;
        }
        data.remove_prefix(nl + 1);
    }
}

std::optional<std::string> LineSplitter::finish() {
    if (partial_.empty()) {
        return std::nullopt;
    }
    std::string tail = std::move(partial_);
    partial_.clear();
    return tail;
}

void Collected::add_line(std::string_view line, const std::string& origin) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.empty()) {
        return;
    }
    bool ok = false;
    json j;
    if (line.size() <= kMaxLineBytes) {
        // The non-throwing overload: a parse error is a discarded value, never an exception.
        j = json::parse(line.begin(), line.end(), nullptr, false);
        ok = !j.is_discarded() && j.is_object() && depth_ok(j, 0);
    }
    if (!ok) {
        ++stats.skipped;
        if (stats.skipped_at.size() < kMaxSkippedNoted) {
            stats.skipped_at.push_back(origin);
        }
        return;
    }
    ++stats.records;
    records.push_back({std::move(j), origin});
}

Status read_file(const std::string& path, Collected& into) {
    sys::UniqueFd owned;
    int fd = STDIN_FILENO;
    const std::string name = path == "-" ? "<stdin>" : path;
    if (path != "-") {
        owned = sys::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
        if (!owned.valid()) {
            return with_access_hint(sys_error(ErrorCode::kAudit, "open(" + path + ")", errno), errno);
        }
        fd = owned.get();
    }
    LineSplitter splitter;
    size_t lineno = 0;
    auto on_line = [&](std::string_view line) { into.add_line(line, name + ":" + std::to_string(++lineno)); };
    DIAG_TRY(stream_fd(fd, name, [&](std::string_view data) { splitter.feed(data, on_line); }));
    if (auto tail = splitter.finish()) {
        on_line(*tail);
    }
    return ok_status();
}

Result<std::vector<std::string>> default_files(const std::string& main) {
    const size_t slash = main.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : main.substr(0, slash));
    const std::string base = slash == std::string::npos ? main : main.substr(slash + 1);
    const std::string prefix = dir == "/" ? "/" : dir + "/";
    struct Rotated {
        long n;  // rotation number, -1 when not numbered
        std::string name;
    };
    std::vector<Rotated> rotated;
    bool have_main = false;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            const std::string name = e->d_name;
            if (name == base) {
                have_main = true;
                continue;
            }
            if (name.size() <= base.size() + 1 || name.compare(0, base.size() + 1, base + ".") != 0) {
                continue;
            }
            std::string rest = name.substr(base.size() + 1);
            const bool gz = rest.size() > 3 && rest.compare(rest.size() - 3, 3, ".gz") == 0;
            const std::string num = gz ? rest.substr(0, rest.size() - 3) : rest;
            const bool numbered = !num.empty() && num.size() < 10 &&
                                  std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; });
            if (numbered) {
                rotated.push_back({std::stol(num), name});
            } else if (gz) {
                rotated.push_back({-1, name});  // audit.jsonl.*.gz (dated rotations)
            }
        }
        ::closedir(d);
    } else {
        const int err = errno;
        if (err != ENOENT) {
            return with_access_hint(sys_error(ErrorCode::kAudit, "opendir(" + dir + ")", err), err);
        }
    }
    if (!have_main && rotated.empty()) {
        return make_error(ErrorCode::kAudit, "no audit file at " + main + " (use --file or --journal)");
    }
    // Oldest first: highest rotation number first, dated names in name order, the live file last.
    std::sort(rotated.begin(), rotated.end(), [](const Rotated& a, const Rotated& b) {
        if ((a.n < 0) != (b.n < 0)) {
            return a.n < 0;
        }
        return a.n != b.n ? a.n > b.n : a.name < b.name;
    });
    std::vector<std::string> out;
    for (const auto& r : rotated) {
        out.push_back(prefix + r.name);
    }
    if (have_main) {
        out.push_back(main);
    }
    return out;
}

}  // namespace diag::audit_reader
