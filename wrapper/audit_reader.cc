// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "wrapper/sys.h"
#include "wrapper/util.h"

extern char** environ;

namespace diag::audit_reader {

namespace {

using nlohmann::json;

constexpr size_t kReadChunk = 64 * 1024;
// Deeper records are not the wrapper's; refusing them keeps dump() (recursive) off the stack edge.
constexpr int kMaxDepth = 32;
constexpr size_t kMaxJournalStderr = 64 * 1024;

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

// "1f" -> 1..9 digits of a number, advancing `i`.
bool take_digits(std::string_view s, size_t& i, size_t count, int& out) {
    if (i + count > s.size()) {
        return false;
    }
    int v = 0;
    for (size_t k = 0; k < count; ++k) {
        const char c = s[i + k];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    i += count;
    out = v;
    return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

// ---- lenient field access ----

const json* find(const json& j, std::initializer_list<const char*> path) {
    const json* cur = &j;
    for (const char* key : path) {
        if (!cur->is_object()) {
            return nullptr;
        }
        const auto it = cur->find(key);
        if (it == cur->end()) {
            return nullptr;
        }
        cur = &*it;
    }
    return cur;
}

std::string get_string(const json& j, std::initializer_list<const char*> path) {
    const json* v = find(j, path);
    return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::string get_scalar(const json& j, std::initializer_list<const char*> path) {
    const json* v = find(j, path);
    if (v == nullptr) {
        return {};
    }
    if (v->is_string()) {
        return v->get<std::string>();
    }
    if (v->is_number_unsigned()) {
        return std::to_string(v->get<uint64_t>());
    }
    if (v->is_number_integer()) {
        return std::to_string(v->get<int64_t>());
    }
    return {};
}

std::optional<int64_t> get_int(const json& j, std::initializer_list<const char*> path) {
    const json* v = find(j, path);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_number_unsigned()) {
        const auto u = v->get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) {
            return std::nullopt;
        }
        return static_cast<int64_t>(u);
    }
    if (v->is_number_integer()) {
        return v->get<int64_t>();
    }
    return std::nullopt;
}

bool get_bool(const json& j, std::initializer_list<const char*> path) {
    const json* v = find(j, path);
    return v != nullptr && v->is_boolean() && v->get<bool>();
}

std::optional<int64_t> parse_timestamp(std::string_view s) {
    size_t i = 0;
    int y = 0;
    int mo = 0;
    int d = 0;
    if (!take_digits(s, i, 4, y) || i >= s.size() || s[i++] != '-' || !take_digits(s, i, 2, mo) || i >= s.size() ||
        s[i++] != '-' || !take_digits(s, i, 2, d)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo)) {
        return std::nullopt;
    }
    int h = 0;
    int mi = 0;
    int sec = 0;
    int64_t frac_us = 0;
    int64_t offset_s = 0;
    if (i < s.size()) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
            return std::nullopt;
        }
        ++i;
        if (!take_digits(s, i, 2, h) || i >= s.size() || s[i++] != ':' || !take_digits(s, i, 2, mi)) {
            return std::nullopt;
        }
        if (i < s.size() && s[i] == ':') {
            ++i;
            if (!take_digits(s, i, 2, sec)) {
                return std::nullopt;
            }
            if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
                ++i;
                size_t digits = 0;
                int64_t scale = 100000;
                while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
                    if (digits < 6) {
                        frac_us += (s[i] - '0') * scale;
                        scale /= 10;
                    }
                    ++digits;
                    ++i;
                }
                if (digits == 0 || digits > 9) {
                    return std::nullopt;
                }
            }
        }
        if (h > 23 || mi > 59 || sec > 60) {
            return std::nullopt;
        }
        if (sec == 60) {
            sec = 59;  // a leap second sorts with the second before it
            frac_us = 999999;
        }
        if (i < s.size()) {
            if (s[i] == 'Z' || s[i] == 'z') {
                ++i;
            } else if (s[i] == '+' || s[i] == '-') {
                const int sign = s[i] == '-' ? -1 : 1;
                ++i;
                int oh = 0;
                int om = 0;
                if (!take_digits(s, i, 2, oh)) {
                    return std::nullopt;
                }
                if (i < s.size() && s[i] == ':') {
                    ++i;
                }
                if (!take_digits(s, i, 2, om) || oh > 23 || om > 59) {
                    return std::nullopt;
                }
                offset_s = sign * (oh * 3600 + om * 60);
            } else {
                return std::nullopt;
            }
        }
        if (i != s.size()) {
            return std::nullopt;
        }
    }
    const int64_t days = days_from_civil(y, mo, d);
    const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    return secs * 1000000 + frac_us;
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

