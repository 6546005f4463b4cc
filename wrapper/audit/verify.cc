// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/verify.h"

#include <fcntl.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "wrapper/audit/fields.h"
#include "wrapper/audit/journal.h"
#include "wrapper/audit/reader.h"
#include "wrapper/audit/render.h"
#include "wrapper/base/parse.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/record/chain.h"
#include "wrapper/record/schema.h"

namespace diag::audit_verify {

namespace {

using nlohmann::json;
namespace schema = audit_schema;

struct Entry {
    const Line* line;
    size_t source;
    std::string chain;
    uint64_t seq;
    std::string prev;
    std::string hash;
    std::optional<std::pair<uint64_t, std::string>> checkpoint;  // (seq, head) it seals
};

// The chain fields of one line, or why it has none. Every field is read leniently (fields.h): a
// missing or mistyped field makes the line unchained, never a lookup of an absent key.
Result<Entry> read_entry(const Line& line, size_t source) {
    const json rec = json::parse(line.text, nullptr, false);
    if (rec.is_discarded() || !rec.is_object()) {
        return make_error(ErrorCode::kAudit, line.where + ": not a JSON object (a torn or altered line)");
    }
    const json* id = audit_reader::find(rec, {schema::kDiag, schema::kChain, schema::kChainId});
    const json* seq = audit_reader::find(rec, {schema::kDiag, schema::kChain, schema::kChainSeq});
    const json* prev = audit_reader::find(rec, {schema::kDiag, schema::kChain, schema::kChainPrev});
    if (id == nullptr || !id->is_string() || seq == nullptr || !seq->is_number_unsigned() || prev == nullptr ||
        !prev->is_string()) {
        return make_error(ErrorCode::kAudit, line.where +
                                                 ": a record without a chain place (forged, or written "
                                                 "by a wrapper without audit.chain)");
    }
    if (seq->get<uint64_t>() == 0) {
        return make_error(ErrorCode::kAudit, line.where + ": seq 0, which is no place in a chain (places start at 1)");
    }
    Entry e{&line,
            source,
            id->get<std::string>(),
            seq->get<uint64_t>(),
            prev->get<std::string>(),
            sha256_hex(line.text),
            std::nullopt};
    if (audit_reader::get_string(rec, {schema::kEvent, schema::kAction}) == schema::kActionCheckpoint) {
        const json* sealed = audit_reader::find(rec, {schema::kDiag, schema::kCheckpoint, schema::kCheckpointSeq});
        const json* head = audit_reader::find(rec, {schema::kDiag, schema::kCheckpoint, schema::kCheckpointHead});
        if (sealed != nullptr && sealed->is_number_unsigned() && head != nullptr && head->is_string()) {
            e.checkpoint = {sealed->get<uint64_t>(), head->get<std::string>()};
        }
    }
    return e;
}

std::string range(uint64_t a, uint64_t b) {
    return a == b ? "seq " + std::to_string(a) : "seq " + std::to_string(a) + ".." + std::to_string(b);
}

// The records of one chain by sequence number; a record read twice (same hash) is kept once.
using BySeq = std::map<uint64_t, std::vector<const Entry*>>;
// Per source: the highest sequence number read so far, and its record.
using LastInSource = std::map<size_t, std::pair<uint64_t, const Entry*>>;

BySeq index_by_seq(const std::vector<const Entry*>& entries) {
    BySeq by_seq;
    for (const Entry* e : entries) {
        auto& same = by_seq[e->seq];
        const bool known = std::any_of(same.begin(), same.end(), [&](const Entry* o) { return o->hash == e->hash; });
        if (!known) {
            same.push_back(e);
        }
    }
    return by_seq;
}

// Forks: one place, two records.
void check_forks(const BySeq& by_seq, Report& r) {
    for (const auto& [seq, recs] : by_seq) {
        if (recs.size() > 1) {
            std::string where;
            for (const Entry* e : recs) {
                where += (where.empty() ? "" : ", ") + e->line->where;
            }
            r.defects.push_back({"fork", "seq " + std::to_string(seq) + " has " + std::to_string(recs.size()) +
                                             " different records: " + where});
        }
    }
}

// Order within each source, and a record repeated in one source. Returns where each source ends.
LastInSource check_order(const std::vector<const Entry*>& entries, Report& r) {
    LastInSource last_in_source;
    std::set<std::pair<size_t, std::string>> seen;
    for (const Entry* e : entries) {
        if (!seen.insert({e->source, e->hash}).second) {
            r.defects.push_back({"order", e->line->where + ": seq " + std::to_string(e->seq) + " appears again"});
            continue;
        }
        auto it = last_in_source.find(e->source);
        if (it != last_in_source.end() && e->seq < it->second.first) {
            r.defects.push_back({"order", e->line->where + ": seq " + std::to_string(e->seq) + " comes after seq " +
                                              std::to_string(it->second.first) + " (" + it->second.second->line->where +
                                              ")"});
        }
        if (it == last_in_source.end() || e->seq > it->second.first) {
            last_in_source[e->source] = {e->seq, e};
        }
    }
    return last_in_source;
}

// Gaps and links: every place from the first to the last is taken, and each record names the
// hash of the one before it (the first, the genesis value).
void check_links(const BySeq& by_seq, const std::string& id, Report& r) {
    const uint64_t first = by_seq.begin()->first;
    if (first > 1) {
        r.notes.push_back("chain " + id + " starts at seq " + std::to_string(first) +
                          " (earlier records are not in these inputs: rotated away, or deleted)");
    }
    uint64_t expect = first;
    for (const auto& [seq, recs] : by_seq) {
        if (seq > expect) {
            r.defects.push_back(
                {"gap", range(expect, seq - 1) + " missing (before " + recs.front()->line->where + ")"});
        }
        expect = seq + 1;
        if (recs.size() != 1) {
            continue;  // reported as a fork
        }
        const Entry* e = recs.front();
        if (seq == 1 && e->prev != schema::kGenesisPrev) {
            r.defects.push_back(
                {"edit", e->line->where + ": seq 1 does not start the chain (prev is not the genesis value)"});
        }
        const auto before = by_seq.find(seq - 1);
        if (seq > 1 && before != by_seq.end() && before->second.size() == 1 &&
            before->second.front()->hash != e->prev) {
            r.defects.push_back({"edit", "seq " + std::to_string(seq - 1) + " (" + before->second.front()->line->where +
                                             ") does not hash to what seq " + std::to_string(seq) + " (" +
                                             e->line->where + ") names as its predecessor: one of them was altered"});
        }
    }
}

// Checkpoints: each fixes the hash of the record it seals. Returns the seq of the last one (0: none).
uint64_t check_checkpoints(const BySeq& by_seq, Report& r) {
    uint64_t last_checkpoint = 0;
    for (const auto& [seq, recs] : by_seq) {
        for (const Entry* e : recs) {
            if (!e->checkpoint) {
                continue;
            }
            last_checkpoint = std::max(last_checkpoint, seq);
            const auto sealed = by_seq.find(e->checkpoint->first);
            if (sealed != by_seq.end() && sealed->second.size() == 1 &&
                sealed->second.front()->hash != e->checkpoint->second) {
                r.defects.push_back({"edit", "seq " + std::to_string(e->checkpoint->first) + " (" +
                                                 sealed->second.front()->line->where +
                                                 ") is not the record the checkpoint at seq " + std::to_string(seq) +
                                                 " sealed"});
            }
        }
    }
    return last_checkpoint;
}

// Truncation: an input that stops before the others, an anchor beyond the end (or naming
// another record than the one at its place).
void check_truncation(const BySeq& by_seq, const LastInSource& last_in_source, const std::vector<Source>& sources,
                      const std::vector<Anchor>& anchors, const std::string& id, Report& r) {
    const uint64_t last = by_seq.rbegin()->first;
    for (const auto& [source, at] : last_in_source) {
        if (at.first < last) {
            r.defects.push_back({"truncated", sources[source].name + " ends at seq " + std::to_string(at.first) +
                                                  "; other inputs go on to seq " + std::to_string(last)});
        }
    }
    for (const Anchor& a : anchors) {
        if (!a.chain.empty() && a.chain != id) {
            continue;
        }
        const auto at = by_seq.find(a.seq);
        const uint64_t first = by_seq.begin()->first;
        if (a.seq < first) {
            r.defects.push_back({"truncated", "the trail starts at seq " + std::to_string(first) + " but " + a.from +
                                                  " shows seq " + std::to_string(a.seq) + ": " +
                                                  range(a.seq, first - 1) +
                                                  " not in these inputs (give the rotated files too)"});
        }
        // The record after the anchored one names it: a trail rewritten from there on, with the
        // anchored record itself gone, still shows.
        const auto next = by_seq.find(a.seq + 1);
        if (next != by_seq.end() && next->second.size() == 1 && next->second.front()->prev != a.hash) {
            r.defects.push_back({"fork", "seq " + std::to_string(a.seq + 1) + " (" + next->second.front()->line->where +
                                             ") names another predecessor than the record " + a.from + " names"});
        }
        if (a.seq > last) {
            r.defects.push_back({"truncated", "the trail ends at seq " + std::to_string(last) + " but " + a.from +
                                                  " shows seq " + std::to_string(a.seq) + ": " +
                                                  range(last + 1, a.seq) + " missing at the end"});
        } else if (at != by_seq.end() && std::none_of(at->second.begin(), at->second.end(),
                                                      [&](const Entry* e) { return e->hash == a.hash; })) {
            r.defects.push_back({"fork", "seq " + std::to_string(a.seq) + " (" + at->second.front()->line->where +
                                             ") is not the record " + a.from + " names"});
        }
    }
}

// Checks one chain; `entries` in reading order (sources one after the other).
void check_chain(const std::vector<const Entry*>& entries, const std::vector<Source>& sources,
                 const std::vector<Anchor>& anchors, Report& r) {
    const BySeq by_seq = index_by_seq(entries);
    const std::string& id = entries.front()->chain;
    check_forks(by_seq, r);
    const LastInSource last_in_source = check_order(entries, r);
    check_links(by_seq, id, r);
    const uint64_t last_checkpoint = check_checkpoints(by_seq, r);
    check_truncation(by_seq, last_in_source, sources, anchors, id, r);
    const uint64_t first = by_seq.begin()->first;
    const uint64_t last = by_seq.rbegin()->first;
    r.notes.push_back("chain " + id + ": " + range(first, last) +
                      (last_checkpoint == 0 ? ", no checkpoint yet"
                                            : ", last checkpoint at seq " + std::to_string(last_checkpoint) + "; " +
                                                  std::to_string(last - last_checkpoint) +
                                                  " record(s) after it are not sealed by a checkpoint yet"));
}

// Every line of a file, plain or gzip (the reader's stream: bytes after the last gzip member are
// an error, as for search), with its exact bytes.
Status read_lines(const std::string& path, Source& into) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return sys_error(ErrorCode::kAudit, "open(" + path + ")", errno);
    }
    const sys::UniqueFd guard(fd);
    // A line longer than any record (audit_reader::kMaxLineBytes) is not kept: it is reported by
    // where it is, and its bytes are skipped up to the next newline. Each byte is scanned once.
    std::string pending;
    bool oversized = false;  // inside a line already known to be too long
    size_t number = 0;
    DIAG_TRY(audit_reader::stream_fd(fd, path, [&](std::string_view chunk) {
        size_t from = 0;
        for (size_t nl = chunk.find('\n'); from < chunk.size(); nl = chunk.find('\n', from)) {
            const std::string_view piece = chunk.substr(from, nl == std::string_view::npos ? nl : nl - from);
            if (!oversized && pending.size() + piece.size() > audit_reader::kMaxLineBytes) {
                oversized = true;
                pending.clear();
            }
            if (!oversized) {
                pending.append(piece);
            }
            if (nl == std::string_view::npos) {
                break;
            }
            ++number;
            into.lines.push_back({std::move(pending), path + ":" + std::to_string(number), oversized});
            pending.clear();
            oversized = false;
            from = nl + 1;
        }
    }));
    if (!pending.empty() || oversized) {  // a torn last line: kept, and reported as unreadable
        into.lines.push_back({pending, path + ":" + std::to_string(number + 1), oversized});
    }
    return ok_status();
}

