// SPDX-License-Identifier: Apache-2.0
#include "wrapper/audit/pattern.h"

#include <algorithm>
#include <cctype>

#include "wrapper/base/text_safety.h"

namespace diag::audit_pattern {

namespace {

using Range = Pattern::Range;
using Ranges = std::vector<Range>;
using Inst = Pattern::Inst;
using Op = Pattern::Op;

// A byte that is not well-formed UTF-8 is the "character" kInvalidBase + byte: above every code
// point, so only `.` and negated classes match it.
constexpr uint32_t kInvalidBase = 0x110000;
constexpr uint32_t kTop = kInvalidBase + 0xFF;

Ranges normalise(Ranges r) {
    std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.lo < b.lo; });
    Ranges out;
    for (const auto& x : r) {
        if (!out.empty() && x.lo <= out.back().hi + 1) {
            out.back().hi = std::max(out.back().hi, x.hi);
        } else {
            out.push_back(x);
        }
    }
    return out;
}

Ranges complement(const Ranges& in) {
    const Ranges r = normalise(in);
    Ranges out;
    uint32_t next = 0;
    for (const auto& x : r) {
        if (x.lo > next) {
            out.push_back({next, x.lo - 1});
        }
        next = x.hi + 1;
    }
    if (next <= kTop) {
        out.push_back({next, kTop});
    }
    return out;
}

bool in_set(const Ranges& r, uint32_t c) {
    const auto it = std::lower_bound(r.begin(), r.end(), c, [](const Range& x, uint32_t v) { return x.hi < v; });
    return it != r.end() && it->lo <= c;
}

// The pattern as a tree, built by a recursive-descent parser whose depth follows the pattern's
// nesting (capped at kMaxNesting), then flattened into the program.
struct Node {
    enum class Kind { kEmpty, kSet, kBol, kEol, kCat, kAlt, kStar, kPlus, kQuest } kind = Kind::kEmpty;
    uint32_t set = 0;
    std::vector<size_t> kids;
};

}  // namespace

class Compiler {
  public:
    explicit Compiler(std::string_view p) : p_(p) {}

    Result<Pattern> run() {
        if (p_.size() > kMaxPatternBytes) {
            return fail("longer than " + std::to_string(kMaxPatternBytes) + " bytes");
        }
        DIAG_TRY_ASSIGN(size_t root, alternation(0));
        if (i_ < p_.size()) {
            return fail("unmatched )");
        }
        emit(root);
        out_.prog_.push_back({Op::kMatch});
        return std::move(out_);
    }

  private:
    Error fail(const std::string& what) const {
        return make_error(ErrorCode::kUsage, "--command: bad pattern '" + text_safety::escape(p_) + "' at offset " +
                                                 std::to_string(i_) + ": " + what);
    }

    size_t node(Node n) {
        nodes_.push_back(std::move(n));
        return nodes_.size() - 1;
    }

    size_t set_node(Ranges r) {
        out_.sets_.push_back(normalise(std::move(r)));
        return node({Node::Kind::kSet, static_cast<uint32_t>(out_.sets_.size() - 1), {}});
    }

    bool at(char c) const { return i_ < p_.size() && p_[i_] == c; }

    Result<size_t> alternation(int depth) {
        if (depth > kMaxNesting) {
            return fail("groups nested deeper than " + std::to_string(kMaxNesting));
        }
        std::vector<size_t> alts;
        DIAG_TRY_ASSIGN(size_t first, concatenation(depth));
        alts.push_back(first);
        while (at('|')) {
            ++i_;
            DIAG_TRY_ASSIGN(size_t next, concatenation(depth));
            alts.push_back(next);
        }
        return alts.size() == 1 ? alts[0] : node({Node::Kind::kAlt, 0, std::move(alts)});
    }

