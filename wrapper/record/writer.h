// SPDX-License-Identifier: Apache-2.0
// The audit record: one JSON object per line, written to every configured sink before anything
// runs. A record that cannot be written to every sink stops the request (fail closed).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"
#include "wrapper/record/schema.h"
#include "wrapper/record/ssh_auth.h"

namespace diag::audit {

inline constexpr const char* kMessageId = "3f0c8c1e6b9a4c1d9a2f7d5e4b3a2c10";  // journald MESSAGE_ID

// A fresh UUIDv7 (RFC 9562) from the clock and getrandom(2).
[[nodiscard]] std::string new_request_id();

// Who is asking, from sshd's environment. Only SSH_CONNECTION is read; nothing else from the
// client's environment is trusted.
struct Origin {
    std::string user;
    unsigned uid = 0;
    std::string client_ip;
    std::string client_port;
    std::string server_ip;
    std::string server_port;
    std::optional<ssh_auth::Key> key;  // from SSH_USER_AUTH (sshd's ExposeAuthInfo)
    std::string key_error;             // SSH_USER_AUTH was set but could not be read
    long sshd_pid = 0;                 // the sshd session process above us, when found
    unsigned sshd_uid = 0;             // its real uid (the account's, under privilege separation)
    // The nearest sshd above us that runs as root (the privileged monitor), or 0: SSH_* and
    // SSH_USER_AUTH are sshd's only when such a process started us (adr/0011).
    long root_sshd_pid = 0;
};
// `passwd` is the text of /etc/passwd (read_passwd), for the caller's name.
[[nodiscard]] Origin read_origin(const std::string& passwd);

// The text of /etc/passwd, read once per request for read_origin and check_account; empty when it
// cannot be read (the caller has no name, and any settings.account is not found).
[[nodiscard]] std::string read_passwd();

// settings.account: ok when it is unset (the record says the caller's account was not checked) or
// names the caller's uid in `passwd` (the text of /etc/passwd); notes the result in `rec`
// (diag.origin). Errors: kDenied "wrong-account" for another caller, kPolicyInvalid when the name
// is not in /etc/passwd.
[[nodiscard]] Status check_account(const std::string& account, const Origin& origin, const std::string& passwd,
                                   nlohmann::json& rec);

// Now, as a record's @timestamp: RFC 3339 UTC with microseconds.
[[nodiscard]] std::string timestamp_utc_us();

// Skeleton of a record: time, host, request id, origin, the raw request (escaped by JSON; invalid
// UTF-8 kept as base64) and the policy hash.
[[nodiscard]] nlohmann::json base_record(const std::string& request_id, const Origin& origin,
                                         const std::string& request, const policy::Policy* policy);

// Bounds `record` to the smallest budget of the sinks in `cfg` (audit_bound.h), chains it when
// `cfg.chain` names a state file (audit_chain.h), serializes it as one line and writes it to
// every sink; a due checkpoint record follows it. Errors: kAudit.
[[nodiscard]] Status write(const policy::Audit& cfg, const nlohmann::json& record);

}  // namespace diag::audit