// The --anchor values, then the state file's head (an empty state file has none).
Result<std::vector<Anchor>> read_anchors(const audit_cli::Options& o) {
    std::vector<Anchor> anchors;
    for (const auto& text : o.anchors) {
        DIAG_TRY_ASSIGN(Anchor a, parse_anchor(text));
        anchors.push_back(std::move(a));
    }
    if (!o.state.empty()) {
        const auto text = sys::read_small_file(o.state, audit_chain::kMaxStateBytes);
        if (!text) {
            return make_error(ErrorCode::kAudit, "cannot read the chain state " + o.state);
        }
        if (!text->empty()) {
            DIAG_TRY_ASSIGN(auto s, audit_chain::parse_state(*text, o.state));
            anchors.push_back({s.seq, s.head, s.id, "the state file " + o.state});
        }
    }
    return anchors;
}

// The files (--file, else the default file and its rotations, unless only --journal is read)
// as one source, in order.
Status add_file_source(const audit_cli::Options& o, std::vector<Source>& sources) {
    std::vector<std::string> files = o.files;
    if (files.empty() && !o.journal) {
        DIAG_TRY_ASSIGN(files, audit_reader::default_files(o.default_file));
    }
    if (!files.empty()) {
        Source s{files.size() == 1 ? files.front() : files.front() + " (and rotations)", {}};
        for (const auto& f : files) {
            DIAG_TRY(read_lines(f, s));
        }
        sources.push_back(std::move(s));
    }
    return ok_status();
}

