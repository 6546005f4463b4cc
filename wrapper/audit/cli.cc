// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/cli.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <unordered_map>
#include <utility>

#include "wrapper/audit/verify.h"
#include "wrapper/base/sys.h"
#include "wrapper/base/parse.h"

namespace diag::audit_cli {

namespace {

using audit_reader::Request;
using audit_render::escape;
using audit_render::Format;
using nlohmann::json;

// Decisions remembered by follow to join their end records; the oldest are forgotten first.
constexpr size_t kFollowMemory = 100000;

Error usage(std::string msg) { return make_error(ErrorCode::kUsage, std::move(msg)); }

void say_error(Io& io, const Error& e) { io.err("diag-audit: error: " + escape(e.describe()) + "\n"); }

void say_warning(Io& io, const std::string& msg) { io.err("diag-audit: warning: " + escape(msg) + "\n"); }

void report_stats(Io& io, const audit_reader::ReadStats& s) {
    if (s.skipped != 0) {
        std::string where;
        for (const auto& at : s.skipped_at) {
            where += (where.empty() ? "" : ", ") + at;
        }
        say_warning(io, std::to_string(s.skipped) + " line(s) skipped (not JSON objects): " + where +
                            (s.skipped > s.skipped_at.size() ? ", ..." : ""));
    }
    if (s.conflicts != 0) {
        say_warning(io, std::to_string(s.conflicts) +
                            " record(s) conflict with an earlier record of the same request id; the first is shown");
    }
    if (s.unknown != 0) {
        say_warning(io, std::to_string(s.unknown) + " record(s) with an unknown event.action ignored");
    }
    for (const auto& note : audit_reader::journal_notes(s)) {
        say_warning(io, note);
    }
}

Result<size_t> parse_count(const std::string& flag, const std::string& v) {
    const auto n = util::parse_int(v);
    if (!n || *n < 0 || v.empty() || v[0] == '+' || v[0] == '-') {
        return usage(flag + ": '" + v + "' is not a non-negative number");
    }
    return static_cast<size_t>(*n);
}

// Reads every input of a non-follow command; `unreadable` is set when journal entries could not be read.
Result<std::vector<Request>> load(const Options& o, Io& io, bool& unreadable) {
    audit_reader::Collected c;
    if (o.journal) {
        std::vector<std::string> warnings;
        DIAG_TRY_ASSIGN(uid_t uid, audit_reader::diag_uid(o.uid, o.account, o.passwd_file));
        DIAG_TRY(audit_reader::read_journal(c, uid, warnings));
        for (const auto& w : warnings) {
            say_warning(io, w);
        }
    }
    std::vector<std::string> files = o.files;
    if (files.empty() && !o.journal) {
        DIAG_TRY_ASSIGN(files, audit_reader::default_files(o.default_file));
    }
    for (const auto& f : files) {
        DIAG_TRY(audit_reader::read_file(f, c));
    }
    auto requests = audit_reader::join(std::move(c.records), c.stats);
    report_stats(io, c.stats);
    unreadable = !c.stats.unreadable.empty();
    return requests;
}

Result<std::vector<const Request*>> select_requests(const std::vector<Request>& all, const audit_filter::Filter& f) {
    std::vector<const Request*> out;
    for (const auto& r : all) {
        DIAG_TRY_ASSIGN(bool hit, audit_filter::matches(f, r));
        if (hit) {
            out.push_back(&r);
        }
    }
    return out;
}

int run_search(const Options& o, Io& io, const std::vector<Request>& all) {
    auto rows = select_requests(all, o.filter);
    if (!rows.ok()) {
        say_error(io, rows.error());
        return kExitError;
    }
    if (rows->empty()) {
        io.err("diag-audit: no matching requests\n");
        return kExitNotFound;
    }
    audit_render::Context ctx;
    ctx.id_len = audit_render::short_id_length(all);
    io.out(audit_render::render_list(*rows, o.format, ctx));
    return kExitOk;
}

int run_show(const Options& o, Io& io, const std::vector<Request>& all) {
    std::vector<const Request*> hits;
    for (const auto& r : all) {
        if (r.id == o.request_id) {
            hits = {&r};
            break;
        }
        if (!r.id.empty() && r.id.compare(0, o.request_id.size(), o.request_id) == 0) {
            hits.push_back(&r);
        }
    }
    if (hits.empty()) {
        io.err("diag-audit: no request " + escape(o.request_id) + "\n");
        return kExitNotFound;
    }
    if (hits.size() > 1) {
        std::string some;
        for (size_t i = 0; i < hits.size() && i < 3; ++i) {
            some += (i == 0 ? "" : ", ") + escape(hits[i]->id);
        }
        io.err("diag-audit: error: request id prefix " + escape(o.request_id) + " is ambiguous: " +
               std::to_string(hits.size()) + " requests match (" + some + (hits.size() > 3 ? ", ..." : "") + ")\n");
        return kExitError;
    }
    io.out(o.format == Format::kJson ? audit_render::json_line(*hits[0]) : audit_render::render_show(*hits[0]));
    return kExitOk;
}

int run_report(const Options& o, Io& io, const std::vector<Request>& all) {
    auto rows = select_requests(all, o.filter);
    if (!rows.ok()) {
        say_error(io, rows.error());
        return kExitError;
    }
    std::optional<std::vector<std::string>> ids;
    std::vector<std::string> files;
    if (!o.policy.empty()) {
        auto r = audit_report::rule_ids_from_policy(o.policy, files);
        if (!r.ok()) {
            say_error(io, r.error());
            return kExitError;
        }
        ids = std::move(*r);
    }
    audit_report::Report rep = audit_report::build(*rows, all, o.filter, ids, o.top);
    rep.policy_files = files;
    io.out(o.format == Format::kJson ? audit_report::render_json(rep) : audit_report::render_text(rep));
    return kExitOk;
}

// ---- follow ----

// Turns records into rows as they arrive: a decision is printed at once, its end record later
// (joined with the remembered decision).
class Follower {
  public:
    Follower(const Options& o, Io& io) : o_(o), io_(io) {
        ctx_.live = true;
        ctx_.id_len = 13;  // a UUIDv7's millisecond part; the rows are not known in advance
        widths_ = audit_render::follow_widths(ctx_);
    }