    Result<size_t> concatenation(int depth) {
        std::vector<size_t> seq;
        while (i_ < p_.size() && !at('|') && !at(')')) {
            DIAG_TRY_ASSIGN(size_t a, atom(depth));
            // One quantifier, and after it at most one '?' (lazy: the same set of matches, so a
            // no-op here). `a+?` is not `(a+)?`, and `a++`, `a*+`, `a??*` are errors, as in
            // ECMAScript.
            if (at('*') || at('+') || at('?')) {
                const char q = p_[i_++];
                const Node::Kind k = q == '*' ? Node::Kind::kStar : q == '+' ? Node::Kind::kPlus : Node::Kind::kQuest;
                a = node({k, 0, {a}});
                if (at('?')) {
                    ++i_;
                }
                if (at('*') || at('+') || at('?')) {
                    return fail("nothing to repeat");
                }
            }
            seq.push_back(a);
        }
        if (seq.size() == 1) {
            return seq[0];
        }
        return node({seq.empty() ? Node::Kind::kEmpty : Node::Kind::kCat, 0, std::move(seq)});
    }

    Result<size_t> atom(int depth) {
        const char c = p_[i_];
        switch (c) {
            case '(': {
                ++i_;
                if (at('?')) {
                    if (i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
                        i_ += 2;
                    } else {
                        return fail("look-around and other (? groups are not supported");
                    }
                }
                DIAG_TRY_ASSIGN(size_t inner, alternation(depth + 1));
                if (!at(')')) {
                    return fail("missing )");
                }
                ++i_;
                return inner;
            }
            case '[':
                return klass();
            case '.':
                ++i_;
                return set_node(complement({{'\n', '\n'}}));
            case '^':
                ++i_;
                return node({Node::Kind::kBol, 0, {}});
            case '$':
                ++i_;
                return node({Node::Kind::kEol, 0, {}});
            case '*':
            case '+':
            case '?':
                return fail("nothing to repeat");
            case '{':
            case '}':
                return fail("counted repetition {m,n} is not supported (write \\{ for a brace)");
            case '\\': {
                ++i_;
                Ranges r;
                DIAG_TRY(escape(r, false));
                return set_node(std::move(r));
            }
            default:
                break;
        }
        uint32_t cp = 0;
        const size_t len = text_safety::decode_utf8(p_, i_, cp);
        if (len == 0) {
            return fail("not valid UTF-8");
        }
        i_ += len;
        return set_node({{cp, cp}});
    }

