// SPDX-License-Identifier: Apache-2.0
// apply(): the rewrite of a stage whose tree operands hold denied paths, per program (tree_prune.h,
// adr/0016). Every rewrite keeps the request's own meaning and adds only what skips the denied
// paths; each keeps the stage's path and option indexes pointing at the words they name.
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

// Whether a deny pattern can name anything while find runs: its literal leading directory exists
// (a literal pattern: the path itself; cannot be told: kept), and with -xdev a glob's literal
// directory is on the file system of a start point (find does not enter /proc or /sys from /
// then; a literal pattern stays, as find still visits a mount point).
bool can_meet(const std::string& pattern, bool xdev, const std::vector<dev_t>& start_devs) {
    const auto comps = util::split_path(pattern);
    size_t plain = 0;
    while (plain < comps.size() && !util::has_glob(comps[plain])) {
        ++plain;
    }
    std::vector<std::string> lit;
    for (size_t i = 0; i < plain; ++i) {
        lit.push_back(util::glob_unescape(comps[i]));
    }
    struct stat st {};
    if (::lstat(util::join_path(lit).c_str(), &st) != 0) {
        return errno != ENOENT && errno != ENOTDIR;
    }
    const bool glob = plain < comps.size();
    return !(xdev && glob && std::find(start_devs.begin(), start_devs.end(), st.st_dev) == start_devs.end());
}

// What find prunes: every denied path the survey found (escaped: exact), and the deny patterns
// for what the survey could not see and can still be met: those in /proc and /sys (processes come
// and go while find runs) and those below a directory closed to us (its owner could open it).
// Like grep's and du's, the plan is the one made when the request is decided: a denied path
// created later, by root or by the owner of the directory it appears in, shows only its name.
// Every term costs a -path test per file find visits, and a glob's costs most.
std::vector<Item> prune_items(const Stage& s, const std::vector<Tree>& trees) {
    const bool xdev = std::any_of(s.match.options.begin(), s.match.options.end(),
                                  [](const matcher::OptionAt& o) { return o.name == "-xdev" || o.name == "-mount"; });
    std::vector<dev_t> devs;
    for (const auto& t : trees) {
        devs.push_back(s.resolved[t.ref].dev);
    }
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
    for (const auto& t : trees) {
        for (const auto& p : t.survey.skipped) {
            add(util::glob_escape(p));
        }
        for (const auto& p : t.survey.pseudo_patterns) {
            if (can_meet(p, xdev, devs)) {
                add(p);
            }
        }
        for (const auto& dir : t.survey.closed) {
            for (const auto& p : t.survey.patterns) {
                if (util::path_within(p, util::glob_escape(dir)) && can_meet(p, xdev, devs)) {
                    add(p);
                }
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
// only itself. The /proc and /sys patterns go as they are (their '*' may also match a '/': inside
// /proc only, where every such path is another process's detail), and so do the deny entries
// below a directory its owner could open while du runs.
Words du_excludes(const std::vector<Tree>& trees) {
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
        for (const auto& p : t.survey.pseudo_patterns) {
            add(p);
        }
        for (const auto& dir : t.survey.closed) {
            for (const auto& p : t.survey.patterns) {
                if (util::path_within(p, util::glob_escape(dir))) {
                    add(p);
                }
            }
        }
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
        if (sv.skipped.empty() && sv.closed.empty() && sv.pseudo_patterns.empty()) {
            continue;  // the deny entries below name nothing that exists: the tree is left whole
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
            put_first(s, du_excludes(trees));
            break;
        case policy::Prune::kNone:
            break;
    }
    note_skipped(s, trees);
    return ok_status();
}

}  // namespace diag::tree_prune
