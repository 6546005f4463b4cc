// SPDX-License-Identifier: Apache-2.0
// expand() (glob.h): a path pattern, one component at a time, into the paths it names; every
// directory listed passes path resolution first, every match is resolved before it is kept.
#include "wrapper/request/glob.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "wrapper/base/deadline.h"
#include "wrapper/base/paths.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/request/path_resolve.h"

namespace diag::glob {

namespace {

using matcher::PathRef;
using path_resolve::Use;

std::string q(std::string_view s) { return "'" + text_safety::printable(s, 200) + "'"; }

// The components between slashes, empty ones included, so matches keep the pattern's spelling.
std::vector<std::string> split(std::string_view pattern) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t slash = pattern.find('/'); slash != std::string_view::npos; slash = pattern.find('/', start)) {
        out.emplace_back(pattern.substr(start, slash - start));
        start = slash + 1;
    }
    out.emplace_back(pattern.substr(start));
    return out;
}

// A refusal that must stop the request rather than withhold one path: not a denial of that path
// (an internal error), or the deadline, which would only pass again for the next.
bool stops_request(const Error& e) { return e.code != ErrorCode::kDenied || e.reason == deadline::kReason; }

// One glob word on its way through the file system.
class Expansion {
  public:
    Expansion(const policy::Deny& deny, const PathRef& ref, Budget& budget) : deny_(deny), ref_(ref), budget_(budget) {}

    // The kept matches, sorted; withheld ones go to `withheld`.
    Result<std::vector<std::string>> run(std::vector<Withheld>& withheld);

  private:
    Status list_level(const std::string& comp, bool first_component, bool first_listing);
    Status list_dir(const std::string& dir, const std::string& comp, bool first_listing, bool first_component,
                    std::vector<std::string>& found);
    Status read_entries(int dirfd, const std::string& dir, const std::string& comp, std::vector<std::string>& found);
    Status check_count(size_t n) const;
    Status withhold(const std::string& path, Error e);
    Result<std::vector<std::string>> resolve_matches(bool literal_tail, bool dirs_only);
    Error all_withheld() const;

    const policy::Deny& deny_;
    const PathRef& ref_;
    Budget& budget_;
    std::vector<std::string> cands_{""};  // the paths named so far, as spelled
    std::vector<Withheld> withheld_;
    std::optional<Error> first_withheld_;
};

Status Expansion::check_count(size_t n) const {
    if (n > kMaxMatchesPerWord) {
        return deny("glob-limit", q(ref_.pattern) + " matches more than " + std::to_string(kMaxMatchesPerWord) +
                                      " paths (name fewer)");
    }
    return ok_status();
}

Status Expansion::withhold(const std::string& path, Error e) {
    if (stops_request(e)) {
        return e;
    }
    withheld_.push_back({path, e.reason, ref_.sensitive});
    if (!first_withheld_) {
        first_withheld_ = std::move(e);
    }
    return ok_status();
}

// The names in the open directory `dirfd` that `comp` matches, appended to `found` after `dir`
// (as spelled, with its separator; "" for the first component of a relative pattern). As in a
// shell, `*`, `?` and brackets never match a leading '.', and "." and ".." never match.
Status Expansion::read_entries(int dirfd, const std::string& dir, const std::string& comp,
                               std::vector<std::string>& found) {
    std::unique_ptr<DIR, int (*)(DIR*)> d(::fdopendir(dirfd), ::closedir);
    if (!d) {
        const int err = errno;
        ::close(dirfd);
        return sys_error(ErrorCode::kInternal, "fdopendir(" + text_safety::printable(dir) + ")", err);
    }
    errno = 0;
    while (const struct dirent* e = ::readdir(d.get())) {
        // A directory another account fills is as long as it likes: the deadline and a cap bound it.
        DIAG_TRY(deadline::check("listing a directory for a glob"));
        if (++budget_.entries > kMaxEntriesRead) {
            return deny("glob-limit", q(ref_.pattern) + ": more than " + std::to_string(kMaxEntriesRead) +
                                          " directory entries read for this request");
        }
        const std::string_view name = e->d_name;
        if (name != "." && name != ".." && ::fnmatch(comp.c_str(), e->d_name, FNM_PERIOD) == 0) {
            found.push_back(dir + e->d_name);
        }
        errno = 0;
    }
    if (errno != 0) {
        return sys_error(ErrorCode::kInternal, "readdir(" + text_safety::printable(dir) + ")", errno);
    }
    return ok_status();
}

