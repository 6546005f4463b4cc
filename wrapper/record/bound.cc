// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/bound.h"

#include <algorithm>
#include <span>
#include <string>

#include "wrapper/base/sha256.h"
#include "wrapper/base/text_safety.h"
#include "wrapper/record/schema.h"

namespace diag::audit_bound {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

struct Caps {
    size_t request;
    size_t field;
    size_t items;
};

// The first step is the documented cap; the later ones exist so that a record that is large in
// many fields at once (a long argv of long paths) still fits the smallest budget.
constexpr Caps kSteps[] = {{kRequestBytes, kFieldBytes, kArrayItems}, {1024, 256, 16}, {256, 64, 4}, {64, 16, 1}};

template <size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view s) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

// The serialized cost of one character (nlohmann's dump with ensure_ascii).
size_t char_cost(std::string_view s, size_t i, size_t& len) {
    const auto c = static_cast<unsigned char>(s[i]);
    len = 1;
    if (c < 0x80) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
            return 2;
        }
        return c < 0x20 || c == 0x7F ? 6 : 1;
    }
    const size_t want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (want > 1 && i + want <= s.size() && text_safety::valid_utf8(s.substr(i, want))) {
        len = want;
        return want == 4 ? 12 : 6;  // a surrogate pair, or one \uXXXX
    }
    return 6;  // an invalid byte becomes \ufffd
}

// The serialized length a string at `path` may take under `caps`.
size_t string_cap(const std::string& path, const Caps& caps) {
    return listed(audit_schema::kProtected, path)       ? kProtectedBytes
           : listed(audit_schema::kRequestFields, path) ? caps.request
                                                        : caps.field;
}

// Shortens the string at `path` to its cap; true if it did. Entries go to `truncated` unless the
// string is an array element (the array gets one entry for all of them).
bool cap_string(json& v, const std::string& path, const Caps& caps, json* truncated) {
    const std::string& s = v.get_ref<const std::string&>();
    const size_t keep = keep_prefix(s, string_cap(path, caps));
    if (keep == s.size()) {
        return false;
    }
    if (truncated != nullptr) {
        truncated->push_back({{"field", path}, {"length", s.size()}, {"sha256", sha256_hex(s)}});
    }
    v = s.substr(0, keep);
    return true;
}

// What an array's SHA-256 is taken over: each element (a string's bytes, anything else its JSON
// text) followed by a NUL byte.
std::string array_bytes(const json& a) {
    std::string out;
    for (const auto& e : a) {
        out += e.is_string() ? e.get_ref<const std::string&>() : e.dump(-1, ' ', true, json::error_handler_t::replace);
        out += '\0';
    }
    return out;
}

bool cap(json& v, const std::string& path, const Caps& caps, json* truncated) {
    if (v.is_string()) {
        return cap_string(v, path, caps, truncated);
    }
    bool changed = false;
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it) {
            changed = cap(it.value(), path.empty() ? it.key() : path + "." + it.key(), caps, truncated) || changed;
        }
    } else if (v.is_array()) {
        const size_t count = v.size();
        const std::string whole = array_bytes(v);
        if (v.size() > caps.items) {
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(caps.items), v.end());
            changed = true;
        }
        for (auto& e : v) {
            changed = cap(e, path + "[]", caps, nullptr) || changed;
        }
        if (changed && truncated != nullptr) {
            truncated->push_back(
                {{"field", path}, {"count", count}, {"length", whole.size()}, {"sha256", sha256_hex(whole)}});
        }
    }
    return changed;
}

// Whether cap() would change `v` (at `path`, restored on return): read only, so a record that
// needs no cap is neither copied nor hashed.
bool over_caps(const json& v, std::string& path, const Caps& caps) {
    if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        // No character costs more than 6 bytes per byte of it (char_cost).
        return s.size() > string_cap(path, caps) / 6 && keep_prefix(s, string_cap(path, caps)) != s.size();
    }
    const size_t len = path.size();
    bool over = false;
    if (v.is_object()) {
        for (auto it = v.begin(); it != v.end() && !over; ++it) {
            path += len == 0 ? "" : ".";
            path += it.key();
            over = over_caps(it.value(), path, caps);
            path.resize(len);
        }
    } else if (v.is_array()) {
        over = v.size() > caps.items;
        path += "[]";
        for (auto it = v.begin(); it != v.end() && !over; ++it) {
            over = over_caps(*it, path, caps);
        }
        path.resize(len);
    }
    return over;
}

const json* at_path(const json& rec, std::string_view path) {
    const json* cur = &rec;
    while (!path.empty()) {
        const size_t dot = path.find('.');
        const std::string key(path.substr(0, dot));
        if (!cur->is_object() || !cur->contains(key)) {
            return nullptr;
        }
        cur = &(*cur)[key];
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    }
    return cur;
}