// ---- journald ----

Journal::Journal(Journal&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      out_(std::exchange(o.out_, -1)),
      err_(std::exchange(o.err_, -1)),
      entries_(o.entries_),
      err_text_(std::move(o.err_text_)),
      lines_(std::move(o.lines_)) {}

Journal::~Journal() { stop(); }

void Journal::stop() {
    if (out_ >= 0) {
        ::close(out_);
        out_ = -1;
    }
    if (err_ >= 0) {
        ::close(err_);
        err_ = -1;
    }
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }
}

Result<Journal> Journal::start(bool follow, size_t lines) {
    int out[2];
    int err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        return sys_error(ErrorCode::kAudit, "pipe2()", errno);
    }
    sys::UniqueFd out_r(out[0]);
    sys::UniqueFd out_w(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) {
        return sys_error(ErrorCode::kAudit, "pipe2()", errno);
    }
    sys::UniqueFd err_r(err[0]);
    sys::UniqueFd err_w(err[1]);
    // A fixed argv: nothing from the command line or a record reaches journalctl.
    std::vector<std::string> args = {"journalctl", "-o", "json", "SYSLOG_IDENTIFIER=diag-wrapper", "--no-pager"};
    if (follow) {
        args.insert(args.end(), {"-f", "-n", std::to_string(lines)});
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_w.get(), STDERR_FILENO);
    pid_t pid = -1;
    // glibc's posix_spawnp reports a failed exec (ENOENT: no journalctl) as its return value.
    const int rc = ::posix_spawnp(&pid, "journalctl", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        if (rc == ENOENT) {
            return make_error(ErrorCode::kAudit, "journalctl not found: cannot read the journal");
        }
        return sys_error(ErrorCode::kAudit, "posix_spawnp(journalctl)", rc);
    }
    Journal j;
    j.pid_ = pid;
    j.out_ = out_r.release();
    j.err_ = err_r.release();
    return j;
}

void Journal::drain_stderr() {
    char buf[4096];
    const ssize_t n = ::read(err_, buf, sizeof buf);
    if (n <= 0) {
        ::close(err_);
        err_ = -1;
        return;
    }
    if (err_text_.size() < kMaxJournalStderr) {
        err_text_.append(buf, static_cast<size_t>(n));
    }
}

bool trusted_journal_exe(std::string_view exe) {
    constexpr std::string_view kDeleted = " (deleted)";
    if (exe.size() > kDeleted.size() && exe.substr(exe.size() - kDeleted.size()) == kDeleted) {
        exe.remove_suffix(kDeleted.size());
    }
    const size_t slash = exe.rfind('/');
    return slash != std::string_view::npos && exe.substr(slash + 1) == "diag-wrapper";
}

Result<bool> Journal::poll(int timeout_ms, const std::function<void(const JournalEntry&)>& on_entry) {
    if (out_ < 0) {
        return false;
    }
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    const nfds_t nfds = err_ >= 0 ? 2 : 1;
    const int n = ::poll(fds, nfds, timeout_ms);
    if (n < 0) {
        if (errno == EINTR) {
            return true;
        }
        return sys_error(ErrorCode::kAudit, "poll(journalctl)", errno);
    }
    if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        drain_stderr();
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        return true;
    }
    std::string buf(kReadChunk, '\0');
    const ssize_t got = ::read(out_, buf.data(), buf.size());
    if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return true;
        }
        return sys_error(ErrorCode::kAudit, "read(journalctl)", errno);
    }
    auto on_line = [&](std::string_view line) {
        ++entries_;
        const json entry = json::parse(line.begin(), line.end(), nullptr, false);
        const json none;
        const json& e = entry.is_object() ? entry : none;
        JournalEntry out;
        const json* msg = find(e, {"MESSAGE"});
        if (msg != nullptr && msg->is_string()) {
            out.message = msg->get<std::string>();
        } else if (msg != nullptr && msg->is_array()) {
            // journald stores a MESSAGE that is not valid UTF-8 as an array of byte values.
            for (const auto& b : *msg) {
                if (b.is_number_unsigned() && b.get<uint64_t>() < 256) {
                    out.message += static_cast<char>(b.get<uint64_t>());
                }
            }
        } else {
            out.message = "\x01";  // no usable MESSAGE: not JSON, so it is counted as skipped
        }
        out.exe = get_string(e, {"_EXE"});
        out.trusted = trusted_journal_exe(out.exe);
        out.origin = "journal:" + std::to_string(entries_);
        for (const char* f : {"_EXE", "_UID", "_PID"}) {
            const std::string v = get_string(e, {f});
            if (!v.empty()) {
                out.origin += std::string(" ") + f + "=" + v;
            }
        }
        on_entry(out);
    };
    if (got == 0) {
        if (auto tail = lines_.finish()) {
            on_line(*tail);
        }
        ::close(out_);
        out_ = -1;
        return false;
    }
    lines_.feed(std::string_view(buf.data(), static_cast<size_t>(got)), on_line);
    return true;
}

