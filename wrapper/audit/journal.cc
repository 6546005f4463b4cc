// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/journal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "wrapper/audit/fields.h"
#include "wrapper/base/passwd.h"
#include "wrapper/base/sys.h"

extern char** environ;

namespace diag::audit_reader {

namespace {

using nlohmann::json;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxJournalStderr = 64 * 1024;

// A field's value as bytes: journalctl -o json prints a UTF-8 value as a string and any other as
// an array of byte values; a field sent more than once becomes an array of such values, and
// a value it did not print (over 4096 bytes without --all) is null. Only the first two are one
// readable value.
std::optional<std::string> field_bytes(const json& entry, const char* name) {
    const json* v = find(entry, {name});
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return v->get<std::string>();
    }
    if (!v->is_array()) {
        return std::nullopt;
    }
    std::string out;
    for (const auto& b : *v) {
        if (!b.is_number_unsigned() || b.get<uint64_t>() > 255) {
            return std::nullopt;  // several values, or not bytes: not one value we can trust
        }
        out += static_cast<char>(b.get<uint64_t>());
    }
    return out;
}

// Why MESSAGE is not readable, for the warning.
std::string why_unreadable(const json& entry) {
    const json* v = find(entry, {"MESSAGE"});
    if (v == nullptr) {
        return "no MESSAGE field";
    }
    if (v->is_null()) {
        return "journalctl printed MESSAGE as null (a field it did not print in full)";
    }
    return "MESSAGE is not one value (sent more than once, or not bytes)";
}

}  // namespace

