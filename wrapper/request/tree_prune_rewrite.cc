// SPDX-License-Identifier: Apache-2.0
// apply(): the rewrite of a stage whose tree operands hold denied paths, per program (tree_prune.h,
// adr/0016). Every rewrite keeps the request's own meaning and adds only what skips the denied
// paths; each keeps the stage's path and option indexes pointing at the words they name.
#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "wrapper/base/paths.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/policy/prune_rules.h"
#include "wrapper/request/tree_prune.h"

namespace diag::tree_prune {

namespace {

using decision::Stage;
using Words = std::vector<std::string>;

std::string q(const std::string& s) { return "'" + text_safety::printable(s, 200) + "'"; }

// One tree operand of the stage and what lies below it.
struct Tree {
    size_t ref = 0;  // into s.match.paths and s.resolved
    Survey survey;
};

// The stage's exec args rebuilt: `moved[i]` is where old word i now stands (for a word replaced
// by several, the first of them), so that paths and options keep naming their words.
void rebuild(Stage& s, Words args, const std::vector<size_t>& moved) {
    for (auto& ref : s.match.paths) {
        ref.index = moved[ref.index];
    }
    for (auto& o : s.match.options) {
        o.index = moved[o.index];
    }
    s.match.exec_args = std::move(args);
}

// Words put in front of the program's own (options both grep and du read before any operand).
void put_first(Stage& s, const Words& front) {
    Words args = front;
    std::vector<size_t> moved;
    for (const auto& a : s.match.exec_args) {
        moved.push_back(args.size());
        args.push_back(a);
    }
    rebuild(s, std::move(args), moved);
}

std::vector<std::string> values_of(const Stage& s, std::initializer_list<const char*> names) {
    std::vector<std::string> out;
    for (const auto& o : s.match.options) {
        if (o.value &&
            std::find_if(names.begin(), names.end(), [&](const char* n) { return o.name == n; }) != names.end()) {
            out.push_back(*o.value);
        }
    }
    return out;
}

// ---- find -------------------------------------------------------------------------------------

// One path find must prune, as a pattern of -path (escaped literal or deny glob), split.
struct Item {
    std::vector<std::string> comps;
    bool glob = false;
};

// find's -path lets '*', '?' and '[' match '/', where a deny glob matches within one component. A
// match with exactly as many '/' as the pattern has is one where no wildcard took a '/': so a
// glob is tested together with "fewer than n+1 slashes", -not -path '/*/*...' (n+1 times).
Words test(const Item& it) {
    const std::string text = util::join_path(it.comps);
    if (!it.glob) {
        return {"-path", text};
    }
    std::string more;
    for (size_t i = 0; i <= it.comps.size(); ++i) {
        more += "/*";
    }
    return {"(", "-path", text, "-not", "-path", more, ")"};
}

// The items as one disjunction. GNU find reorders the operands of -a and -o by its own estimates
// (at every -O level), so grouping them behind a shared prefix test saves nothing: it is flat, and
// prune_items() keeps it short.
Words disjunction(const std::vector<Item>& items) {
    Words out;
    for (const auto& it : items) {
        if (!out.empty()) {
            out.emplace_back("-o");
        }
        const Words t = test(it);
        out.insert(out.end(), t.begin(), t.end());
    }
    return out;
}

// Whether a deny pattern can name anything while the program runs: its literal leading directory
// exists (a literal pattern: the path itself; cannot be told: kept), and with -xdev that directory
// is not inside every start point on another file system (find -xdev does not cross into it: /proc
// and /sys from /, /home on its own volume). A pattern whose literal directory is at or above a
// start point, or elsewhere, is kept.
bool can_meet(const std::string& pattern, bool xdev, const std::vector<std::pair<std::string, dev_t>>& starts) {
    const auto comps = util::split_path(pattern);
    size_t plain = 0;
    while (plain < comps.size() && !util::has_glob(comps[plain])) {
        ++plain;
    }
    std::vector<std::string> lit;
    for (size_t i = 0; i < plain; ++i) {
        lit.push_back(util::glob_unescape(comps[i]));
    }
    const std::string dir = util::join_path(lit);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        return errno != ENOENT && errno != ENOTDIR;
    }
    if (!xdev || plain == comps.size()) {
        return true;  // a literal pattern names a path find visits even at a mount point
    }
    return std::any_of(starts.begin(), starts.end(),
                       [&](const auto& s) { return !(util::path_within(dir, s.first) && st.st_dev != s.second); });
}

// An ASCII path one of `globs` matches component by component: find's -path (with the slash
// guard) matches it the same way in any locale, so it needs no test of its own.
bool covered_ascii(const std::string& path, const std::vector<Item>& globs) {
    if (std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        return false;
    }
    const auto comps = util::split_path(path);
    return std::any_of(globs.begin(), globs.end(), [&](const Item& g) {
        if (g.comps.size() != comps.size()) {
            return false;
        }
        for (size_t i = 0; i < comps.size(); ++i) {
            if (::fnmatch(g.comps[i].c_str(), comps[i].c_str(), 0) != 0) {
                return false;
            }
        }
        return true;
    });
}

// The deny patterns below the trees that can be met (can_meet), as the program sees them.
std::vector<std::string> live_patterns(const Stage& s, const std::vector<Tree>& trees, bool xdev) {
    std::vector<std::pair<std::string, dev_t>> starts;
    for (const auto& t : trees) {
        starts.emplace_back(s.resolved[t.ref].canonical, s.resolved[t.ref].dev);
    }
    std::vector<std::string> out;
    for (const auto& t : trees) {
        for (const auto& p : t.survey.patterns) {
            if (std::find(out.begin(), out.end(), p) == out.end() && can_meet(p, xdev, starts)) {
                out.push_back(p);
            }
        }
    }
    return out;
}

bool has_option(const Stage& s, std::initializer_list<const char*> names) {
    return std::any_of(s.match.options.begin(), s.match.options.end(), [&](const matcher::OptionAt& o) {
        return std::any_of(names.begin(), names.end(), [&](const char* n) { return o.name == n; });
    });
}

// What find prunes: every deny pattern below the trees that can be met (what appears while find
// runs included), and every denied path found (escaped: exact whatever the locale makes of a
// wildcard) that no glob among them matches alike in every locale. Every term costs a -path test
// per file find visits (a glob's about three literal ones), so none is there twice.
std::vector<Item> prune_items(const Stage& s, const std::vector<Tree>& trees) {
    std::vector<Item> items;
    std::vector<std::string> seen;
    auto add = [&](const std::string& pattern) {
        if (std::find(seen.begin(), seen.end(), pattern) != seen.end()) {
            return;
        }
        seen.push_back(pattern);
        Item it;
        it.comps = util::split_path(pattern);
        it.glob = std::any_of(it.comps.begin(), it.comps.end(), [](const std::string& c) { return util::has_glob(c); });
        items.push_back(std::move(it));
    };
    const std::vector<std::string> patterns = live_patterns(s, trees, has_option(s, {"-xdev", "-mount"}));
    for (const auto& p : patterns) {
        if (util::has_glob(p)) {
            add(p);
        }
    }
    const std::vector<Item> globs = items;
    for (const auto& p : patterns) {
        if (!util::has_glob(p) && !covered_ascii(util::glob_unescape(p), globs)) {
            add(p);
        }
    }
    for (const auto& t : trees) {
        for (const auto& p : t.survey.skipped) {
            if (!covered_ascii(p, globs)) {
                add(util::glob_escape(p));
            }
        }
    }
    return items;
}

// find applies no test, -prune included, above -mindepth: a denied path shallower than that would
// be entered. Refused, naming the depth that works.
Status check_mindepth(const Stage& s, const std::vector<Tree>& trees) {
    for (const auto& o : s.match.options) {
        if (o.name != "-mindepth" || !o.value) {
            continue;
        }
        const size_t want = std::stoul(*o.value);  // the matcher checked it: digits, at most 4096
        for (const auto& t : trees) {
            const size_t base = util::split_path(s.resolved[t.ref].canonical).size();
            for (const auto& p : t.survey.patterns) {
                const size_t depth = util::split_path(p).size() - base;
                if (want > depth) {
                    return deny("path-tree-denied", "-mindepth " + *o.value + " would let find enter the denied path " +
                                                        p + ", " + std::to_string(depth) + " level(s) below " +
                                                        q(s.resolved[t.ref].canonical) +
                                                        " (find prunes only from -mindepth on): use -mindepth " +
                                                        std::to_string(depth) + " or less");
                }
            }
        }
    }
    return ok_status();
}

// START... GLOBALS ( PRUNE ) -prune -o ( REQUEST ) -print. The request's global options move in
// front (they apply to the whole walk wherever they stand; find warns when they follow a test)
// and leave -true in their place (what they evaluate to), so its expression keeps its meaning;
// -print is added when the request has no printing action, as find itself would.
Status rewrite_find(Stage& s, const std::vector<Tree>& trees) {
    DIAG_TRY(check_mindepth(s, trees));
    const Words& args = s.match.exec_args;
    const size_t first = s.match.options.empty() ? args.size() : s.match.options.front().index;
    Words head(args.begin(), args.begin() + static_cast<long>(first));
    Words user;
    std::vector<size_t> moved(args.size());
    std::vector<size_t> in_user;  // old indexes whose words went to `user`, at moved[i] within it
    for (size_t i = 0; i < first; ++i) {
        moved[i] = i;
    }
    bool prints = false;
    size_t k = first;
    for (const auto& o : s.match.options) {
        if (o.index != k) {
            return make_error(ErrorCode::kInternal, "tree_prune: find's words are not options and their values");
        }
        const size_t width = o.value ? 2 : 1;
        const bool global = policy_loader::find_global_option(o.name);
        for (size_t j = k; j < k + width && j < args.size(); ++j) {
            if (global) {
                moved[j] = head.size();
                head.push_back(args[j]);
            } else {
                moved[j] = user.size();
                in_user.push_back(j);
                user.push_back(args[j]);
            }
        }
        if (global) {
            user.emplace_back("-true");
        }
        prints = prints || policy_loader::find_print_action(o.name);
        k += width;
    }
    const std::vector<Item> items = prune_items(s, trees);
    if (items.empty()) {
        return ok_status();  // nothing below can be met: the request stays as it is
    }
    Words out = head;
    out.emplace_back("(");
    const Words prune = items.empty() ? Words{"-false"} : disjunction(items);
    out.insert(out.end(), prune.begin(), prune.end());
    out.insert(out.end(), {")", "-prune", "-o"});
    if (!user.empty()) {
        out.emplace_back("(");
        const size_t base = out.size();
        for (const size_t j : in_user) {
            moved[j] += base;
        }
        out.insert(out.end(), user.begin(), user.end());
        out.emplace_back(")");
    }
    if (!prints) {
        out.emplace_back("-print");
    }
    rebuild(s, std::move(out), moved);
    return ok_status();
}

// ---- grep -r ----------------------------------------------------------------------------------

// The request's name filters, when grep would apply them to the parts as it would have while
// recursing (simple_pattern); the survey applies --exclude-dir to the directories it splits.
Result<DirFilter> grep_filter(const Stage& s) {
    for (const auto& v : values_of(s, {"--include", "--exclude", "--exclude-dir"})) {
        if (!simple_pattern(v)) {
            return deny("path-tree-denied", "the pattern " + q(v) +
                                                " cannot be applied exactly to a tree with denied paths below it "
                                                "(use a name, or '*' and a name, like --include='*.conf')");
        }
    }
    return DirFilter{values_of(s, {"--exclude-dir"})};
}

// Each tree operand replaced by its parts, with -H in front so that file names still print where
// a single part is a file (a -h of the request comes later and wins, as it would have).
Status rewrite_grep(Stage& s, std::vector<Tree>& trees) {
    std::map<size_t, const Words*> parts;  // exec_args index -> its parts
    size_t total = 0;
    for (const auto& t : trees) {
        const auto& sv = t.survey;
        const std::string& top = s.resolved[t.ref].canonical;
        if (!sv.pseudo_patterns.empty()) {
            return deny("path-tree-denied", q(top) +
                                                " holds /proc or /sys, whose denied entries come and go: grep -r "
                                                "cannot skip them (name a directory beside them)");
        }
        if (!sv.closed.empty()) {
            return deny("path-tree-denied", q(sv.closed.front()) +
                                                " is closed to this account but not owned by root, so the denied paths "
                                                "below it cannot be found before its owner opens it");
        }
        if (sv.parts.empty()) {
            return deny("path-tree-denied", q(top) +
                                                ": nothing below it is left to search once its denied paths are "
                                                "skipped");
        }
        total += sv.parts.size();
        if (total > kMaxParts) {
            return deny("path-tree-denied", "the trees of this request split into more than " +
                                                std::to_string(kMaxParts) +
                                                " parts around their denied paths (name directories further down)");
        }
        parts[s.match.paths[t.ref].index] = &sv.parts;
    }
    Words args;
    std::vector<size_t> moved;
    for (size_t i = 0; i < s.match.exec_args.size(); ++i) {
        moved.push_back(args.size());
        if (auto it = parts.find(i); it != parts.end()) {
            args.insert(args.end(), it->second->begin(), it->second->end());
        } else {
            args.push_back(s.match.exec_args[i]);
        }
    }
    rebuild(s, std::move(args), moved);
    put_first(s, {"-H"});
    return ok_status();
}

// ---- du ---------------------------------------------------------------------------------------

// du matches --exclude against the whole path it reached and against every suffix that starts
// after a '/'; a pattern that starts with '/' can only match the whole path, and an escaped path
// only itself. Each denied path found goes escaped; each deny pattern below the trees goes as it
// is, for what appears while du runs: its '*' may also match a '/' there (du's fnmatch has no
// FNM_PATHNAME), so du may leave out a little more than is denied (/var/lib/a/b/.ssh for
// /var/lib/*/.ssh: a size missing from the totals), never less.
Words du_excludes(const Stage& s, const std::vector<Tree>& trees) {
    Words out;
    auto add = [&out](const std::string& pattern) {
        const std::string w = "--exclude=" + pattern;
        if (std::find(out.begin(), out.end(), w) == out.end()) {
            out.push_back(w);
        }
    };
    for (const auto& t : trees) {
        for (const auto& p : t.survey.skipped) {
            add(util::glob_escape(p));
        }
    }
    for (const auto& p : live_patterns(s, trees, has_option(s, {"-x", "--one-file-system"}))) {
        add(p);
    }
    return out;
}

// What the record and the client's note say was skipped.
void note_skipped(Stage& s, const std::vector<Tree>& trees) {
    for (const auto& t : trees) {
        for (const auto& p : t.survey.skipped) {
            if (std::find(s.skipped.begin(), s.skipped.end(), p) == s.skipped.end()) {
                s.skipped.push_back(p);
            }
        }
        for (const auto& p : t.survey.pseudo_patterns) {
            if (std::find(s.skipped_patterns.begin(), s.skipped_patterns.end(), p) == s.skipped_patterns.end()) {
                s.skipped_patterns.push_back(p);
            }
        }
    }
}

}  // namespace