// The journal as one source. Entries sent by another account or program, or unreadable, are not
// part of the chain: their origins go to `foreign`.
Status add_journal_source(const audit_cli::Options& o, std::vector<Source>& sources,
                          std::vector<std::string>& foreign) {
    DIAG_TRY_ASSIGN(uid_t uid, audit_reader::diag_uid(o.uid, o.account, o.passwd_file));
    DIAG_TRY_ASSIGN(audit_reader::Journal j, audit_reader::Journal::start(false, 0, uid));
    Source s{"the journal", {}};
    for (;;) {
        DIAG_TRY_ASSIGN(bool more, j.poll(1000, [&](const audit_reader::JournalEntry& e) {
            if (e.kind == audit_reader::JournalEntry::Kind::kRecord) {
                s.lines.push_back({e.message, e.origin});
            } else {
                foreign.push_back(e.origin);
            }
        }));
        if (!more) {
            break;
        }
    }
    DIAG_TRY(j.finish());
    sources.push_back(std::move(s));
    return ok_status();
}

}  // namespace

Result<Anchor> parse_anchor(std::string_view text) {
    const size_t colon = text.find(':');
    const auto seq = colon == std::string_view::npos ? std::nullopt : util::parse_int(text.substr(0, colon));
    const std::string_view hash = colon == std::string_view::npos ? "" : text.substr(colon + 1);
    if (!seq || *seq <= 0 || text[0] == '+' || hash.size() != 64 ||
        hash.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
        return make_error(ErrorCode::kUsage, "--anchor: '" + std::string(text) +
                                                 "' is not SEQ:SHA256 (a checkpoint's diag.checkpoint.seq and .head)");
    }
    Anchor a;
    a.seq = static_cast<uint64_t>(*seq);
    a.hash = std::string(hash);
    a.from = "--anchor " + std::string(text);
    return a;
}

