// SPDX-License-Identifier: Apache-2.0
// diag-audit argv -> Options in named steps: read the options (by group), read the command
// word, refuse what the command does not take. Messages name the flag and the value.
#include "wrapper/audit/args.h"

#include <string_view>
#include <utility>

#include "wrapper/audit/verify.h"
#include "wrapper/base/parse.h"

namespace diag::audit_cli {

namespace {

using audit_render::Format;

Error usage(std::string msg) { return make_error(ErrorCode::kUsage, std::move(msg)); }

Result<size_t> parse_count(const std::string& flag, const std::string& v) {
    const auto n = util::parse_int(v);
    if (!n || *n < 0 || v.empty() || v[0] == '+' || v[0] == '-') {
        return usage(flag + ": '" + v + "' is not a non-negative number");
    }
    return static_cast<size_t>(*n);
}

// What the option loop collects: the options, the words that are not options, and which
// options were given (a default cannot tell).
struct Parsed {
    Options o;
    std::vector<std::string> positional;
    int64_t now_us = 0;
    bool format_given = false;
    bool have_since = false;
    bool have_until = false;
    bool done = false;  // --help or --version: nothing after it is read
};

// One option as given: its name ("--since" of "--since=-2h") and its value, inline after '=' or
// the next argument. A flag that takes no value ignores an inline one.
class Option {
  public:
    Option(const std::vector<std::string>& args, size_t& i) : args_(args), i_(i), name_(args[i]) {
        if (name_.rfind("--", 0) == 0 && name_.size() > 2) {
            if (const size_t eq = name_.find('='); eq != std::string::npos) {
                inline_value_ = name_.substr(eq + 1);
                name_.resize(eq);
            }
        }
    }

    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] bool is(std::string_view n) const { return name_ == n; }

    // The value: the inline one, else the next argument (consumed). Errors: kUsage.
    [[nodiscard]] Result<std::string> value() {
        if (inline_value_) {
            return *inline_value_;
        }
        if (i_ + 1 >= args_.size()) {
            return usage(name_ + " needs a value");
        }
        return args_[++i_];
    }

  private:
    const std::vector<std::string>& args_;
    size_t& i_;
    std::string name_;
    std::optional<std::string> inline_value_;
};

// Each group below takes the options it knows and returns false for any other.

// Where the records come from: --file, --journal, --account, --uid.
Result<bool> input_option(Option& opt, Parsed& p) {
    Options& o = p.o;
    if (opt.is("--file")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        o.files.push_back(v);
    } else if (opt.is("--journal")) {
        o.journal = true;
    } else if (opt.is("--account")) {
        DIAG_TRY_ASSIGN(o.account, opt.value());
    } else if (opt.is("--uid")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(size_t n, parse_count(opt.name(), v));
        if (n > 0xFFFFFFFEu) {
            return usage("--uid: '" + v + "' is not a uid");
        }
        o.uid = static_cast<uid_t>(n);
    } else {
        return false;
    }
    return true;
}

// --since and --until: each at most once.
Status time_option(Option& opt, Parsed& p) {
    DIAG_TRY_ASSIGN(std::string v, opt.value());
    const bool since = opt.is("--since");
    bool& seen = since ? p.have_since : p.have_until;
    if (seen) {
        return usage(opt.name() + " given twice");
    }
    seen = true;
    auto t = audit_filter::parse_time(v, p.now_us);
    if (!t.ok()) {
        return usage(opt.name() + ": " + t.error().msg);
    }
    (since ? p.o.filter.since_us : p.o.filter.until_us) = *t;
    return ok_status();
}

// The list of a filter whose values are compared exactly and taken as given: --reason, --rule,
// --principal; nullptr for any other option.
std::vector<std::string>* exact_values(const Option& opt, audit_filter::Filter& f) {
    if (opt.is("--reason")) {
        return &f.reasons;
    }
    if (opt.is("--rule")) {
        return &f.rules;
    }
    if (opt.is("--principal")) {
        return &f.principals;
    }
    return nullptr;
}

// Which requests: the time window and the filters of audit_filter::Filter.
Result<bool> filter_option(Option& opt, Parsed& p) {
    audit_filter::Filter& f = p.o.filter;
    if (opt.is("--since") || opt.is("--until")) {
        DIAG_TRY(time_option(opt, p));
    } else if (opt.is("--decision")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        if (v != "allow" && v != "deny" && v != "error") {
            return usage("--decision: '" + v + "' is not allow, deny or error");
        }
        f.decisions.push_back(v);
    } else if (std::vector<std::string>* values = exact_values(opt, f)) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        values->push_back(v);
    } else if (opt.is("--key")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        if (v.empty()) {
            return usage("--key needs a fingerprint (SHA256:...)");
        }
        f.keys.push_back(v);
    } else if (opt.is("--source")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(auto net, audit_filter::parse_cidr(v));
        f.sources.push_back(net);
    } else if (opt.is("--command")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY(f.add_command(v));
    } else if (opt.is("--exit")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(auto m, audit_filter::parse_exit(v));
        f.exits.push_back(m);
    } else if (opt.is("--incomplete")) {
        f.incomplete = true;
    } else {
        return false;
    }
    return true;
}