Journal::Journal(Journal&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      diag_uid_(o.diag_uid_),
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

Result<Journal> Journal::start(bool follow, size_t lines, uid_t diag_uid) {
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
    // --all: journalctl prints a field of 4096 bytes or more as null without it (docs/journald.md).
    std::vector<std::string> args = {"journalctl", "-o",   "json", "SYSLOG_IDENTIFIER=diag-wrapper",
                                     "--no-pager", "--all"};
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
    j.diag_uid_ = diag_uid;
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

JournalEntry classify_journal_line(std::string_view line, uid_t diag_uid, size_t n) {
    JournalEntry out;
    out.origin = "journal:" + std::to_string(n);
    const json entry = json::parse(line.begin(), line.end(), nullptr, false);
    if (!entry.is_object()) {
        // Nothing says who sent it. Our own records are bounded (16 KiB a line) and journalctl's
        // JSON of them parses; a line cut at the reader's limit is someone's giant entry, and any
        // local account can send those: counting them as unreadable records of ours let it make
        // every search "incomplete" (exit 3). Reported as untrusted, with its position.
        out.kind = JournalEntry::Kind::kUntrusted;
        out.why = "journalctl printed a line that is not a JSON object (sender unknown; too long to be a record)";
        return out;
    }
    out.exe = field_bytes(entry, "_EXE").value_or("");
    out.uid = field_bytes(entry, "_UID").value_or("");
    out.cursor = field_bytes(entry, "__CURSOR").value_or("");
    for (const char* f : {"_EXE", "_UID", "_PID", "__CURSOR"}) {
        const std::string v = field_bytes(entry, f).value_or("");
        if (!v.empty()) {
            out.origin += std::string(" ") + f + "=" + v;
        }
    }
    // Trusted only when journald (not the sender) says who sent it: _UID is the diag account's
    // (any local account can run the world-executable wrapper). _EXE must name a diag-wrapper
    // binary when journald recorded it (the diag account reaches other programs only through the
    // wrapper); journald reads it from /proc after the fact, and under load it is missing for a
    // wrapper that has already exited (seen on both records of a short request), so a missing
    // _EXE is said (exe empty; counted and warned about) but is no reason to hide the record.
    const std::string want_uid = std::to_string(diag_uid);
    // The wrapper sends its records as datagrams (native protocol or syslog). A stream from a
    // process's stdout (systemd-cat, a service's output) can carry the same identifier; the
    // commands the wrapper runs cannot make datagram sockets, but they can connect streams.
    if (field_bytes(entry, "_TRANSPORT").value_or("") == "stdout") {
        out.kind = JournalEntry::Kind::kUntrusted;
        out.why = "_TRANSPORT=stdout, not how the wrapper sends records";
        return out;
    }
    if (out.uid != want_uid || (!out.exe.empty() && !trusted_journal_exe(out.exe))) {
        out.kind = JournalEntry::Kind::kUntrusted;
        out.why = out.uid != want_uid ? "_UID=" + (out.uid.empty() ? std::string("(none)") : out.uid) +
                                            ", not the diag account's " + want_uid
                                      : "_EXE=" + out.exe + ", not diag-wrapper";
        return out;
    }
    if (auto msg = field_bytes(entry, "MESSAGE")) {
        out.kind = JournalEntry::Kind::kRecord;
        out.message = std::move(*msg);
        return out;
    }
    out.why = why_unreadable(entry);
    return out;
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
    auto on_line = [&](std::string_view line) { on_entry(classify_journal_line(line, diag_uid_, ++entries_)); };
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

Status read_journal(Collected& into, uid_t diag_uid, std::vector<std::string>& warnings) {
    DIAG_TRY_ASSIGN(Journal j, Journal::start(false, 0, diag_uid));
    for (;;) {
        DIAG_TRY_ASSIGN(bool more, j.poll(-1, [&](const JournalEntry& e) {
            switch (e.kind) {
                case JournalEntry::Kind::kRecord:
                    into.add_line(e.message, e.origin);
                    into.stats.exe_unknown += e.exe.empty() ? 1u : 0u;
                    break;
                case JournalEntry::Kind::kUnreadable:
                    into.stats.unreadable.push_back(e.origin + ": " + e.why);
                    break;
                case JournalEntry::Kind::kUntrusted:
                    if (++into.stats.untrusted <= kMaxUntrustedNoted) {
                        into.stats.untrusted_at.push_back(e.origin + ": " + e.why);
                    }
                    break;
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
    return ok_status();
}

Result<uid_t> diag_uid(std::optional<uid_t> uid, const std::string& account, const std::string& passwd_file) {
    if (uid) {
        return *uid;
    }
    // passwd(5) is a few KB; a bigger or unreadable one is an error, never "no such account".
    const auto passwd = sys::read_small_file(passwd_file, 16 * 1024 * 1024);
    if (!passwd) {
        return make_error(ErrorCode::kAudit,
                          "cannot read " + passwd_file + " to find the account '" + account + "' (give --uid N)");
    }
    return account_uid(*passwd, account);
}

std::string journal_note(const JournalEntry& e) {
    const char* what = e.kind == JournalEntry::Kind::kUnreadable
                           ? "unreadable journal entry of diag-wrapper, not shown: "
                           : "untrusted journal entry: ";
    return what + e.origin + ": " + e.why;
}

std::vector<std::string> journal_notes(const ReadStats& s) {
    std::vector<std::string> out;
    if (s.exe_unknown != 0) {
        out.push_back(std::to_string(s.exe_unknown) +
                      " journal record(s) of the diag account have no _EXE (journald could not read it; the sender "
                      "had exited): trusted on _UID alone");
    }
    for (const auto& u : s.unreadable) {
        out.push_back("unreadable journal entry of diag-wrapper, not shown: " + u);
    }
    if (s.untrusted != 0) {
        out.push_back(std::to_string(s.untrusted) +
                      " journal entries with SYSLOG_IDENTIFIER=diag-wrapper were not sent by diag-wrapper as the "
                      "diag account and are not records:");
        for (const auto& u : s.untrusted_at) {
            out.push_back("untrusted journal entry: " + u);
        }
        if (s.untrusted > s.untrusted_at.size()) {
            out.push_back(std::to_string(s.untrusted - s.untrusted_at.size()) + " more untrusted journal entries");
        }
    }
    return out;
}

Result<uid_t> account_uid(std::string_view passwd, const std::string& account) {
    if (auto uid = util::passwd_uid(passwd, account)) {
        return static_cast<uid_t>(*uid);
    }
    return make_error(ErrorCode::kUsage, "account '" + account +
                                             "' is not in /etc/passwd: name the account whose journal entries "
                                             "are trusted with --account NAME or --uid N");
}

}  // namespace diag::audit_reader