Report verify(const std::vector<Source>& sources, const std::vector<Anchor>& anchors) {
    Report r;
    std::vector<Entry> entries;
    for (size_t s = 0; s < sources.size(); ++s) {
        for (const Line& line : sources[s].lines) {
            if (line.oversized) {
                r.defects.push_back({"unchained", line.where + ": longer than " +
                                                      std::to_string(audit_reader::kMaxLineBytes) +
                                                      " bytes, which no record is"});
                continue;
            }
            if (line.text.empty()) {
                continue;
            }
            auto e = read_entry(line, s);
            if (!e.ok()) {
                r.defects.push_back({"unchained", e.error().msg});
                continue;
            }
            entries.push_back(std::move(e).value());
        }
    }
    r.records = entries.size();
    std::vector<std::string> order;  // chain ids, first seen first
    std::map<std::string, std::vector<const Entry*>> chains;
    for (const Entry& e : entries) {
        auto& list = chains[e.chain];
        if (list.empty()) {
            order.push_back(e.chain);
        }
        list.push_back(&e);
    }
    for (size_t i = 1; i < order.size(); ++i) {
        r.defects.push_back({"restart", "chain " + order[i] + " starts at " + chains[order[i]].front()->line->where +
                                            " after chain " + order[i - 1] + ": the chain state was reset"});
    }
    for (size_t i = 0; i < order.size(); ++i) {
        // An anchor without a chain id belongs to the newest chain.
        std::vector<Anchor> mine;
        for (const Anchor& a : anchors) {
            if (a.chain == order[i] || (a.chain.empty() && i + 1 == order.size())) {
                Anchor b = a;
                b.chain = order[i];
                mine.push_back(b);
            }
        }
        check_chain(chains[order[i]], sources, mine, r);
    }
    if (entries.empty()) {
        for (const Anchor& a : anchors) {
            r.defects.push_back(
                {"truncated", "no chained record, but " + a.from + " shows seq " + std::to_string(a.seq)});
        }
    }
    return r;
}