// What a command prints: --format, report's --policy and --top, follow's --count and --lines.
Result<bool> output_option(Option& opt, Parsed& p) {
    Options& o = p.o;
    if (opt.is("--format") || opt.is("-o")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(o.format, audit_render::parse_format(v));
        p.format_given = true;
    } else if (opt.is("--policy")) {
        DIAG_TRY_ASSIGN(o.policy, opt.value());
    } else if (opt.is("--top")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(o.top, parse_count(opt.name(), v));
    } else if (opt.is("--count")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(size_t n, parse_count(opt.name(), v));
        if (n == 0) {
            return usage("--count: must be at least 1");
        }
        o.count = n;
    } else if (opt.is("--lines") || opt.is("-n")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY_ASSIGN(o.lines, parse_count(opt.name(), v));
    } else {
        return false;
    }
    return true;
}

// What verify checks the trail against: --anchor, --state.
Result<bool> verify_option(Option& opt, Parsed& p) {
    if (opt.is("--anchor")) {
        DIAG_TRY_ASSIGN(std::string v, opt.value());
        DIAG_TRY(audit_verify::parse_anchor(v));
        p.o.anchors.push_back(v);
    } else if (opt.is("--state")) {
        DIAG_TRY_ASSIGN(p.o.state, opt.value());
    } else {
        return false;
    }
    return true;
}

// Reads every argument in order: options into p.o, other words into p.positional. After "--"
// every argument is a word; "-" (stdin) is one too. --help and --version end the reading.
Status read_options(const std::vector<std::string>& args, Parsed& p) {
    using Group = Result<bool> (*)(Option&, Parsed&);
    static constexpr Group kGroups[] = {input_option, filter_option, output_option, verify_option};
    bool only_positional = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (only_positional || a.empty() || a[0] != '-' || a == "-") {
            p.positional.push_back(a);
            continue;
        }
        Option opt(args, i);
        if (opt.is("--")) {
            only_positional = true;
            continue;
        }
        if (opt.is("-h") || opt.is("--help") || opt.is("--version")) {
            p.o.command = opt.is("--version") ? Command::kVersion : Command::kHelp;
            p.done = true;
            return ok_status();
        }
        bool known = false;
        for (const Group group : kGroups) {
            DIAG_TRY_ASSIGN(known, group(opt, p));
            if (known) {
                break;
            }
        }
        if (!known) {
            return usage("unknown option '" + opt.name() + "'");
        }
    }
    return ok_status();
}

// The command word and the words it takes (show's request id). "help" ends the reading.
Status read_command(Parsed& p) {
    Options& o = p.o;
    if (p.positional.empty()) {
        return usage("no command (search, show, report or follow)");
    }
    const std::string cmd = p.positional.front();
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
        p.done = true;
        return ok_status();
    } else {
        return usage("unknown command '" + cmd + "' (search, show, report, follow or verify)");
    }
    const size_t want_positional = o.command == Command::kShow ? 2 : 1;
    if (p.positional.size() < want_positional) {
        return usage("show needs a request id (or a unique prefix of one)");
    }
    if (p.positional.size() > want_positional) {
        return usage("unexpected argument '" + p.positional[want_positional] + "'");
    }
    if (o.command == Command::kShow) {
        o.request_id = p.positional[1];
        if (o.request_id.empty()) {
            return usage("show needs a request id (or a unique prefix of one)");
        }
    }
    return ok_status();
}

// Refuses the options the command does not take.
Status check_command_options(const Parsed& p) {
    const Options& o = p.o;
    const bool filters = o.filter.since_us || o.filter.until_us || !o.filter.only_time();
    if (o.command == Command::kShow) {
        if (filters) {
            return usage("show takes no filters");
        }
        if (p.format_given && o.format != Format::kText && o.format != Format::kJson) {
            return usage("show: --format text or json");
        }
    }
    if (o.command == Command::kReport && p.format_given && o.format == Format::kCsv) {
        return usage("report: --format text or json");
    }
    if (o.command != Command::kReport && (!o.policy.empty() || o.top != audit_report::kDefaultTop)) {
        return usage("--policy and --top are report options");
    }
    if (o.command != Command::kVerify && (!o.anchors.empty() || !o.state.empty())) {
        return usage("--anchor and --state are verify options");
    }
    if (o.command == Command::kVerify && filters) {
        return usage("verify takes no filters: it checks the whole trail");
    }
    if (o.command != Command::kFollow && o.count) {
        return usage("--count is a follow option");
    }
    if (o.command == Command::kFollow && o.filter.incomplete) {
        return usage("follow: --incomplete needs the whole log (use search --incomplete)");
    }
    return ok_status();
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
    Parsed p;
    p.now_us = now_us;
    DIAG_TRY(read_options(args, p));
    if (p.done) {
        return p.o;
    }
    DIAG_TRY(read_command(p));
    if (p.done) {
        return p.o;
    }
    DIAG_TRY(check_command_options(p));
    return p.o;
}

}  // namespace diag::audit_cli
