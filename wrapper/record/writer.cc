// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/writer.h"

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

#include "wrapper/base/encoding.h"
#include "wrapper/base/parse.h"
#include "wrapper/base/passwd.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/record/bound.h"
#include "wrapper/record/chain.h"
#include "wrapper/record/sinks.h"

namespace diag::audit {

namespace {

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
    if (text_safety::valid_utf8(s)) {
        obj[key] = s;
    } else {
        obj[key] = text_safety::printable(s, 8192);
        obj[std::string(key) + "_b64"] = util::base64_encode(s);
    }
}

std::string field(const nlohmann::json& rec, const char* a, const char* b) {
    if (rec.contains(a) && rec[a].is_object() && rec[a].contains(b) && rec[a][b].is_string()) {
        return rec[a][b].get<std::string>();
    }
    return "";
}

// Read once per process (one request): the decision and the end record name the same host, and
// the two files are not read again for the end record while the command runs.
const nlohmann::json& host_fields() {
    static const nlohmann::json host = {{"hostname", hostname()},
                                        {"id", first_line("/etc/machine-id")},
                                        {"boot_id", first_line("/proc/sys/kernel/random/boot_id")}};
    return host;
}

// The real uid of a process, from the Uid: line of /proc/PID/status.
std::optional<unsigned> process_uid(long pid) {
    const std::string text = sys::read_small_file("/proc/" + std::to_string(pid) + "/status", 16384).value_or("");
    const size_t at = text.find("\nUid:");
    if (at == std::string::npos) {
        return std::nullopt;
    }
    const auto f = util::fields(std::string_view(text).substr(at + 5, text.find('\n', at + 1) - at - 5));
    const auto n = f.empty() ? std::nullopt : util::parse_int(f[0]);
    return n && *n >= 0 ? std::optional<unsigned>(static_cast<unsigned>(*n)) : std::nullopt;
}

// The smallest budget of the configured sinks: one line goes to all of them, so the chain hashes
// the same bytes wherever the record is read.
size_t record_budget(const policy::Audit& cfg) {
    size_t budget = audit_bound::kMaxRecordBytes;
    for (const auto sink : cfg.sinks) {
        if (sink == policy::AuditSink::kSyslog) {
            budget = std::min(budget, audit_bound::kSyslogRecordBytes);
        }
    }
    return budget;
}

// Writes one line to every sink, in order; `written` counts the sinks that took it.
Status write_line(const policy::Audit& cfg, const nlohmann::json& rec, const std::string& line, size_t& written) {
    const std::string decision = field(rec, "diag", "decision");
    for (const auto sink : cfg.sinks) {
        switch (sink) {
            case policy::AuditSink::kFile:
                DIAG_TRY(audit_sinks::write_file(cfg.file, line + "\n"));
                break;
            case policy::AuditSink::kSyslog: {
                // RFC 3164 over /dev/log: facility authpriv (10), severity notice (5) or info (6).
                const int pri = 10 * 8 + (decision == "allow" ? 6 : 5);
                const std::string msg =
                    "<" + std::to_string(pri) + ">diag-wrapper[" + std::to_string(::getpid()) + "]: " + line;
                DIAG_TRY(audit_sinks::send_datagram(cfg.syslog_socket, msg, "syslog", false));
                break;
            }
            case policy::AuditSink::kJournald: {
                // Native protocol, simple form: the JSON (no raw newlines) as MESSAGE plus indexed fields.
                std::string msg = "MESSAGE=" + line + "\n";
                msg += "SYSLOG_IDENTIFIER=diag-wrapper\n";
                msg += std::string("PRIORITY=") + (decision == "allow" ? "6" : "5") + "\n";
                msg += std::string("MESSAGE_ID=") + kMessageId + "\n";
                msg += "DIAG_REQUEST_ID=" + field(rec, "diag", "request_id") + "\n";
                msg += "DIAG_DECISION=" + decision + "\n";
                msg += "DIAG_RULE=" + field(rec, "diag", "rule") + "\n";
                msg += "DIAG_REASON=" + field(rec, "diag", "reason") + "\n";
                DIAG_TRY(audit_sinks::send_datagram(cfg.journald_socket, msg, "journald", true));
                break;
            }
        }
        ++written;
    }
    return ok_status();
}

// Gives `rec` the next place in the chain, writes it and advances the state. The state advances
// once any sink took the line (that line exists now, and the next record must follow it); when
// none did, the place is given to the next record instead.
Status append_chained(const policy::Audit& cfg, audit_chain::Locked& locked, const audit_bound::Fitted& rec) {
    audit_chain::State s = locked.state();
    const nlohmann::json place = {{std::string(audit_schema::kChainId), s.id},
                                  {std::string(audit_schema::kChainSeq), s.seq + 1},
                                  {std::string(audit_schema::kChainPrev), s.head}};
    const std::string line = rec.line_with(place);
    size_t written = 0;
    const Status st = write_line(cfg, rec.record(), line, written);
    if (written == 0) {
        return st;
    }
    s.seq += 1;
    s.head = sha256_hex(line);
    if (field(rec.record(), "event", "action") == audit_schema::kActionCheckpoint) {
        s.checkpoint_seq = s.seq;
        s.checkpoint_time = static_cast<int64_t>(::time(nullptr));
    }
    DIAG_TRY(locked.store(s));
    return st;
}

// The place of a record that the chain fills in later: placeholders as long as the longest
// values, so the bound leaves room for them.
nlohmann::json chain_placeholder() {
    return {{std::string(audit_schema::kChainId), std::string(36, '0')},
            {std::string(audit_schema::kChainSeq), UINT64_MAX},
            {std::string(audit_schema::kChainPrev), std::string(64, '0')}};
}

// The checkpoint after record `s.seq`: it repeats that record's hash, so a copy forwarded off the
// host fixes everything up to it.
nlohmann::json checkpoint_record(const audit_chain::State& s) {
    nlohmann::json rec;
    rec["@timestamp"] = timestamp_utc_us();
    rec["schema"] = audit_schema::kSchema;
    rec["event"] = {{"kind", "event"}, {"action", audit_schema::kActionCheckpoint}};
    rec["host"] = host_fields();
    rec["process"] = {{"pid", ::getpid()}};
    rec["diag"][std::string(audit_schema::kCheckpoint)] = {{std::string(audit_schema::kCheckpointSeq), s.seq},
                                                           {std::string(audit_schema::kCheckpointHead), s.head},
                                                           {"time", static_cast<int64_t>(::time(nullptr))}};
    return rec;
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

std::string read_passwd() {
    // Never through NSS: the wrapper is static, and a static program that loads an NSS module
    // loads a second libc with it (getpwuid also cost 30 us of parsing nsswitch.conf).
    return sys::read_small_file("/etc/passwd", 64 << 20).value_or("");
}

Origin read_origin(const std::string& passwd) {
    Origin o;
    o.uid = static_cast<unsigned>(::getuid());
    // The uid is what the record vouches for; the name, from /etc/passwd, is for reading
    // (adr/0002).
    o.user = util::passwd_name(passwd, o.uid).value_or("");
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
    // (ForceCommand): the parent or the grandparent. Under privilege separation that sshd runs as
    // the account, and its parent, the privileged monitor, as root: one step further.
    long pid = static_cast<long>(::getppid());
    for (int depth = 0; depth < 4 && pid > 1; ++depth) {
        const std::string line = sys::read_small_file("/proc/" + std::to_string(pid) + "/stat", 4096).value_or("");
        const size_t open = line.find('(');
        const size_t close = line.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close < open) {
            break;
        }
        // "sshd", or "sshd-session" since OpenSSH 9.8.
        if (line.compare(open + 1, 4, "sshd") == 0) {
            const auto uid = process_uid(pid);
            if (o.sshd_pid == 0) {
                o.sshd_pid = pid;
                o.sshd_uid = uid.value_or(UINT32_MAX);
            }
            if (uid && *uid == 0) {
                o.root_sshd_pid = pid;
                break;
            }
        } else if (o.sshd_pid != 0) {
            break;  // the monitor is the session process's parent, nothing further up
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

Status check_account(const std::string& account, const Origin& origin, const std::string& passwd, nlohmann::json& rec) {
    auto& o = rec["diag"]["origin"];
    if (account.empty()) {
        o["account_checked"] = false;
        return ok_status();
    }
    o["account_checked"] = true;
    // Our own parser, as for the name in read_origin (no NSS in a static binary).
    const auto uid = util::passwd_uid(passwd, account);
    if (!uid) {
        return make_error(ErrorCode::kPolicyInvalid, "settings.account: no account '" + account + "' in /etc/passwd");
    }
    if (*uid != origin.uid) {
        o["account_mismatch"] = {{"expected", account}, {"expected_uid", *uid}, {"uid", origin.uid}};
        return deny("wrong-account", "this wrapper serves the account '" + account + "' (uid " + std::to_string(*uid) +
                                         ") only; the caller is uid " + std::to_string(origin.uid));
    }
    return ok_status();
}

nlohmann::json base_record(const std::string& request_id, const Origin& origin, const std::string& request,
                           const policy::Policy* policy) {
    nlohmann::json rec;
    rec["@timestamp"] = timestamp_utc_us();
    rec["schema"] = audit_schema::kSchema;
    rec["event"] = {{"kind", "event"}, {"category", {"process"}}, {"action", "decision"}};
    rec["host"] = host_fields();
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
    // Whether SSH_CONNECTION and SSH_USER_AUTH can be sshd's: only a root sshd above us sets them
    // for an account that cannot set them itself (adr/0011).
    rec["diag"]["origin"] = {{"root_sshd", origin.root_sshd_pid != 0}};
    if (origin.root_sshd_pid != 0) {
        rec["diag"]["origin"]["root_sshd_pid"] = origin.root_sshd_pid;
    }
    if (origin.sshd_pid != 0) {
        rec["diag"]["origin"]["sshd_uid"] = origin.sshd_uid;
    }
    if (origin.key) {
        const ssh_auth::Key& k = *origin.key;
        nlohmann::json key = {{"type", k.type}, {"fingerprint", k.fingerprint}};
        if (k.certificate) {
            key["certificate"] = {{"key_id", k.certificate->key_id},
                                  {"serial", k.certificate->serial},
                                  {"ca_type", k.certificate->ca_type},
                                  {"ca_fingerprint", k.certificate->ca_fingerprint},
                                  {"principals", k.certificate->principals},
                                  // Nothing here checks the CA's signature (no crypto library is
                                  // linked): these are sshd's words, as good as the origin.
                                  {"signature_checked", false}};
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
    const size_t budget = record_budget(cfg);
    // The record is bounded where it is: only one that needs a cap is copied (fit_record).
    if (cfg.chain.empty()) {
        DIAG_TRY_ASSIGN(const audit_bound::Fitted fitted, audit_bound::fit_record(record, budget, nullptr));
        size_t written = 0;
        return write_line(cfg, fitted.record(), fitted.line(), written);
    }
    const nlohmann::json placeholder = chain_placeholder();
    DIAG_TRY_ASSIGN(const audit_bound::Fitted fitted, audit_bound::fit_record(record, budget, &placeholder));
    // One lock from reading the head to storing the new one: records get their places in the
    // order they reach the sinks, and no two get the same place.
    DIAG_TRY_ASSIGN(audit_chain::Locked locked, audit_chain::Locked::open(cfg.chain, new_request_id()));
    DIAG_TRY(append_chained(cfg, locked, fitted));
    if (audit_chain::checkpoint_due(locked.state(), static_cast<int64_t>(::time(nullptr)))) {
        const nlohmann::json ckpt = checkpoint_record(locked.state());
        DIAG_TRY_ASSIGN(const audit_bound::Fitted bounded, audit_bound::fit_record(ckpt, budget, &placeholder));
        DIAG_TRY(append_chained(cfg, locked, bounded));
    }
    return ok_status();
}

}  // namespace diag::audit
