// SPDX-License-Identifier: Apache-2.0
// The byte encoding of a policy's parts for the compiled image (see image_codec.h).
#include "wrapper/policy/image_codec.h"

#include <algorithm>
#include <vector>

namespace diag::image_codec {

namespace {

using policy::Command;
using policy::OptionSpec;
using policy::PositionalSpec;
using policy::ValueSpec;

// A field added to the model must be added to the encoding too, or a compiled image would drop
// it without a word: these sizes change with any new field and stop the build here.
static_assert(sizeof(policy::Command) == 416, "policy::Command changed: encode the new field below");
static_assert(sizeof(policy::OptionSpec) == 160, "policy::OptionSpec changed: encode the new field below");
static_assert(sizeof(policy::PositionalSpec) == 152, "policy::PositionalSpec changed: encode the new field below");
static_assert(sizeof(policy::ValueSpec) == 128, "policy::ValueSpec changed: encode the new field below");
static_assert(sizeof(policy::Policy) == 1032, "policy::Policy changed: encode the new field below");
static_assert(sizeof(policy::Audit) == 200, "policy::Audit changed: encode the new field below");
static_assert(sizeof(destination::Listed) == 136, "destination::Listed changed: encode the new field below");

constexpr uint8_t kValueTypes = static_cast<uint8_t>(policy::ValueType::kTargetPort) + 1;
constexpr uint8_t kStyles = static_cast<uint8_t>(policy::Style::kWords) + 1;
constexpr uint8_t kLayouts = static_cast<uint8_t>(policy::Layout::kPositionalsFirst) + 1;
constexpr uint8_t kPrunes = static_cast<uint8_t>(policy::Prune::kDu) + 1;
constexpr uint8_t kReads = static_cast<uint8_t>(policy::Reads::kOperands) + 1;
constexpr uint8_t kLandlockModes = static_cast<uint8_t>(policy::LandlockMode::kBestEffort) + 1;
constexpr uint8_t kSinks = static_cast<uint8_t>(policy::AuditSink::kJournald) + 1;

void put_strs(Writer& w, const std::vector<std::string>& v) {
    w.u64(v.size());
    for (const auto& s : v) {
        w.str(s);
    }
}

std::vector<std::string> get_strs(Reader& r) {
    std::vector<std::string> v(r.count());
    for (auto& s : v) {
        s = r.str();
    }
    return v;
}

bool get_flag(Reader& r) { return r.below(2) != 0; }

void put_opt(Writer& w, const std::optional<int64_t>& v) {
    w.u8(v.has_value() ? 1 : 0);
    w.u64(static_cast<uint64_t>(v.value_or(0)));
}

std::optional<int64_t> get_opt(Reader& r) {
    const bool has = get_flag(r);
    const auto v = static_cast<int64_t>(r.u64());
    return has ? std::optional<int64_t>(v) : std::nullopt;
}

void put_value(Writer& w, const ValueSpec& v) {
    w.u8(static_cast<uint8_t>(v.type));
    put_opt(w, v.min);
    put_opt(w, v.max);
    put_strs(w, v.values);
    w.str(v.pattern);
    put_strs(w, v.roots);
    w.u8(v.sensitive ? 1 : 0);
}

ValueSpec get_value(Reader& r) {
    ValueSpec v;
    v.type = static_cast<policy::ValueType>(r.below(kValueTypes));
    v.min = get_opt(r);
    v.max = get_opt(r);
    v.values = get_strs(r);
    v.pattern = r.str();
    v.roots = get_strs(r);
    v.sensitive = get_flag(r);
    return v;
}

void put_option(Writer& w, const OptionSpec& o) {
    put_strs(w, o.names);
    put_value(w, o.value);
    w.u8(o.recursive ? 1 : 0);
    w.u8(o.required ? 1 : 0);
    w.u8(o.optional_value ? 1 : 0);
}

OptionSpec get_option(Reader& r) {
    OptionSpec o;
    o.names = get_strs(r);
    o.value = get_value(r);
    o.recursive = get_flag(r);
    o.required = get_flag(r);
    o.optional_value = get_flag(r);
    return o;
}

void put_positional(Writer& w, const PositionalSpec& p) {
    put_value(w, p.value);
    w.u64(p.min);
    w.u64(p.max);
    w.u8(p.tree ? 1 : 0);
}

PositionalSpec get_positional(Reader& r) {
    PositionalSpec p;
    p.value = get_value(r);
    p.min = r.u64();
    p.max = r.u64();
    p.tree = get_flag(r);
    return p;
}

void put_listed(Writer& w, const destination::Listed& l) {
    w.str(l.scheme);
    w.str(l.host);
    w.u64(l.port);
    w.str(l.path);
    w.str(l.text);
}

destination::Listed get_listed(Reader& r) {
    destination::Listed l;
    l.scheme = r.str();
    l.host = r.str();
    const uint64_t port = r.u64();
    if (port > UINT16_MAX) {
        r.fail();
    }
    l.port = static_cast<uint16_t>(port);
    l.path = r.str();
    l.text = r.str();
    return l;
}

// A list of T, each written by `put`.
template <typename T, typename Put>
void put_list(Writer& w, const std::vector<T>& v, Put put) {
    w.u64(v.size());
    for (const auto& x : v) {
        put(w, x);
    }
}

template <typename T, typename Get>
std::vector<T> get_list(Reader& r, Get get) {
    std::vector<T> v;
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        v.push_back(get(r));
    }
    return v;
}

void put_audit(Writer& w, const policy::Audit& a) {
    put_list(w, a.sinks, [](Writer& o, policy::AuditSink s) { o.u8(static_cast<uint8_t>(s)); });
    w.str(a.file);
    w.str(a.chain);
    w.str(a.journald_socket);
    w.str(a.syslog_socket);
    w.u64(a.principals.size());
    for (const auto& [k, v] : a.principals) {
        w.str(k);
        w.str(v);
    }
}

policy::Audit get_audit(Reader& r) {
    policy::Audit a;
    a.sinks = get_list<policy::AuditSink>(r, [](Reader& i) { return static_cast<policy::AuditSink>(i.below(kSinks)); });
    a.file = r.str();
    a.chain = r.str();
    a.journald_socket = r.str();
    a.syslog_socket = r.str();
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        std::string k = r.str();
        a.principals[k] = r.str();
    }
    return a;
}

}  // namespace