Result<std::vector<std::string>> Journal::finish() {
    while (err_ >= 0) {
        drain_stderr();
    }
    int status = 0;
    if (pid_ > 0) {
        while (::waitpid(pid_, &status, 0) < 0) {
            if (errno != EINTR) {
                return sys_error(ErrorCode::kAudit, "waitpid(journalctl)", errno);
            }
        }
        pid_ = -1;
    }
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < err_text_.size()) {
        size_t nl = err_text_.find('\n', start);
        if (nl == std::string::npos) {
            nl = err_text_.size();
        }
        if (nl > start) {
            lines.push_back(err_text_.substr(start, nl - start));
        }
        start = nl + 1;
    }
    const std::string first = lines.empty() ? std::string() : ": " + lines.front();
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        return make_error(ErrorCode::kAudit,
                          "journalctl exited with status " + std::to_string(WEXITSTATUS(status)) + first);
    }
    if (WIFSIGNALED(status)) {
        return make_error(ErrorCode::kAudit, "journalctl killed by signal " + std::to_string(WTERMSIG(status)));
    }
    for (const auto& l : lines) {
        if (l.find("No journal files were found") != std::string::npos) {
            return make_error(ErrorCode::kAudit, "journald is unavailable: " + l);
        }
    }
    return lines;
}

Status read_journal(Collected& into, std::vector<std::string>& warnings) {
    DIAG_TRY_ASSIGN(Journal j, Journal::start(false, 0));
    size_t untrusted = 0;
    std::string first_untrusted;
    for (;;) {
        DIAG_TRY_ASSIGN(bool more, j.poll(-1, [&](const JournalEntry& e) {
            if (e.trusted) {
                into.add_line(e.message, e.origin);
            } else if (++untrusted == 1) {
                first_untrusted = e.origin;
            }
        }));
        if (!more) {
            break;
        }
    }
    DIAG_TRY_ASSIGN(auto notes, j.finish());
    for (auto& n : notes) {
        if (n != "-- No entries --") {
            warnings.push_back("journalctl: " + n);
        }
    }
    if (untrusted != 0) {
        warnings.push_back(std::to_string(untrusted) +
                           " journal entries with SYSLOG_IDENTIFIER=diag-wrapper were not sent by diag-wrapper "
                           "(_EXE) and were skipped: " +
                           first_untrusted + (untrusted > 1 ? ", ..." : ""));
    }
    return ok_status();
}

// ---- requests ----

std::string record_kind(const json& record) {
    const json* action = find(record, {"event", "action"});
    if (action != nullptr && action->is_string()) {
        const auto& a = action->get_ref<const std::string&>();
        return a == "decision" || a == "end" ? a : std::string();
    }
    if (action != nullptr) {
        return {};  // present but not a string: not ours to guess
    }
    if (find(record, {"diag", "result"}) != nullptr) {
        return "end";
    }
    // Without any of our fields ({} or someone else's JSON) it is not a record of the wrapper.
    const bool ours = find(record, {"diag", "decision"}) != nullptr || find(record, {"diag", "request_id"}) != nullptr;
    return ours ? "decision" : std::string();
}

