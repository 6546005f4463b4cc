// SPDX-License-Identifier: Apache-2.0
// diag-audit follow: the Follower joins records into rows as they come; files are tailed across
// rotation and truncation, the journal through journalctl -f.
#include "wrapper/audit/follow.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "wrapper/audit/fields.h"
#include "wrapper/audit/filter.h"
#include "wrapper/audit/join.h"
#include "wrapper/audit/journal.h"
#include "wrapper/audit/reader.h"
#include "wrapper/audit/render.h"
#include "wrapper/base/sys.h"
#include "wrapper/record/schema.h"

namespace diag::audit_follow {

using audit_cli::Io;
using audit_cli::Options;
using audit_cli::say_error;
using audit_cli::say_warning;
using audit_reader::Request;
using audit_render::Format;
using nlohmann::json;

namespace {

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
        const std::string id = audit_reader::get_string(rec, {audit_schema::kDiag, audit_schema::kRequestId});
        Request r;
        if (kind == audit_schema::kActionDecision) {
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
        while (order_.size() > kMemory) {
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
            return make_error(ErrorCode::kUsage, "follow reads files, not stdin");
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

}  // namespace

int run(const Options& o, Io& io) {
    Follower fl(o, io);
    bool unreadable = false;
    const Status st = o.journal ? follow_journal(o, io, fl, unreadable) : follow_files(o, io, fl);
    if (!st.ok()) {
        say_error(io, st.error());
        return audit_cli::kExitError;
    }
    return unreadable ? audit_cli::kExitUnreadable : audit_cli::kExitOk;
}

}  // namespace diag::audit_follow