    Status hex_digits(size_t count, uint32_t& out) {
        out = 0;
        for (size_t k = 0; k < count; ++k) {
            if (i_ >= p_.size() || std::isxdigit(static_cast<unsigned char>(p_[i_])) == 0) {
                return fail("expected a hexadecimal digit");
            }
            const char h = p_[i_++];
            out = out * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        return ok_status();
    }

    // After a backslash: appends what it stands for to `r`. In a class, \b is not special either.
    Status escape(Ranges& r, bool in_class) {
        if (i_ >= p_.size()) {
            return fail("pattern ends with \\");
        }
        const char c = p_[i_++];
        static const Ranges kDigit = {{'0', '9'}};
        static const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
        static const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x2028, 0x2029}, {0xFEFF, 0xFEFF}};
        auto add = [&](const Ranges& x) { r.insert(r.end(), x.begin(), x.end()); };
        auto one = [&](uint32_t cp) { r.push_back({cp, cp}); };
        switch (c) {
            case 'd':
                add(kDigit);
                return ok_status();
            case 'D':
                add(complement(kDigit));
                return ok_status();
            case 'w':
                add(kWord);
                return ok_status();
            case 'W':
                add(complement(kWord));
                return ok_status();
            case 's':
                add(kSpace);
                return ok_status();
            case 'S':
                add(complement(kSpace));
                return ok_status();
            case 't':
                one('\t');
                return ok_status();
            case 'n':
                one('\n');
                return ok_status();
            case 'r':
                one('\r');
                return ok_status();
            case 'f':
                one('\f');
                return ok_status();
            case 'v':
                one('\v');
                return ok_status();
            case '0':
                one(0);
                return ok_status();
            case 'x': {
                uint32_t v = 0;
                DIAG_TRY(hex_digits(2, v));
                one(v);
                return ok_status();
            }
            case 'u': {
                uint32_t v = 0;
                if (at('{')) {
                    ++i_;
                    size_t digits = 0;
                    while (i_ < p_.size() && !at('}') && digits < 6) {
                        uint32_t d = 0;
                        DIAG_TRY(hex_digits(1, d));
                        v = v * 16 + d;
                        ++digits;
                    }
                    if (digits == 0 || !at('}') || v > 0x10FFFF) {
                        return fail("\\u{...} needs 1 to 6 hex digits naming a code point");
                    }
                    ++i_;
                } else {
                    DIAG_TRY(hex_digits(4, v));
                }
                one(v);
                return ok_status();
            }
            default:
                break;
        }
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            return fail(std::string("\\") + c + (in_class ? " is not supported in a class" : " is not supported"));
        }
        if (static_cast<unsigned char>(c) >= 0x80) {
            --i_;  // a non-ASCII character after \ stands for itself
            uint32_t cp = 0;
            const size_t len = text_safety::decode_utf8(p_, i_, cp);
            if (len == 0) {
                return fail("not valid UTF-8");
            }
            i_ += len;
            one(cp);
            return ok_status();
        }
        one(static_cast<unsigned char>(c));
        return ok_status();
    }

    // One class member: a character (or escape) and, with a following -x, a range.
    Result<size_t> klass() {
        ++i_;  // [
        bool negate = false;
        if (at('^')) {
            negate = true;
            ++i_;
        }
        Ranges r;
        while (!at(']')) {
            if (i_ >= p_.size()) {
                return fail("missing ]");
            }
            Ranges lo;
            DIAG_TRY(class_atom(lo));
            if (at('-') && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
                ++i_;
                Ranges hi;
                DIAG_TRY(class_atom(hi));
                if (lo.size() != 1 || hi.size() != 1 || lo[0].lo != lo[0].hi || hi[0].lo != hi[0].hi ||
                    lo[0].lo > hi[0].lo) {
                    return fail("bad range in [...]");
                }
                r.push_back({lo[0].lo, hi[0].lo});
            } else {
                r.insert(r.end(), lo.begin(), lo.end());
            }
        }
        ++i_;  // ]
        return set_node(negate ? complement(r) : std::move(r));
    }

    Status class_atom(Ranges& r) {
        if (at('\\')) {
            ++i_;
            return escape(r, true);
        }
        uint32_t cp = 0;
        const size_t len = text_safety::decode_utf8(p_, i_, cp);
        if (len == 0) {
            return fail("not valid UTF-8");
        }
        i_ += len;
        r.push_back({cp, cp});
        return ok_status();
    }

    uint32_t pc() const { return static_cast<uint32_t>(out_.prog_.size()); }
    uint32_t put(Inst in) {
        out_.prog_.push_back(in);
        return pc() - 1;
    }

    // Thompson's construction; recursion follows the tree, whose depth the parser bounded.
    void emit(size_t n) {
        const Node& nd = nodes_[n];
        switch (nd.kind) {
            case Node::Kind::kEmpty:
                return;
            case Node::Kind::kSet:
                put({Op::kSet, nd.set, 0});
                return;
            case Node::Kind::kBol:
                put({Op::kBol});
                return;
            case Node::Kind::kEol:
                put({Op::kEol});
                return;
            case Node::Kind::kCat:
                for (const size_t k : nd.kids) {
                    emit(k);
                }
                return;
            case Node::Kind::kAlt: {
                std::vector<uint32_t> jumps;
                for (size_t k = 0; k < nd.kids.size(); ++k) {
                    if (k + 1 == nd.kids.size()) {
                        emit(nd.kids[k]);
                        break;
                    }
                    const uint32_t split = put({Op::kSplit});
                    out_.prog_[split].x = pc();
                    emit(nd.kids[k]);
                    jumps.push_back(put({Op::kJmp}));
                    out_.prog_[split].y = pc();
                }
                for (const uint32_t j : jumps) {
                    out_.prog_[j].x = pc();
                }
                return;
            }
            case Node::Kind::kStar: {
                const uint32_t split = put({Op::kSplit});
                out_.prog_[split].x = pc();
                emit(nd.kids[0]);
                put({Op::kJmp, split, 0});
                out_.prog_[split].y = pc();
                return;
            }
            case Node::Kind::kPlus: {
                const uint32_t start = pc();
                emit(nd.kids[0]);
                put({Op::kSplit, start, pc() + 1});
                return;
            }
            case Node::Kind::kQuest: {
                const uint32_t split = put({Op::kSplit});
                out_.prog_[split].x = pc();
                emit(nd.kids[0]);
                out_.prog_[split].y = pc();
                return;
            }
        }
    }

    std::string_view p_;
    size_t i_ = 0;
    std::vector<Node> nodes_;
    Pattern out_;
};