Status apply(const policy::Deny& deny, Stage& s) {
    const policy::Prune how = s.match.command == nullptr ? policy::Prune::kNone : s.match.command->prune;
    if (how == policy::Prune::kNone) {
        return ok_status();
    }
    DirFilter filter;
    if (how == policy::Prune::kGrep) {
        DIAG_TRY_ASSIGN(filter, grep_filter(s));
    }
    std::vector<Tree> trees;
    size_t budget = kMaxSurveyEntries;
    for (size_t i = 0; i < s.resolved.size(); ++i) {
        const auto& r = s.resolved[i];
        if (r.prune_below.empty()) {
            continue;
        }
        Tree t;
        t.ref = i;
        const bool grep = how == policy::Prune::kGrep;
        DIAG_TRY_ASSIGN(t.survey, survey(deny, r.object.get(), r.canonical, filter, grep, budget));
        if (grep &&
            excludes(filter, util::split_path(r.canonical).empty() ? "" : util::split_path(r.canonical).back())) {
            return diag::deny("path-tree-denied",
                              q(r.canonical) + " is excluded by --exclude-dir itself: nothing to search");
        }
        const auto& sv = t.survey;
        if (how == policy::Prune::kGrep && sv.skipped.empty() && sv.closed.empty() && sv.pseudo_patterns.empty()) {
            continue;  // nothing denied below exists: grep reads the tree whole (what appears later is no part)
        }
        trees.push_back(std::move(t));
    }
    if (trees.empty()) {
        return ok_status();
    }
    switch (how) {
        case policy::Prune::kFind:
            DIAG_TRY(rewrite_find(s, trees));
            break;
        case policy::Prune::kGrep:
            DIAG_TRY(rewrite_grep(s, trees));
            break;
        case policy::Prune::kDu:
            if (const Words ex = du_excludes(s, trees); !ex.empty()) {
                put_first(s, ex);
            }
            break;
        case policy::Prune::kNone:
            break;
    }
    note_skipped(s, trees);
    return ok_status();
}

}  // namespace diag::tree_prune
