// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "wrapper/deadline.h"
#include "wrapper/sys.h"
#include "wrapper/util.h"

namespace diag::audit {

namespace {

// How long a writer waits for the audit file's lock. While the decision deadline runs, until it
// passes (but at least kLockGraceMillis, so the refusal that reports a passed deadline can still
// be recorded); after the decision (the end record), kLockWaitMillis. Only root or a wrapper holds
// the lock, but a writer that waited forever would pin the request and its client.
constexpr uint64_t kLockGraceMillis = 1000;
constexpr uint64_t kLockWaitMillis = 5000;

// flock(LOCK_EX) with a bound: LOCK_NB retried with a short sleep. Errors: kAudit.
Status lock_bounded(int fd, const std::string& path) {
    const auto left = deadline::remaining_ms();
    const uint64_t wait_ms = left ? std::max(*left, kLockGraceMillis) : kLockWaitMillis;
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            return ok_status();
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return sys_error(ErrorCode::kAudit, "audit file flock(" + path + ")", errno);
        }
        if (std::chrono::steady_clock::now() >= until) {
            return make_error(ErrorCode::kAudit, "audit file flock(" + path + "): not obtained within " +
                                                     std::to_string(wait_ms) + " ms");
        }
        const timespec pause{0, 2 * 1000 * 1000};
        ::nanosleep(&pause, nullptr);
    }
}

constexpr const char* kJournalSocket = "/run/systemd/journal/socket";
constexpr const char* kSyslogSocket = "/dev/log";

// Calendar arithmetic in std::chrono: gmtime_r would read /etc/localtime (glibc's tzset) on
// every request for nothing.

std::string first_line(const char* path) {
    const std::string text = sys::read_small_file(path, 4096).value_or("");
    return text.substr(0, text.find('\n'));
}

nlohmann::json port_number(const std::string& s) {
    auto n = util::parse_int(s);
    return n ? nlohmann::json(*n) : nlohmann::json(s);
}

std::string hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) {
        return "";
    }
    return buf;
}

// Strings that may hold client bytes: kept exactly when valid UTF-8, else replaced for the JSON
// text (nlohmann would throw) with the exact bytes alongside in base64.
void put_text(nlohmann::json& obj, const char* key, const std::string& s) {
    if (util::valid_utf8(s)) {
        obj[key] = s;
    } else {
        obj[key] = util::printable(s, 8192);
        obj[std::string(key) + "_b64"] = util::base64_encode(s);
    }
}

Status write_file(const std::string& path, const std::string& line) {
    // One write() of the complete line under an exclusive lock: concurrent requests never
    // interleave, and a short write is a failure, not a truncated record.
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kAudit, "audit file open(" + path + ")", errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kAudit, "audit file " + path + ": not a regular file");
    }
    DIAG_TRY(lock_bounded(fd.get(), path));
    const ssize_t n = ::write(fd.get(), line.data(), line.size());
    if (n < 0) {
        return sys_error(ErrorCode::kAudit, "audit file write(" + path + ")", errno);
    }
    if (static_cast<size_t>(n) != line.size()) {
        return make_error(ErrorCode::kAudit, "audit file write(" + path + "): short write");
    }
    return ok_status();
}

Status send_datagram(const char* socket_path, const std::string& payload, const char* what) {
    sys::UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kAudit, std::string(what) + " socket()", errno);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path, sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return sys_error(ErrorCode::kAudit, std::string(what) + " connect(" + socket_path + ")", errno);
    }
    const ssize_t n = ::send(fd.get(), payload.data(), payload.size(), MSG_NOSIGNAL);
    if (n < 0 || static_cast<size_t>(n) != payload.size()) {
        return sys_error(ErrorCode::kAudit, std::string(what) + " send(" + socket_path + ")", n < 0 ? errno : EMSGSIZE);
    }
    return ok_status();
}

std::string field(const nlohmann::json& rec, const char* a, const char* b) {
    if (rec.contains(a) && rec[a].is_object() && rec[a].contains(b) && rec[a][b].is_string()) {
        return rec[a][b].get<std::string>();
    }
    return "";
}

}  // namespace

std::string timestamp_utc_us() {
    using namespace std::chrono;
    const auto now = floor<microseconds>(system_clock::now());
    const auto day = floor<days>(now);
    const year_month_day ymd{day};
    const hh_mm_ss<microseconds> tod{now - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long long>(tod.hours().count()), static_cast<long long>(tod.minutes().count()),
                  static_cast<long long>(tod.seconds().count()), static_cast<long long>(tod.subseconds().count()));
    return buf;
}