void put_path(json& rec, std::string_view path, const json& value) {
    json* cur = &rec;
    while (true) {
        const size_t dot = path.find('.');
        const std::string key(path.substr(0, dot));
        if (dot == std::string_view::npos) {
            (*cur)[key] = value;
            return;
        }
        cur = &(*cur)[key];
        path = path.substr(dot + 1);
    }
}

// The last resort: the filter fields, the chain and one entry for everything else.
json essentials(const json& rec) {
    json out;
    const std::string whole = dump(ordered(rec));
    for (const auto path : audit_schema::kProtected) {
        if (const json* v = at_path(rec, path)) {
            put_path(out, path, *v);
        }
    }
    for (const char* path : {"schema", "diag.chain", "diag.checkpoint"}) {
        if (const json* v = at_path(rec, path)) {
            put_path(out, path, *v);
        }
    }
    Caps tight{kProtectedBytes, kProtectedBytes, 4};
    (void)cap(out, "", tight, nullptr);
    out["diag"][audit_schema::kTruncated] =
        json::array({{{"field", "*"}, {"length", whole.size()}, {"sha256", sha256_hex(whole)}}});
    return out;
}

ordered_json convert(const json& v, const std::string& path) {
    switch (v.type()) {
        case json::value_t::object:
            break;
        case json::value_t::array: {
            ordered_json a = ordered_json::array();
            for (const auto& e : v) {
                a.push_back(convert(e, path + "[]"));
            }
            return a;
        }
        case json::value_t::string:
            return v.get<std::string>();
        case json::value_t::boolean:
            return v.get<bool>();
        case json::value_t::number_integer:
            return v.get<int64_t>();
        case json::value_t::number_unsigned:
            return v.get<uint64_t>();
        case json::value_t::number_float:
            return v.get<double>();
        default:
            return nullptr;
    }
    std::vector<std::string_view> first;
    std::vector<std::string_view> last;
    if (path.empty()) {
        first.assign(audit_schema::kTopFirst.begin(), audit_schema::kTopFirst.end());
        last.assign(audit_schema::kTopLast.begin(), audit_schema::kTopLast.end());
    } else if (path == "diag") {
        first.assign(audit_schema::kDiagFirst.begin(), audit_schema::kDiagFirst.end());
        last.assign(audit_schema::kDiagLast.begin(), audit_schema::kDiagLast.end());
    } else if (path == "process") {
        last.assign(audit_schema::kProcessLast.begin(), audit_schema::kProcessLast.end());
    }
    ordered_json o = ordered_json::object();
    auto add = [&](const std::string& k) { o[k] = convert(v[k], path.empty() ? k : path + "." + k); };
    for (const auto k : first) {
        if (v.contains(std::string(k))) {
            add(std::string(k));
        }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {  // std::map: name order
        if (std::find(first.begin(), first.end(), it.key()) == first.end() &&
            std::find(last.begin(), last.end(), it.key()) == last.end()) {
            add(it.key());
        }
    }
    for (const auto k : last) {
        if (v.contains(std::string(k))) {
            add(std::string(k));
        }
    }
    return o;
}

// Which objects have a schema order (convert): every other value's order is std::map's, the
// name order that convert gives it too, so its own dump is already its ordered text.
enum class Level { kTop, kDiag, kProcess, kOther };

void dump_key(const std::string& key, std::string& out) {
    // The schema's names need no escape (printable ASCII but " and \): written as they are.
    if (std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; })) {
        out += '"';
        out += key;
        out += "\":";
        return;
    }
    out += json(key).dump(-1, ' ', true, json::error_handler_t::replace);
    out += ':';
}

// Where diag.chain's text is in a line.
struct Span {
    size_t begin = std::string::npos;
    size_t end = std::string::npos;
};