    void header() {
        if (o_.format == Format::kTable) {
            io_.out(audit_render::table_header(widths_));
        } else if (o_.format == Format::kCsv) {
            io_.out(audit_render::csv_header());
        }
    }

    // Handles one line; `print` false only remembers it (the backlog before --lines).
    Status line(std::string_view text, const std::string& origin, bool print) {
        audit_reader::Collected c;
        c.add_line(text, origin);
        if (c.records.empty()) {
            if (c.stats.skipped != 0 && print) {
                say_warning(io_, origin + ": not a JSON object, skipped");
            }
            return ok_status();
        }
        json rec = std::move(c.records.front().json);
        const std::string kind = audit_reader::record_kind(rec);
        if (kind.empty()) {
            return ok_status();
        }
        const std::string id = audit_reader::get_string(rec, {"diag", "request_id"});
        Request r;
        if (kind == "decision") {
            if (!id.empty()) {
                remember(id, rec);
            }
            r = audit_reader::make_request(std::move(rec), json());
            r.decision_origin = origin;
        } else {
            json decision;
            if (const auto it = decisions_.find(id); !id.empty() && it != decisions_.end()) {
                decision = std::move(it->second);
                decisions_.erase(it);
            }
            r = audit_reader::make_request(std::move(decision), std::move(rec));
            r.end_origin = origin;
        }
        if (!print) {
            return ok_status();
        }
        DIAG_TRY_ASSIGN(bool hit, audit_filter::matches(o_.filter, r));
        if (!hit) {
            return ok_status();
        }
        switch (o_.format) {
            case Format::kTable:
                io_.out(audit_render::table_row(r, ctx_, widths_));
                break;
            case Format::kText:
                io_.out(audit_render::text_line(r, ctx_));
                break;
            case Format::kJson:
                io_.out(audit_render::json_line(r));
                break;
            case Format::kCsv:
                io_.out(audit_render::csv_row(r));
                break;
        }
        ++printed_;
        return ok_status();
    }

    [[nodiscard]] bool done() const {
        return (o_.count && printed_ >= *o_.count) || (io_.stop != nullptr && *io_.stop != 0);
    }