Request make_request(json decision, json end) {
    Request r;
    r.decision = std::move(decision);
    r.end = std::move(end);
    const json& d = r.decision;
    const json& e = r.end;
    // A field from the decision record, else from the end record (both carry the base fields).
    auto str = [&](std::initializer_list<const char*> path) {
        std::string v = get_string(d, path);
        return v.empty() ? get_string(e, path) : v;
    };
    auto scalar = [&](std::initializer_list<const char*> path) {
        std::string v = get_scalar(d, path);
        return v.empty() ? get_scalar(e, path) : v;
    };
    r.id = str({"diag", "request_id"});
    r.timestamp = str({"@timestamp"});
    r.time_us = parse_timestamp(r.timestamp);
    r.end_time_us = parse_timestamp(get_string(e, {"@timestamp"}));
    r.verdict = str({"diag", "decision"});
    r.reason = get_string(d, {"diag", "reason"});
    r.rule = str({"diag", "rule"});
    r.message = get_string(d, {"diag", "message"});
    r.principal = str({"diag", "key", "principal"});
    r.key_type = str({"diag", "key", "type"});
    r.key_fingerprint = str({"diag", "key", "fingerprint"});
    r.cert_key_id = str({"diag", "key", "certificate", "key_id"});
    r.cert_serial = scalar({"diag", "key", "certificate", "serial"});
    r.ca_fingerprint = str({"diag", "key", "certificate", "ca_fingerprint"});
    r.key_error = str({"diag", "key", "error"});
    const std::string b64 = str({"process", "command_line_b64"});
    if (auto bytes = b64.empty() ? std::nullopt : util::base64_decode(b64)) {
        r.command = std::move(*bytes);
        r.command_lossy = true;
    } else {
        r.command = str({"process", "command_line"});
    }
    r.command_redacted =
        get_bool(d, {"process", "command_line_redacted"}) || get_bool(e, {"process", "command_line_redacted"});
    r.user = str({"user", "name"});
    r.source_ip = str({"source", "ip"});
    r.source_port = scalar({"source", "port"});
    r.host = str({"host", "hostname"});
    if (r.host.empty()) {
        r.host = str({"host", "name"});
    }
    r.host_id = str({"host", "id"});
    r.boot_id = str({"host", "boot_id"});
    if (r.boot_id.empty()) {
        r.boot_id = str({"host", "boot", "id"});
    }
    r.pid = scalar({"process", "pid"});
    r.parent_pid = scalar({"process", "parent", "pid"});
    r.sshd_pid = scalar({"diag", "sshd_pid"});
    r.exit_status = get_int(e, {"diag", "result", "exit_status"});
    r.exit_code = get_int(e, {"diag", "result", "exit_code"});
    r.signal = get_int(e, {"diag", "result", "signal"});
    r.duration_ms = get_int(e, {"diag", "result", "duration_ms"});
    if (r.duration_ms && *r.duration_ms < 0) {
        r.duration_ms.reset();
    }
    r.stdout_bytes = get_int(e, {"diag", "result", "stdout", "bytes"});
    r.stderr_bytes = get_int(e, {"diag", "result", "stderr", "bytes"});
    r.timed_out = get_bool(e, {"diag", "result", "timed_out"});
    r.output_capped = get_bool(e, {"diag", "result", "output_capped"});
    r.client_gone = get_bool(e, {"diag", "result", "client_gone"});
    r.end_error = get_string(e, {"diag", "result", "error"});
    return r;
}

std::vector<Request> join(std::vector<RawRecord> records, ReadStats& stats) {
    struct Pending {
        json decision;
        json end;
        std::string decision_origin;
        std::string end_origin;
        size_t order = 0;
    };
    std::vector<Pending> pending;
    std::unordered_map<std::string, size_t> by_id;
    for (auto& rec : records) {
        const std::string kind = record_kind(rec.json);
        if (kind.empty()) {
            ++stats.unknown;
            continue;
        }
        const std::string id = get_string(rec.json, {"diag", "request_id"});
        size_t idx;
        const auto it = id.empty() ? by_id.end() : by_id.find(id);
        if (it == by_id.end()) {
            idx = pending.size();
            pending.push_back({json(), json(), {}, {}, idx});
            if (!id.empty()) {
                by_id.emplace(id, idx);
            }
        } else {
            idx = it->second;
        }
        const bool is_decision = kind == "decision";
        json& slot = is_decision ? pending[idx].decision : pending[idx].end;
        if (slot.is_null()) {
            slot = std::move(rec.json);
            (is_decision ? pending[idx].decision_origin : pending[idx].end_origin) = rec.origin;
        } else if (slot == rec.json) {
            ++stats.duplicates;
        } else {
            ++stats.conflicts;  // keep the first; the warning tells the auditor
        }
    }
    std::vector<Request> out;
    out.reserve(pending.size());
    for (auto& p : pending) {
        Request r = make_request(std::move(p.decision), std::move(p.end));
        r.decision_origin = std::move(p.decision_origin);
        r.end_origin = std::move(p.end_origin);
        r.order = p.order;
        out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [](const Request& a, const Request& b) {
        if (a.time_us.has_value() != b.time_us.has_value()) {
            return a.time_us.has_value();
        }
        if (a.time_us && *a.time_us != *b.time_us) {
            return *a.time_us < *b.time_us;
        }
        return a.order < b.order;
    });
    return out;
}

}  // namespace diag::audit_reader