Result<Pattern> Pattern::compile(std::string_view pattern) { return Compiler(pattern).run(); }

bool Pattern::search(std::string_view text) const {
    const size_t n = prog_.size();
    // Sparse sets of program counters (Briggs & Torczon): O(1) insert, test and clear.
    struct Threads {
        std::vector<uint32_t> dense;
        std::vector<uint32_t> sparse;
        size_t size = 0;
        bool has(uint32_t pc) const { return sparse[pc] < size && dense[sparse[pc]] == pc; }
        void add(uint32_t pc) {
            sparse[pc] = static_cast<uint32_t>(size);
            dense[size++] = pc;
        }
    };
    Threads cur{std::vector<uint32_t>(n), std::vector<uint32_t>(n), 0};
    Threads next{std::vector<uint32_t>(n), std::vector<uint32_t>(n), 0};
    std::vector<uint32_t> stack;
    stack.reserve(n);
    // Follows the jumps and empty-width assertions from `start` with an explicit stack.
    auto closure = [&](Threads& t, uint32_t start, size_t pos) {
        stack.push_back(start);
        while (!stack.empty()) {
            const uint32_t pc = stack.back();
            stack.pop_back();
            if (t.has(pc)) {
                continue;
            }
            t.add(pc);
            const Inst& in = prog_[pc];
            switch (in.op) {
                case Op::kJmp:
                    stack.push_back(in.x);
                    break;
                case Op::kSplit:
                    stack.push_back(in.y);
                    stack.push_back(in.x);
                    break;
                case Op::kBol:
                    if (pos == 0) {
                        stack.push_back(pc + 1);
                    }
                    break;
                case Op::kEol:
                    if (pos == text.size()) {
                        stack.push_back(pc + 1);
                    }
                    break;
                case Op::kSet:
                case Op::kMatch:
                    break;
            }
        }
    };
    size_t pos = 0;
    for (;;) {
        closure(cur, 0, pos);  // a match may start here (search, not full match)
        uint32_t c = 0;
        size_t len = 0;
        if (pos < text.size()) {
            len = text_safety::decode_utf8(text, pos, c);
            if (len == 0) {
                c = kInvalidBase + static_cast<unsigned char>(text[pos]);
                len = 1;
            }
        }
        for (size_t k = 0; k < cur.size; ++k) {
            const uint32_t pc = cur.dense[k];
            const Inst& in = prog_[pc];
            if (in.op == Op::kMatch) {
                return true;
            }
            if (in.op == Op::kSet && pos < text.size() && in_set(sets_[in.x], c)) {
                closure(next, pc + 1, pos + len);
            }
        }
        if (pos >= text.size()) {
            return false;
        }
        pos += len;
        std::swap(cur, next);
        next.size = 0;
    }
}

}  // namespace diag::audit_pattern
