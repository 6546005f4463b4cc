// SPDX-License-Identifier: Apache-2.0
// The chain state file's text, and when a checkpoint is due: pure, so diag-audit verify reads
// the state with this alone (the locked state file is chain.cc).
#include <optional>

#include "wrapper/base/parse.h"
#include "wrapper/record/chain.h"
#include "wrapper/record/schema.h"

namespace diag::audit_chain {

namespace {

bool is_hex64(std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool is_uuid(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : std::string_view("0123456789abcdef").find(s[i]) == std::string_view::npos) {
            return false;
        }
    }
    return true;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos) {
        return std::nullopt;
    }
    const auto n = util::parse_int(s);
    return n ? std::optional<uint64_t>(static_cast<uint64_t>(*n)) : std::nullopt;
}

}  // namespace

std::string format_state(const State& s) {
    return std::string(kStateMagic) + " " + s.id + " " + std::to_string(s.seq) + " " + s.head + " " +
           std::to_string(s.checkpoint_seq) + " " + std::to_string(s.checkpoint_time) + "\n";
}

Result<State> parse_state(std::string_view text, const std::string& what) {
    auto bad = [&](const std::string& why) {
        return make_error(ErrorCode::kAudit, "chain state " + what + " is corrupt (" + why +
                                                 "); the chain cannot continue: see adr/0011 to start a new one");
    };
    if (text.empty() || text.back() != '\n') {
        return bad("no complete line");
    }
    text.remove_suffix(1);
    if (text.find('\n') != std::string_view::npos) {
        return bad("more than one line");
    }
    const auto f = util::fields(text);
    if (f.size() != 6 || f[0] != kStateMagic) {
        return bad("expected '" + std::string(kStateMagic) + " ID SEQ HEAD CHECKPOINT_SEQ CHECKPOINT_TIME'");
    }
    State s;
    s.id = std::string(f[1]);
    const auto seq = parse_u64(f[2]);
    s.head = std::string(f[3]);
    const auto cseq = parse_u64(f[4]);
    const auto ctime = parse_u64(f[5]);
    if (!is_uuid(s.id) || !seq || !is_hex64(s.head) || !cseq || !ctime || *cseq > *seq) {
        return bad("a field is malformed");
    }
    s.seq = *seq;
    s.checkpoint_seq = *cseq;
    s.checkpoint_time = static_cast<int64_t>(*ctime);
    return s;
}

State genesis(std::string id, int64_t now) {
    State s;
    s.id = std::move(id);
    s.head = std::string(audit_schema::kGenesisPrev);
    s.checkpoint_time = now;
    return s;
}

bool checkpoint_due(const State& s, int64_t now) {
    if (s.seq == 0 || s.seq == s.checkpoint_seq) {
        return false;
    }
    return s.seq - s.checkpoint_seq >= kCheckpointEvery || now - s.checkpoint_time >= kCheckpointMaxAgeSeconds;
}

}  // namespace diag::audit_chain
