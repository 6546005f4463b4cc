// SPDX-License-Identifier: Apache-2.0
// The confinement of one command, built in the parent: see confinement.h.
#include "wrapper/confine/confinement.h"

#include <string>
#include <vector>

#include "wrapper/request/link_check.h"

namespace diag::confinement {

using nlohmann::json;

namespace {

// The files handed to the child as checked objects (exec::Prepared::bound).
std::vector<int> held_fds(const exec::Prepared& prep) {
    std::vector<int> held;
    for (const auto& f : prep.bound) {
        held.push_back(f.get());
    }
    return held;
}

}  // namespace

Result<Confinement> build(const policy::Policy& policy, const policy::Command& cmd, const exec::Prepared& prep,
                          json& rec, const std::vector<uint16_t>& connect_ports,
                          const std::vector<landlock::Operand>* operands) {
    Confinement c;
    // A hard link of a denied file outside the denied paths would be granted with its directory.
    DIAG_TRY_ASSIGN(const std::vector<std::string> unverified, path_resolve::check_links_contained(policy.deny));
    const int abi = landlock::abi_version();
    json ll = {{"abi", abi}, {"mode", policy.landlock == policy::LandlockMode::kRequired ? "required" : "best-effort"}};
    if (abi < landlock::kMinAbi && policy.landlock == policy::LandlockMode::kRequired) {
        rec["diag"]["confinement"] = {{"landlock", ll}};
        return make_error(ErrorCode::kExecFailed, "landlock ABI " + std::to_string(abi) + " is below the required " +
                                                      std::to_string(landlock::kMinAbi) +
                                                      " (policy settings.landlock = \"required\")");
    }
    if (!connect_ports.empty() && abi < landlock::kNetAbi) {
        // Best-effort or not: without the kernel's TCP rules the destination check would be the
        // only barrier between this child and every port of every host.
        rec["diag"]["confinement"] = {{"landlock", ll}};
        return make_error(ErrorCode::kExecFailed, "landlock ABI " + std::to_string(abi) +
                                                      " cannot confine TCP to the destination's port (needs " +
                                                      std::to_string(landlock::kNetAbi) + ")");
    }
    if (abi >= 1 && cmd.filter) {
        // A filter reads only its stdin: nothing of the file system but its own binary, and no
        // file handed over either (an open fd is not checked by Landlock).
        if (!prep.bound.empty()) {
            return make_error(ErrorCode::kExecFailed, "a filter is handed no files");
        }
        DIAG_TRY_ASSIGN(c.landlock, landlock::build_filter(policy.deny, prep.exec_paths, prep.exe.get()));
        ll["filter"] = true;
        ll["rules"] = c.landlock.rules;
        ll["files"] = c.landlock.files;
    } else if (abi >= 1 && operands != nullptr) {
        // The rule reads only its path operands (adr/0023): those objects, and loading the binary.
        DIAG_TRY_ASSIGN(c.landlock, landlock::build_operands(policy.deny, prep.exec_paths, *operands, held_fds(prep),
                                                             connect_ports, prep.exe.get()));
        ll["scope"] = "operands";
        ll["operands"] = c.landlock.operands;
        ll["rules"] = c.landlock.rules;
        ll["files"] = c.landlock.files;
        ll["tcp_connect"] = c.landlock.connect_ports;
    } else if (abi >= 1) {
        DIAG_TRY_ASSIGN(c.landlock,
                        landlock::build(policy.deny, prep.exec_paths, held_fds(prep), connect_ports, prep.exe.get()));
        ll["scope"] = "filesystem";
        ll["rules"] = c.landlock.rules;
        ll["tcp_connect"] = c.landlock.connect_ports;  // every other TCP connect and every bind: refused
        if (!c.landlock.cut_short.empty()) {
            ll["dirs_cut_short"] = c.landlock.cut_short;
        }
        ll["raw_io_devices"] = c.landlock.raw_io_by_kernel ? "kernel" : "landlock";
    }
    ll["enforced"] = abi >= landlock::kMinAbi;
    // A request that names a TCP destination resolves no name (destinations are addresses or
    // localhost): no UDP for it. ping names a host and no port, and needs a UDP socket (never
    // sent on) to learn its source address: it keeps UDP, like a rule that resolves names.
    const bool tcp_only = !connect_ports.empty();
    c.seccomp = seccomp::filters(cmd.network, cmd.filter, tcp_only);
    rec["diag"]["confinement"] = {
        {"landlock", ll},
        {"seccomp", {{"network", cmd.network}, {"sockets", !cmd.filter}, {"udp", cmd.network && !tcp_only}}},
        {"no_new_privs", true},
        {"rlimits", true},
        {"exec_paths", prep.exec_paths},
        {"hardlinks_unverified", unverified}};
    return c;
}

}  // namespace diag::confinement