  private:
    void remember(const std::string& id, const json& rec) {
        if (decisions_.emplace(id, rec).second) {
            order_.push_back(id);
        }
        while (order_.size() > kFollowMemory) {
            decisions_.erase(order_.front());
            order_.pop_front();
        }
    }

    const Options& o_;
    Io& io_;
    audit_render::Context ctx_;
    audit_render::Widths widths_{};
    std::unordered_map<std::string, json> decisions_;
    std::deque<std::string> order_;
    size_t printed_ = 0;
};

// One followed file: reopened when it is replaced (rotation), reread when it shrinks (truncation).
struct Tail {
    std::string path;
    sys::UniqueFd fd;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t pos = 0;
    size_t lineno = 0;
    audit_reader::LineSplitter splitter;
};

Status open_tail(Tail& t) {
    t.fd = sys::UniqueFd(::open(t.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!t.fd.valid()) {
        return sys_error(ErrorCode::kAudit, "open(" + t.path + ")", errno);
    }
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(t.fd.get(), t.path, ErrorCode::kAudit));
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kAudit, t.path + ": follow needs a regular file");
    }
    unsigned char magic[2] = {0, 0};
    if (::pread(t.fd.get(), magic, sizeof magic, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        return make_error(ErrorCode::kUsage, t.path + ": follow reads plain files, not gzip");
    }
    t.dev = st.st_dev;
    t.ino = st.st_ino;
    t.pos = 0;
    t.lineno = 0;
    t.splitter.reset();
    return ok_status();
}

// Reads what was appended since the last call; lines go to `on_line`.
Status drain(Tail& t, const std::function<Status(std::string_view, const std::string&)>& on_line) {
    std::string buf(64 * 1024, '\0');
    Status st = ok_status();
    for (;;) {
        const ssize_t n = ::read(t.fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys_error(ErrorCode::kAudit, "read(" + t.path + ")", errno);
        }
        if (n == 0) {
            return st;
        }
        t.pos += n;
        t.splitter.feed(std::string_view(buf.data(), static_cast<size_t>(n)), [&](std::string_view line) {
            if (st.ok()) {
                st = on_line(line, t.path + ":" + std::to_string(++t.lineno));
            }
        });
        if (!st.ok()) {
            return st;
        }
    }
}

// After draining: a different file at the path (rotated) is opened from its start; a file shorter
// than what was read (truncated in place) is reread from its start.
Status check_replaced(Tail& t) {
    struct stat st {};
    if (::stat(t.path.c_str(), &st) != 0) {
        return ok_status();  // rotated away and not yet recreated: keep waiting
    }
    if (st.st_dev != t.dev || st.st_ino != t.ino) {
        return open_tail(t);
    }
    if (st.st_size < t.pos) {
        if (::lseek(t.fd.get(), 0, SEEK_SET) < 0) {
            return sys_error(ErrorCode::kAudit, "lseek(" + t.path + ")", errno);
        }
        t.pos = 0;
        t.lineno = 0;
        t.splitter.reset();
    }
    return ok_status();
}

Status follow_files(const Options& o, Io& io, Follower& fl) {
    std::vector<Tail> tails;
    const std::vector<std::string> paths = o.files.empty() ? std::vector<std::string>{o.default_file} : o.files;
    for (const auto& p : paths) {
        if (p == "-") {
            return usage("follow reads files, not stdin");
        }
        tails.emplace_back();
        tails.back().path = p;
        DIAG_TRY(open_tail(tails.back()));
    }
    // The backlog: everything already written is read (so later end records find their
    // decisions); only the last --lines records are printed.
    struct Line {
        std::string text;
        std::string origin;
    };
    std::vector<Line> backlog;
    for (auto& t : tails) {
        DIAG_TRY(drain(t, [&](std::string_view line, const std::string& origin) {
            backlog.push_back({std::string(line), origin});
            return ok_status();
        }));
    }
    fl.header();
    const size_t first_printed = backlog.size() > o.lines ? backlog.size() - o.lines : 0;
    for (size_t i = 0; i < backlog.size() && !fl.done(); ++i) {
        DIAG_TRY(fl.line(backlog[i].text, backlog[i].origin, i >= first_printed));
    }
    backlog.clear();
    auto on_line = [&](std::string_view line, const std::string& origin) -> Status {
        if (fl.done()) {
            return ok_status();
        }
        return fl.line(line, origin, true);
    };
    while (!fl.done()) {
        for (auto& t : tails) {
            DIAG_TRY(drain(t, on_line));
            DIAG_TRY(check_replaced(t));
            DIAG_TRY(drain(t, on_line));  // a replacement file's first lines, without waiting
        }
        if (fl.done()) {
            break;
        }
        ::poll(nullptr, 0, io.poll_ms);  // EINTR on SIGINT/SIGTERM: the loop sees io.stop
    }
    return ok_status();
}

Status follow_journal(const Options& o, Io& io, Follower& fl, bool& unreadable) {
    DIAG_TRY_ASSIGN(uid_t uid, audit_reader::diag_uid(o.uid, o.account, o.passwd_file));
    DIAG_TRY_ASSIGN(audit_reader::Journal j, audit_reader::Journal::start(true, o.lines, uid));
    fl.header();
    Status st = ok_status();
    while (!fl.done() && st.ok()) {
        DIAG_TRY_ASSIGN(bool more, j.poll(io.poll_ms, [&](const audit_reader::JournalEntry& e) {
            if (e.kind != audit_reader::JournalEntry::Kind::kRecord) {
                say_warning(io, audit_reader::journal_note(e));
                unreadable = unreadable || e.kind == audit_reader::JournalEntry::Kind::kUnreadable;
            } else if (st.ok() && !fl.done()) {
                st = fl.line(e.message, e.origin, true);
            }
        }));
        if (!more) {
            // journalctl -f ended on its own: say why (journald unavailable, no permission).
            DIAG_TRY_ASSIGN(auto notes, j.finish());
            for (const auto& n : notes) {
                say_warning(io, "journalctl: " + n);
            }
            return st;
        }
    }
    j.stop();
    return st;
}

int run_follow(const Options& o, Io& io) {
    Follower fl(o, io);
    bool unreadable = false;
    const Status st = o.journal ? follow_journal(o, io, fl, unreadable) : follow_files(o, io, fl);
    if (!st.ok()) {
        say_error(io, st.error());
        return kExitError;
    }
    return unreadable ? kExitUnreadable : kExitOk;
}

}  // namespace

