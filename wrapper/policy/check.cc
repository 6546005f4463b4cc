// SPDX-License-Identifier: Apache-2.0
// The dry-run modes --check and --explain: see check.h.
#include "wrapper/policy/check.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "wrapper/record/redact.h"

namespace diag::check {

namespace {

void print(const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
        if (n <= 0) {
            return;
        }
        off += static_cast<size_t>(n);
    }
}

using redact::shell_quote;

// One stage of an allowed request: its rule, the argv it is executed with, its resolved paths and
// the glob matches withheld from it.
std::string describe_stage(const decision::Stage& s) {
    const policy::Command& c = *s.match.command;
    std::string out = "rule: " + c.id + " (" + c.source + ")\n";
    out += "exec: " + shell_quote(c.exe_path);
    for (const auto& a : s.match.exec_args) {
        out += " " + shell_quote(a);
    }
    out += "\n";
    for (const auto& r : s.resolved) {
        out += "path: " + shell_quote(r.input) + " -> " + shell_quote(r.canonical);
        if (!r.metadata_of_denied.empty()) {
            out += " (metadata only; denied by " + r.metadata_of_denied + ")";
        }
        if (r.fd.valid()) {
            out += " (given as " + r.given + ": " + r.bound_because + ")";
        }
        out += "\n";
    }
    for (const auto& w : s.withheld) {
        out += "withheld: " + shell_quote(w.path) + " (" + w.reason + ")\n";
    }
    return out;
}

}  // namespace

void summarize(const policy::Policy& p, bool build) {
    size_t unavailable = 0;
    std::string lines;
    for (const auto& c : p.commands) {
        if (!c.unavailable.empty()) {
            ++unavailable;
            lines += "  unavailable: " + c.id + ": " + c.unavailable + "\n";
        }
    }
    std::string out = "policy OK: " + p.path + "\n";
    out += "sha256: " + p.sha256 + "\n";
    for (const auto& f : p.loaded_files) {
        out += "file: " + f + "\n";
    }
    out += "commands: " + std::to_string(p.commands.size()) + " (" + std::to_string(unavailable) +
           (build ? " not found on this machine; looked up again on the host)\n" : " unavailable on this host)\n") +
           lines;
    if (build) {
        out += "deny entries: " + std::to_string(p.deny_written.size()) +
               " (syntax checked; resolved on the host when a request is decided)\n";
    } else {
        out += "deny entries: " + std::to_string(p.deny.entries.size()) + " patterns, " +
               std::to_string(p.deny.objects.size()) + " existing objects pinned by inode\n";
    }
    print(out);
}

Status explain(const Result<decision::Decision>& d) {
    if (!d.ok()) {
        const Error& e = d.error();
        std::string out = "decision: deny\nreason: " + (e.code == ErrorCode::kDenied ? e.reason : "internal-error") +
                          "\nmessage: " + e.describe() + "\n";
        if (!e.detail.empty()) {
            out += "deny-entry: " + e.detail + "\n";
        }
        print(out);
        return e;
    }
    std::string out = "decision: allow\n";
    if (d->help) {
        print(out + "rule: help\n");
        return ok_status();
    }
    uint64_t timeout_ms = UINT64_MAX;
    uint64_t output_cap = UINT64_MAX;
    for (size_t i = 0; i < d->stages.size(); ++i) {
        const policy::Command& c = *d->stages[i].match.command;
        if (!c.unavailable.empty()) {
            print("decision: deny\nreason: command-unavailable\nmessage: rule " + c.id +
                  " is not available on this host: " + c.unavailable + "\n");
            return deny("command-unavailable", "rule " + c.id + " is not available on this host");
        }
        if (d->stages.size() > 1) {
            out += "stage: " + std::to_string(i + 1) + " of " + std::to_string(d->stages.size()) +
                   (i == 0 ? "\n" : " (filter: reads only its stdin)\n");
        }
        out += describe_stage(d->stages[i]);
        timeout_ms = std::min(timeout_ms, c.timeout_ms);
        output_cap = std::min(output_cap, c.output_cap);
    }
    out += "timeout: " + std::to_string(timeout_ms) + "ms\noutput-cap: " + std::to_string(output_cap) + "\n";
    print(out);
    return ok_status();
}

}  // namespace diag::check