// Lists `dir` (a candidate, as spelled; "" is the root) for `comp`. Listing is reading: the
// directory is resolved as content first. The first directory listed is what the request names,
// so any refusal of it refuses the request; a directory a glob matched is withheld when refused,
// and passed over when it is not a directory or is gone, as a shell passes over it.
Status Expansion::list_dir(const std::string& dir, const std::string& comp, bool first_listing, bool first_component,
                           std::vector<std::string>& found) {
    auto r = path_resolve::resolve(deny_, dir.empty() ? "/" : dir, Use::kContent, {});
    if (!r.ok()) {
        if (first_listing || stops_request(r.error())) {
            return std::move(r).error();
        }
        return r.error().reason == "path-not-found" ? ok_status() : withhold(dir, std::move(r).error());
    }
    if (!S_ISDIR(r->mode)) {
        return ok_status();
    }
    // The very object resolve() checked, never its path again: nothing can be swapped in between.
    const int fd = ::openat(r->object.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return sys_error(ErrorCode::kInternal, "openat(" + text_safety::printable(dir) + ", O_DIRECTORY)", errno);
    }
    return read_entries(fd, first_component ? dir : dir + "/", comp, found);
}

Status Expansion::list_level(const std::string& comp, bool first_component, bool first_listing) {
    std::vector<std::string> found;
    for (const auto& dir : cands_) {
        DIAG_TRY(list_dir(dir, comp, first_listing, first_component, found));
        DIAG_TRY(check_count(found.size()));
    }
    cands_ = std::move(found);
    return ok_status();
}

// Every candidate resolved as the argument's own use and roots: kept, withheld, or passed over
// when a literal tail after a glob names nothing (`/home/*/.profile` where one has none).
Result<std::vector<std::string>> Expansion::resolve_matches(bool literal_tail, bool dirs_only) {
    std::sort(cands_.begin(), cands_.end());  // byte order, as strcmp: std::string compares as memcmp
    DIAG_TRY(check_count(cands_.size()));
    budget_.matches += cands_.size();
    if (budget_.matches > kMaxMatchesTotal) {
        return deny("glob-limit", "the globs of this request match more than " + std::to_string(kMaxMatchesTotal) +
                                      " paths (name fewer)");
    }
    std::vector<std::string> kept;
    for (const auto& c : cands_) {
        auto r = path_resolve::resolve(deny_, c, ref_.use, ref_.roots, ref_.prune);
        if (!r.ok()) {
            if (!(literal_tail && r.error().reason == "path-not-found")) {
                DIAG_TRY(withhold(c, std::move(r).error()));
            }
            continue;
        }
        if (!dirs_only || S_ISDIR(r->mode)) {
            kept.push_back(c);
        }
    }
    return kept;
}

Error Expansion::all_withheld() const {
    Error e = *first_withheld_;
    e.msg = q(ref_.pattern) + ": no match may be used (" + std::to_string(withheld_.size()) +
            " withheld); the first: " + e.msg;
    return e;
}

Result<std::vector<std::string>> Expansion::run(std::vector<Withheld>& withheld) {
    const std::vector<std::string> comps = split(ref_.pattern);
    bool listed = false;        // a component was matched against a listing
    bool literal_tail = false;  // a literal component followed the last one listed
    for (size_t k = 0; k < comps.size(); ++k) {
        if (util::has_glob(comps[k])) {  // else taken literally
            DIAG_TRY(list_level(comps[k], k == 0, !listed));
            listed = true;
            literal_tail = false;
            continue;
        }
        const std::string lit = util::glob_unescape(comps[k]);
        for (auto& c : cands_) {
            c += (k == 0 ? "" : "/") + lit;
        }
        literal_tail = listed;
    }
    // "dir/*/" names directories only, as in a shell.
    const bool dirs_only = listed && comps.size() > 1 && comps.back().empty();
    DIAG_TRY_ASSIGN(auto kept, resolve_matches(literal_tail, dirs_only));
    withheld.insert(withheld.end(), withheld_.begin(), withheld_.end());
    if (kept.empty()) {
        if (first_withheld_) {
            return all_withheld();
        }
        return deny("glob-no-match", q(ref_.pattern) + " matches nothing (quote it to name a file literally)");
    }
    if (kept.size() > ref_.max_matches) {
        return deny("glob-limit",
                    q(ref_.pattern) + " matches " + std::to_string(kept.size()) + " paths; " +
                        (ref_.option_value ? std::string("an option's value must match exactly one")
                                           : "this argument takes at most " + std::to_string(ref_.max_matches)));
    }
    return kept;
}