std::string usage_text() {
    return "usage: diag-audit [--file F]... [--journal] COMMAND [options]\n"
           "\n"
           "Reads diag-wrapper audit records (read-only; root is never needed). Default input:\n"
           "/var/log/diag-wrapper/audit.jsonl and its rotations (audit.jsonl.1, audit.jsonl.*.gz).\n"
           "  --file F        an audit file, plain or gzip (repeatable; - is stdin)\n"
           "  --journal       read journald (journalctl -o json --all SYSLOG_IDENTIFIER=diag-wrapper)\n"
           "  --account NAME, --uid N   journal entries are records only from this account\n"
           "                  (default: diag, from /etc/passwd) and a diag-wrapper binary\n"
           "\n"
           "commands:\n"
           "  search          list requests (decision joined with end)\n"
           "  show ID         one request in full; ID may be a unique prefix\n"
           "  report          counts by principal, key, rule, reason, host, decision; top denied\n"
           "                  commands; keys first seen; rules never used (with --policy FILE)\n"
           "  follow          print records as they are appended (until SIGINT/SIGTERM)\n"
           "  verify          check the hash chain: gaps, forks, edits, reordering, truncation\n"
           "                  (exit 0 whole, 1 defects found, 2 usage or unreadable input)\n"
           "    --anchor SEQ:SHA256  a checkpoint kept off the host (repeatable)\n"
           "    --state FILE         the chain state file: its head must be in the trail\n"
           "\n"
           "filters (search, report, follow; a repeated flag is OR, different flags AND):\n"
           "  --since T, --until T   2026-11-23T14:00:00Z, 2026-11-23, -2h, -7d, today (UTC)\n"
           "  --decision allow|deny|error   --reason CODE   --rule ID   --principal NAME\n"
           "  --key SHA256:...  (the key, or its certificate's CA)   --source IP|CIDR\n"
           "  --command REGEX  (linear-time subset, see ADR 0009; anywhere)   --exit N|nonzero|signal\n"
           "  --incomplete     allowed requests without an end record\n"
           "\n"
           "output:\n"
           "  --format table|text|json|csv (-o)   report: text|json   show: text|json\n"
           "  --policy FILE    report: the policy whose rules to check for use\n"
           "  --top N          report: denied commands listed (default 10)\n"
           "  --lines N (-n)   follow: earlier records printed first (default 10)\n"
           "  --count N        follow: stop after N records\n"
           "\n"
           "exit status: 0 ok, 1 nothing found (search, show), 2 usage or input error,\n"
           "  3 journal entries of diag-wrapper could not be read (listed on stderr): the answer may be\n"
           "  incomplete\n";
}