void Writer::u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        u8(static_cast<uint8_t>(v >> (8 * i)));
    }
}

void Writer::str(std::string_view s) {
    u64(s.size());
    out_.append(s);
}

uint8_t Reader::u8() {
    if (failed_ || pos_ >= in_.size()) {
        failed_ = true;
        return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
}

uint64_t Reader::u64() {
    if (failed_ || in_.size() - pos_ < 8) {
        failed_ = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) {
        v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
    }
    return v;
}

std::string Reader::str() { return std::string(view()); }

std::string_view Reader::view() {
    const uint64_t n = u64();
    if (failed_ || n > in_.size() - pos_) {
        failed_ = true;
        return {};
    }
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
}

size_t Reader::count() {
    const uint64_t n = u64();
    if (failed_ || n > in_.size() - pos_) {
        failed_ = true;
        return 0;
    }
    return n;
}

uint8_t Reader::below(uint8_t limit) {
    const uint8_t v = u8();
    if (v >= limit) {
        failed_ = true;
        return 0;
    }
    return v;
}

void encode_rest(Writer& w, const policy::Policy& p) {
    w.u64(static_cast<uint64_t>(p.version));
    w.u8(static_cast<uint8_t>(p.landlock));
    w.str(p.path);
    w.str(p.sha256);
    put_strs(w, p.search_path);
    put_strs(w, p.include);
    put_strs(w, p.loaded_files);
    w.u64(p.timeout_ms);
    w.u64(p.output_cap);
    w.u64(p.decision_timeout_ms);
    w.str(p.account);
    put_audit(w, p.audit);
    put_list(w, p.deny_written, [](Writer& o, const policy::DenyWritten& d) {
        o.str(d.path);
        o.str(d.origin);
    });
}

void decode_rest(Reader& r, policy::Policy& p) {
    p.version = static_cast<int>(r.u64());
    p.landlock = static_cast<policy::LandlockMode>(r.below(kLandlockModes));
    p.path = r.str();
    p.sha256 = r.str();
    p.search_path = get_strs(r);
    p.include = get_strs(r);
    p.loaded_files = get_strs(r);
    p.timeout_ms = r.u64();
    p.output_cap = r.u64();
    p.decision_timeout_ms = r.u64();
    p.account = r.str();
    p.audit = get_audit(r);
    p.deny_written = get_list<policy::DenyWritten>(r, [](Reader& i) {
        policy::DenyWritten d;
        d.path = i.str();
        d.origin = i.str();
        return d;
    });
    if (p.version != policy::kSchemaVersion) {
        r.fail();
    }
}

void encode_command(Writer& w, const Command& c) {
    w.str(c.id);
    put_list(w, c.match, put_strs);
    w.str(c.program);
    w.str(c.description);
    put_strs(w, c.fixed);
    w.u8(static_cast<uint8_t>(c.style));
    w.u8(static_cast<uint8_t>(c.layout));
    w.u8(c.end_of_options ? 1 : 0);
    w.u8(c.separate_long_values ? 1 : 0);
    w.u64(c.timeout_ms);
    w.u64(c.output_cap);
    w.u8(c.network ? 1 : 0);
    put_list(w, c.connect, put_listed);
    w.u8(c.filter ? 1 : 0);
    w.u8(static_cast<uint8_t>(c.prune));
    w.u8(static_cast<uint8_t>(c.reads));
    w.str(c.family);
    put_list(w, c.options, put_option);
    put_list(w, c.positionals, put_positional);
    w.str(c.source);
}

Command decode_command(Reader& r) {
    Command c;
    c.id = r.str();
    c.match = get_list<std::vector<std::string>>(r, get_strs);
    c.program = r.str();
    c.description = r.str();
    c.fixed = get_strs(r);
    c.style = static_cast<policy::Style>(r.below(kStyles));
    c.layout = static_cast<policy::Layout>(r.below(kLayouts));
    c.end_of_options = get_flag(r);
    c.separate_long_values = get_flag(r);
    c.timeout_ms = r.u64();
    c.output_cap = r.u64();
    c.network = get_flag(r);
    c.connect = get_list<destination::Listed>(r, get_listed);
    c.filter = get_flag(r);
    c.prune = static_cast<policy::Prune>(r.below(kPrunes));
    c.reads = static_cast<policy::Reads>(r.below(kReads));
    c.family = r.str();
    c.options = get_list<OptionSpec>(r, get_option);
    c.positionals = get_list<PositionalSpec>(r, get_positional);
    c.source = r.str();
    // The matcher indexes match[0] and every word's first spelling: a loaded command has them.
    const bool words_ok =
        !c.match.empty() && std::all_of(c.match.begin(), c.match.end(), [](const auto& w) { return !w.empty(); });
    if (!words_ok || c.id.empty()) {
        r.fail();
    }
    return c;
}

}  // namespace diag::image_codec
