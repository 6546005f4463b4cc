// SPDX-License-Identifier: Apache-2.0
// Who asked, with which credential: the key sshd accepted, from the file `ExposeAuthInfo yes`
// names in SSH_USER_AUTH ("publickey ssh-ed25519 AAAA..."), as OpenSSH fingerprints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::ssh_auth {

inline constexpr size_t kMaxAuthInfoBytes = 64 * 1024;

struct Certificate {
    std::string key_id;
    uint64_t serial = 0;
    std::string ca_type;
    std::string ca_fingerprint;  // "SHA256:..." of the signing CA key
    std::vector<std::string> principals;
};

struct Key {
    std::string type;         // as sshd wrote it, e.g. "ssh-ed25519" or "ssh-ed25519-cert-v01@openssh.com"
    std::string fingerprint;  // "SHA256:..." of the plain public key (what ssh-keygen -lf prints)
    std::optional<Certificate> certificate;
};

// "SHA256:" + unpadded base64 of SHA-256(blob), OpenSSH's default fingerprint.
[[nodiscard]] std::string fingerprint(std::string_view blob);

// Parses one "publickey TYPE BASE64" line. Errors: kInternal with what was wrong.
[[nodiscard]] Result<Key> parse_publickey_line(std::string_view line);

// Reads the SSH_USER_AUTH file and returns the last public key sshd accepted (with
// AuthenticationMethods publickey,publickey there can be several). nullopt when the variable is
// unset or the file holds no publickey line.
[[nodiscard]] Result<std::optional<Key>> from_environment();

}  // namespace diag::ssh_auth