Result<Options> parse_args(const std::vector<std::string>& args, int64_t now_us) {
    Options o;
    bool format_given = false;
    bool have_since = false;
    bool have_until = false;
    std::vector<std::string> positional;
    bool only_positional = false;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string a = args[i];
        std::optional<std::string> inline_value;
        if (!only_positional && a.rfind("--", 0) == 0 && a.size() > 2) {
            if (const size_t eq = a.find('='); eq != std::string::npos) {
                inline_value = a.substr(eq + 1);
                a.resize(eq);
            }
        }
        auto value = [&]() -> Result<std::string> {
            if (inline_value) {
                return *inline_value;
            }
            if (i + 1 >= args.size()) {
                return usage(a + " needs a value");
            }
            return args[++i];
        };
        if (only_positional || a.empty() || a[0] != '-' || a == "-") {
            positional.push_back(args[i]);
            continue;
        }
        if (a == "--") {
            only_positional = true;
        } else if (a == "-h" || a == "--help") {
            o.command = Command::kHelp;
            return o;
        } else if (a == "--version") {
            o.command = Command::kVersion;
            return o;
        } else if (a == "--file") {
            DIAG_TRY_ASSIGN(std::string v, value());
            o.files.push_back(v);
        } else if (a == "--journal") {
            o.journal = true;
        } else if (a == "--account") {
            DIAG_TRY_ASSIGN(o.account, value());
        } else if (a == "--uid") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(size_t n, parse_count(a, v));
            if (n > 0xFFFFFFFEu) {
                return usage("--uid: '" + v + "' is not a uid");
            }
            o.uid = static_cast<uid_t>(n);
        } else if (a == "--format" || a == "-o") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(o.format, audit_render::parse_format(v));
            format_given = true;
        } else if (a == "--since" || a == "--until") {
            DIAG_TRY_ASSIGN(std::string v, value());
            bool& seen = a == "--since" ? have_since : have_until;
            if (seen) {
                return usage(a + " given twice");
            }
            seen = true;
            auto t = audit_filter::parse_time(v, now_us);
            if (!t.ok()) {
                return usage(a + ": " + t.error().msg);
            }
            (a == "--since" ? o.filter.since_us : o.filter.until_us) = *t;
        } else if (a == "--decision") {
            DIAG_TRY_ASSIGN(std::string v, value());
            if (v != "allow" && v != "deny" && v != "error") {
                return usage("--decision: '" + v + "' is not allow, deny or error");
            }
            o.filter.decisions.push_back(v);
        } else if (a == "--reason") {
            DIAG_TRY_ASSIGN(std::string v, value());
            o.filter.reasons.push_back(v);
        } else if (a == "--rule") {
            DIAG_TRY_ASSIGN(std::string v, value());
            o.filter.rules.push_back(v);
        } else if (a == "--principal") {
            DIAG_TRY_ASSIGN(std::string v, value());
            o.filter.principals.push_back(v);
        } else if (a == "--key") {
            DIAG_TRY_ASSIGN(std::string v, value());
            if (v.empty()) {
                return usage("--key needs a fingerprint (SHA256:...)");
            }
            o.filter.keys.push_back(v);
        } else if (a == "--source") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(auto net, audit_filter::parse_cidr(v));
            o.filter.sources.push_back(net);
        } else if (a == "--command") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY(o.filter.add_command(v));
        } else if (a == "--exit") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(auto m, audit_filter::parse_exit(v));
            o.filter.exits.push_back(m);
        } else if (a == "--incomplete") {
            o.filter.incomplete = true;
        } else if (a == "--policy") {
            DIAG_TRY_ASSIGN(o.policy, value());
        } else if (a == "--top") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(o.top, parse_count(a, v));
        } else if (a == "--count") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(size_t n, parse_count(a, v));
            if (n == 0) {
                return usage("--count: must be at least 1");
            }
            o.count = n;
        } else if (a == "--anchor") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY(audit_verify::parse_anchor(v));
            o.anchors.push_back(v);
        } else if (a == "--state") {
            DIAG_TRY_ASSIGN(o.state, value());
        } else if (a == "--lines" || a == "-n") {
            DIAG_TRY_ASSIGN(std::string v, value());
            DIAG_TRY_ASSIGN(o.lines, parse_count(a, v));
        } else {
            return usage("unknown option '" + a + "'");
        }
    }
    if (positional.empty()) {
        return usage("no command (search, show, report or follow)");
    }
    const std::string cmd = positional.front();
    if (cmd == "search" || cmd == "ls") {
        o.command = Command::kSearch;
    } else if (cmd == "show") {
        o.command = Command::kShow;
    } else if (cmd == "report") {
        o.command = Command::kReport;
    } else if (cmd == "follow") {
        o.command = Command::kFollow;
    } else if (cmd == "verify") {
        o.command = Command::kVerify;
    } else if (cmd == "help") {
        o.command = Command::kHelp;
        return o;
    } else {
        return usage("unknown command '" + cmd + "' (search, show, report, follow or verify)");
    }
    const size_t want_positional = o.command == Command::kShow ? 2 : 1;
    if (positional.size() < want_positional) {
        return usage("show needs a request id (or a unique prefix of one)");
    }
    if (positional.size() > want_positional) {
        return usage("unexpected argument '" + positional[want_positional] + "'");
    }
    if (o.command == Command::kShow) {
        o.request_id = positional[1];
        if (o.request_id.empty()) {
            return usage("show needs a request id (or a unique prefix of one)");
        }
        const bool filters = o.filter.since_us || o.filter.until_us || !o.filter.only_time();
        if (filters) {
            return usage("show takes no filters");
        }
        if (format_given && o.format != Format::kText && o.format != Format::kJson) {
            return usage("show: --format text or json");
        }
    }
    if (o.command == Command::kReport && format_given && o.format == Format::kCsv) {
        return usage("report: --format text or json");
    }
    if (o.command != Command::kReport && (!o.policy.empty() || o.top != audit_report::kDefaultTop)) {
        return usage("--policy and --top are report options");
    }
    if (o.command != Command::kVerify && (!o.anchors.empty() || !o.state.empty())) {
        return usage("--anchor and --state are verify options");
    }
    if (o.command == Command::kVerify && (o.filter.since_us || o.filter.until_us || !o.filter.only_time())) {
        return usage("verify takes no filters: it checks the whole trail");
    }
    if (o.command != Command::kFollow && o.count) {
        return usage("--count is a follow option");
    }
    if (o.command == Command::kFollow && o.filter.incomplete) {
        return usage("follow: --incomplete needs the whole log (use search --incomplete)");
    }
    return o;
}

int run(const Options& o, Io& io) {
    switch (o.command) {
        case Command::kHelp:
            io.out(usage_text());
            return kExitOk;
        case Command::kVersion:
            io.out(std::string("diag-audit ") + DIAG_VERSION + "\n");
            return kExitOk;
        case Command::kFollow:
            return run_follow(o, io);
        case Command::kVerify:
            return audit_verify::run(o, io);
        case Command::kSearch:
        case Command::kShow:
        case Command::kReport:
            break;
    }
    bool unreadable = false;
    auto all = load(o, io, unreadable);
    if (!all.ok()) {
        say_error(io, all.error());
        return kExitError;
    }
    int rc = kExitOk;
    switch (o.command) {
        case Command::kShow:
            rc = run_show(o, io, *all);
            break;
        case Command::kReport:
            rc = run_report(o, io, *all);
            break;
        default:
            rc = run_search(o, io, *all);
            break;
    }
    // Unreadable entries may hold any request: neither "found nothing" nor "complete" is known.
    return unreadable && rc != kExitError ? kExitUnreadable : rc;
}

}  // namespace diag::audit_cli