// The words the kept matches become, checked against the byte cap.
Status count_bytes(const PathRef& ref, const std::vector<std::string>& kept, Budget& budget) {
    for (const auto& k : kept) {
        budget.bytes += ref.prefix.size() + k.size() + 1;
    }
    if (budget.bytes > kMaxMatchBytes) {
        return deny("glob-limit", "the globs of this request expand to more than " + std::to_string(kMaxMatchBytes) +
                                      " bytes of arguments (name fewer)");
    }
    return ok_status();
}

// Each glob word of `m` replaced by its kept matches (`kept`, by exec_args index), one PathRef
// per match in the place of its glob's, later indexes (paths and options) shifted.
void rewrite(matcher::Match& m, const std::vector<std::optional<std::vector<std::string>>>& kept) {
    std::vector<std::string> prefix(m.exec_args.size());
    for (const auto& ref : m.paths) {
        prefix[ref.index] = ref.prefix;
    }
    std::vector<std::string> args;
    std::vector<size_t> start(m.exec_args.size());  // where each old word now starts
    for (size_t i = 0; i < m.exec_args.size(); ++i) {
        start[i] = args.size();
        if (!kept[i]) {
            args.push_back(std::move(m.exec_args[i]));
            continue;
        }
        for (const auto& path : *kept[i]) {
            args.push_back(prefix[i] + path);
        }
    }
    std::vector<PathRef> paths;
    for (auto& ref : m.paths) {
        const size_t old = ref.index;
        ref.index = start[old];
        if (!ref.glob) {
            paths.push_back(std::move(ref));
            continue;
        }
        for (size_t j = 0; j < kept[old]->size(); ++j) {
            PathRef one = ref;
            one.index = start[old] + j;
            one.input = (*kept[old])[j];
            one.glob = false;
            one.pattern.clear();
            paths.push_back(std::move(one));
        }
    }
    for (auto& o : m.options) {
        o.index = start[o.index];
    }
    m.exec_args = std::move(args);
    m.paths = std::move(paths);
}

// Every operand of one positional spec together, globs expanded, within the spec's maximum: each
// glob word alone keeps to what its spec still takes (max_matches), but two of them could
// together give the program more operands than the rule allows.
Status check_operand_counts(const matcher::Match& m, const std::vector<std::optional<std::vector<std::string>>>& kept) {
    std::map<const policy::PositionalSpec*, size_t> words;
    for (const auto& ref : m.paths) {
        if (ref.operand == nullptr) {
            continue;
        }
        size_t& n = words[ref.operand];
        n += ref.glob && kept[ref.index] ? kept[ref.index]->size() : 1;
        if (n > ref.operand->max) {
            return deny("glob-limit", "the globs expand to more than the " + std::to_string(ref.operand->max) +
                                          " argument(s) the rule takes");
        }
    }
    return ok_status();
}

}  // namespace

Result<std::vector<Withheld>> expand(const policy::Deny& deny, matcher::Match& m, Budget& budget) {
    for (const auto& ref : m.paths) {
        if (ref.index >= m.exec_args.size()) {
            return make_error(ErrorCode::kInternal, "glob: a path argument's index is out of range");
        }
    }
    std::vector<Withheld> withheld;
    std::vector<std::optional<std::vector<std::string>>> kept(m.exec_args.size());
    for (const auto& ref : m.paths) {
        if (ref.glob) {
            Expansion word(deny, ref, budget);
            DIAG_TRY_ASSIGN(auto matches, word.run(withheld));
            DIAG_TRY(count_bytes(ref, matches, budget));
            kept[ref.index] = std::move(matches);
        }
    }
    DIAG_TRY(check_operand_counts(m, kept));
    rewrite(m, kept);
    return withheld;
}

}  // namespace diag::glob