std::string new_request_id() {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        const ssize_t n = ::getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::abort();  // no randomness: nothing sensible to do; main turns a crash into a deny
        }
        got += static_cast<size_t>(n);
    }
    const auto ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    for (int i = 0; i < 6; ++i) {
        b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    }
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
    const std::string h = util::hex(b, sizeof b);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Origin read_origin() {
    Origin o;
    o.uid = static_cast<unsigned>(::getuid());
    // The name comes from /etc/passwd, read here, never through NSS: the wrapper is static, and
    // a static program that loads an NSS module loads a second libc with it (getpwuid also cost
    // 30 us of parsing nsswitch.conf). The uid is what the record vouches for; the name is for
    // reading (adr/0002).
    if (auto text = sys::read_small_file("/etc/passwd", 64 << 20)) {
        o.user = util::passwd_name(*text, o.uid).value_or("");
    }
    // SSH_CONNECTION="client_ip client_port server_ip server_port", set by sshd.
    if (const char* c = std::getenv("SSH_CONNECTION")) {
        const auto f = util::fields(c);
        std::string* into[] = {&o.client_ip, &o.client_port, &o.server_ip, &o.server_port};
        for (size_t i = 0; i < f.size() && i < 4; ++i) {
            *into[i] = std::string(f[i]);
        }
    }
    auto key = ssh_auth::from_environment();
    if (key.ok()) {
        o.key = std::move(key).value();
    } else {
        o.key_error = key.error().msg;
    }
    // sshd runs us directly (we are the login shell, adr/0010) or through the user's shell
    // (ForceCommand): the parent or the grandparent.
    long pid = static_cast<long>(::getppid());
    for (int depth = 0; depth < 2 && pid > 1; ++depth) {
        const std::string line =
            sys::read_small_file("/proc/" + std::to_string(pid) + "/stat", 4096).value_or("");
        const size_t open = line.find('(');
        const size_t close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close < open) {
            break;
        }
        if (line.compare(open + 1, 4, "sshd") == 0) {
            o.sshd_pid = pid;
            break;
        }
        // After "(comm) ": state, then the parent's pid.
        const auto rest = util::fields(std::string_view(line).substr(close + 1));
        const auto ppid = rest.size() >= 2 ? util::parse_int(rest[1]) : std::nullopt;
        if (!ppid) {
            break;
        }
        pid = static_cast<long>(*ppid);
    }
    return o;
}

nlohmann::json base_record(const std::string& request_id, const Origin& origin, const std::string& request,
                           const policy::Policy* policy) {
    nlohmann::json rec;
    rec["@timestamp"] = timestamp_utc_us();
    rec["schema"] = kSchema;
    rec["event"] = {{"kind", "event"}, {"category", {"process"}}, {"action", "decision"}};
    rec["host"] = {{"hostname", hostname()}, {"id", first_line("/etc/machine-id")},
                   {"boot_id", first_line("/proc/sys/kernel/random/boot_id")}};
    rec["user"] = {{"name", origin.user}, {"id", std::to_string(origin.uid)}};
    if (!origin.client_ip.empty()) {
        rec["source"] = {{"ip", origin.client_ip}, {"port", port_number(origin.client_port)}};
        rec["destination"] = {{"ip", origin.server_ip}, {"port", port_number(origin.server_port)}};
    }
    rec["process"] = {{"pid", ::getpid()}, {"parent", {{"pid", ::getppid()}}}};
    put_text(rec["process"], "command_line", request);
    rec["diag"] = {{"request_id", request_id}};
    if (origin.sshd_pid != 0) {
        rec["diag"]["sshd_pid"] = origin.sshd_pid;
    }
    if (origin.key) {
        const ssh_auth::Key& k = *origin.key;
        nlohmann::json key = {{"type", k.type}, {"fingerprint", k.fingerprint}};
        if (k.certificate) {
            key["certificate"] = {{"key_id", k.certificate->key_id},
                                  {"serial", k.certificate->serial},
                                  {"ca_type", k.certificate->ca_type},
                                  {"ca_fingerprint", k.certificate->ca_fingerprint},
                                  {"principals", k.certificate->principals}};
        }
        if (policy != nullptr) {
            if (auto it = policy->audit.principals.find(k.fingerprint); it != policy->audit.principals.end()) {
                key["principal"] = it->second;
            }
        }
        rec["diag"]["key"] = std::move(key);
    } else if (!origin.key_error.empty()) {
        rec["diag"]["key"] = {{"error", origin.key_error}};
    }
    if (policy != nullptr) {
        rec["diag"]["policy"] = {{"path", policy->path}, {"sha256", policy->sha256}};
    }
    return rec;
}

Status write(const policy::Audit& cfg, const nlohmann::json& record) {
    // ensure_ascii: DEL, C1 controls (CSI, NEL), U+2028 and every other non-ASCII character are
    // written as \uXXXX, so no byte of the line can drive an auditor's terminal or split the line
    // (sudo CVE-2023-28486). error_handler replace: no invalid byte can make dump() throw; put_text
    // kept the exact bytes in base64.
    const std::string line = record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
    const std::string decision = field(record, "diag", "decision");
    for (const auto sink : cfg.sinks) {
        switch (sink) {
            case policy::AuditSink::kFile:
                DIAG_TRY(write_file(cfg.file, line));
                break;
            case policy::AuditSink::kSyslog: {
                // RFC 3164 over /dev/log: facility authpriv (10), severity notice (5) or info (6).
                const int pri = 10 * 8 + (decision == "allow" ? 6 : 5);
                const std::string msg = "<" + std::to_string(pri) + ">diag-wrapper[" + std::to_string(::getpid()) +
                                        "]: " + line.substr(0, line.size() - 1);
                DIAG_TRY(send_datagram(kSyslogSocket, msg, "syslog"));
                break;
            }
            case policy::AuditSink::kJournald: {
                // Native protocol, simple form: the JSON (no raw newlines) as MESSAGE plus indexed fields.
                std::string msg = "MESSAGE=" + line;  // ends with the newline that terminates the field
                msg += "SYSLOG_IDENTIFIER=diag-wrapper\n";
                msg += std::string("PRIORITY=") + (decision == "allow" ? "6" : "5") + "\n";
                msg += std::string("MESSAGE_ID=") + kMessageId + "\n";
                msg += "DIAG_REQUEST_ID=" + field(record, "diag", "request_id") + "\n";
                msg += "DIAG_DECISION=" + decision + "\n";
                msg += "DIAG_RULE=" + field(record, "diag", "rule") + "\n";
                msg += "DIAG_REASON=" + field(record, "diag", "reason") + "\n";
                DIAG_TRY(send_datagram(kJournalSocket, msg, "journald"));
                break;
            }
        }
    }
    return ok_status();
}

}  // namespace diag::audit