int run(const audit_cli::Options& o, audit_cli::Io& io) {
    auto fail = [&](const Error& e) {
        io.err("diag-audit: error: " + audit_render::escape(e.describe()) + "\n");
        return kExitUnreadable;
    };
    auto anchors = read_anchors(o);
    if (!anchors.ok()) {
        return fail(anchors.error());
    }
    std::vector<Source> sources;
    if (auto st = add_file_source(o, sources); !st.ok()) {
        return fail(st.error());
    }
    std::vector<std::string> foreign;  // journal entries another program sent under our name
    if (o.journal) {
        if (auto st = add_journal_source(o, sources, foreign); !st.ok()) {
            return fail(st.error());
        }
        for (const auto& where : foreign) {
            io.out("verify: unchained: " + audit_render::escape(where) +
                   ": not a record of the diag account's wrapper (or unreadable)\n");
        }
    }
    const Report r = verify(sources, *anchors);
    for (const auto& d : r.defects) {
        io.out("verify: " + d.kind + ": " + audit_render::escape(d.text) + "\n");
    }
    for (const auto& n : r.notes) {
        io.out("verify: note: " + audit_render::escape(n) + "\n");
    }
    const size_t defects = r.defects.size() + foreign.size();
    io.out("verify: " + std::to_string(r.records) + " chained record(s): " +
           (defects == 0 ? std::string("the trail is whole") : std::to_string(defects) + " defect(s)") + "\n");
    return defects == 0 ? kExitWhole : kExitDefects;
}

}  // namespace diag::audit_verify