// Appends dump(ordered(v)) to `out` without building the ordered copy; `chain`, when set, stands
// for diag.chain, and `at` gets where its text is.
void dump_into(const json& v, Level level, const json* chain, Span& at, std::string& out) {
    if (level == Level::kOther || !v.is_object()) {
        out += v.dump(-1, ' ', true, json::error_handler_t::replace);
        return;
    }
    std::span<const std::string_view> first;
    std::span<const std::string_view> last;
    if (level == Level::kTop) {
        first = audit_schema::kTopFirst;
        last = audit_schema::kTopLast;
    } else if (level == Level::kDiag) {
        first = audit_schema::kDiagFirst;
        last = audit_schema::kDiagLast;
    } else {
        last = audit_schema::kProcessLast;
    }
    out += '{';
    bool any = false;
    auto add = [&](const std::string& k, const json& value) {
        out += any ? "," : "";
        any = true;
        dump_key(k, out);
        const Level next = level != Level::kTop ? Level::kOther
                           : k == "diag"        ? Level::kDiag
                           : k == "process"     ? Level::kProcess
                                                : Level::kOther;
        dump_into(value, next, next == Level::kDiag ? chain : nullptr, at, out);
    };
    for (const auto k : first) {
        const std::string key(k);
        if (level == Level::kDiag && chain != nullptr && k == audit_schema::kChain) {
            at.begin = out.size() + (any ? 1 : 0) + key.size() + 3;  // after [,]"chain":
            add(key, *chain);
            at.end = out.size();
        } else if (auto it = v.find(key); it != v.end()) {
            add(key, *it);
        } else if (level == Level::kTop && chain != nullptr && k == audit_schema::kDiag) {
            add(key, json::object());  // a diag holding the chain's place only
        }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {  // std::map: name order
        if (std::find(first.begin(), first.end(), it.key()) == first.end() &&
            std::find(last.begin(), last.end(), it.key()) == last.end()) {
            add(it.key(), it.value());
        }
    }
    for (const auto k : last) {
        if (auto it = v.find(std::string(k)); it != v.end()) {
            add(std::string(k), *it);
        }
    }
    out += '}';
}

// The steps of fit() on `rec` (which holds its chain place, if any); the reduced record, in
// plain (name) order.
Result<json> reduce(const json& rec, size_t max_bytes) {
    for (const Caps& caps : kSteps) {
        json r = rec;
        json truncated = json::array();
        (void)cap(r, "", caps, &truncated);
        if (!truncated.empty()) {
            r["diag"][audit_schema::kTruncated] = std::move(truncated);
        }
        if (dump(r, nullptr).size() <= max_bytes) {
            return r;
        }
    }
    json e = essentials(rec);
    if (dump(e, nullptr).size() > max_bytes) {  // cannot happen with kMinRecordBytes: every field is capped
        return make_error(ErrorCode::kAudit, "audit record does not fit " + std::to_string(max_bytes) + " bytes");
    }
    return e;
}

}  // namespace

size_t keep_prefix(std::string_view s, size_t max_serialized) {
    size_t cost = 0;
    size_t i = 0;
    while (i < s.size()) {
        size_t len = 1;
        const size_t c = char_cost(s, i, len);
        if (cost + c > max_serialized) {
            break;
        }
        cost += c;
        i += len;
    }
    return i;
}

ordered_json ordered(const json& rec) { return convert(rec, ""); }

std::string dump(const ordered_json& rec) { return rec.dump(-1, ' ', true, ordered_json::error_handler_t::replace); }

std::string dump(const json& rec, const json* chain) {
    std::string out;
    Span at;
    dump_into(rec, Level::kTop, chain, at, out);
    return out;
}

std::string Fitted::line_with(const json& chain) const {
    if (place_begin_ == std::string::npos) {
        return line_;
    }
    return line_.substr(0, place_begin_) + chain.dump(-1, ' ', true, json::error_handler_t::replace) +
           line_.substr(place_end_);
}

void Fitted::set_line(const json* chain) {
    Span at;
    line_.clear();
    dump_into(record(), Level::kTop, chain, at, line_);
    place_begin_ = at.begin;
    place_end_ = at.end;
}

Result<Fitted> fit_record(const json& rec, size_t max_bytes, const json* chain) {
    if (max_bytes < kMinRecordBytes) {
        return make_error(ErrorCode::kAudit, "audit record budget " + std::to_string(max_bytes) + " is below " +
                                                 std::to_string(kMinRecordBytes) + " bytes");
    }
    Fitted f;
    // A chain place goes into diag; a record without one (never written) takes the copy below.
    const bool placeable = chain == nullptr || (rec.is_object() && rec.contains("diag") && rec["diag"].is_object());
    std::string path;
    if (placeable && !over_caps(rec, path, kSteps[0])) {
        f.original = &rec;
        f.set_line(chain);
        if (f.line_.size() <= max_bytes) {
            return f;  // the first step changes nothing, and it fits: the record as it is
        }
        f.original = nullptr;
    }
    if (chain == nullptr) {
        DIAG_TRY_ASSIGN(f.reduced, reduce(rec, max_bytes));
    } else {
        json with_place = rec;
        with_place["diag"][std::string(audit_schema::kChain)] = *chain;
        DIAG_TRY_ASSIGN(f.reduced, reduce(with_place, max_bytes));
    }
    f.set_line(chain);
    return f;
}

Result<ordered_json> fit(const json& rec, size_t max_bytes) {
    DIAG_TRY_ASSIGN(const Fitted f, fit_record(rec, max_bytes, nullptr));
    return ordered(f.record());
}

}  // namespace diag::audit_bound
