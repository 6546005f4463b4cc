// SPDX-License-Identifier: Apache-2.0
// Network destinations (adr/0018): the strict parsers of what a rule lists in `connect`
// (URL prefixes and host:port endpoints) and of what a request names (a URL, HOST:PORT, a host, a
// port), and whether a listed destination admits a requested one. Pure: no I/O, no DNS.
//
// Hosts are IP literals or `localhost` only, spelled one way: a dotted quad as inet_pton(3) takes
// it (no 127.1, 0x7f.1, 0177.0.0.1, trailing dot), an IPv6 literal in brackets (compared in its
// canonical form, no zone), or `localhost` in lower case. A name would need DNS, which is UDP to a
// resolver the kernel rules cannot bound, and whose answer the argument check cannot see.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wrapper/base/error.h"

namespace diag::destination {

inline constexpr size_t kMaxUrlBytes = 2048;

// A destination a rule lists. scheme empty: a TCP endpoint ("127.0.0.1:*"), which admits hosts,
// ports and HOST:PORT but no URL. port 0: any port (written "*").
struct Listed {
    std::string scheme;  // "http", "https" or empty
    std::string host;    // canonical: "127.0.0.1", "::1", "localhost"
    uint16_t port = 0;
    std::string path = "/";  // a URL's path prefix
    std::string text;        // as written, for messages

    bool operator==(const Listed&) const = default;
};

// A destination a request names. scheme empty: not a URL. port 0: none given (a bare host, as
// ping takes it: no TCP). host empty: a bare port (nc's PORT), paired with its host later.
struct Target {
    std::string scheme;
    std::string host;
    uint16_t port = 0;
    std::string path;  // URLs only: the path without the query
    std::string text;  // as typed, for messages and the record
};

// "http://127.0.0.1:*/", "https://[::1]:8443/health", "localhost:*". Errors: kPolicyInvalid with
// the reason (scheme, host, port or path).
[[nodiscard]] Result<Listed> parse_listed(const std::string& s);

// A request's URL: http or https, no userinfo, a host as above, an optional decimal port (else 80
// or 443), a path with no dot segments, percent signs, backslashes, braces or brackets (curl globs
// and decodes them; the server may too), an optional query, no fragment. Errors: denials
// (bad-value) naming the part.
[[nodiscard]] Result<Target> parse_url(const std::string& s);
// HOST:PORT (openssl s_client -connect), the port required.
[[nodiscard]] Result<Target> parse_endpoint(const std::string& s);
// A bare host (ping HOST, nc HOST).
[[nodiscard]] Result<Target> parse_host(const std::string& s);
// A bare port, 1..65535, decimal with no leading zero.
[[nodiscard]] Result<Target> parse_port(const std::string& s);

// Whether `l` admits `t`: same host, the port listed or any, and for a URL the same scheme and a
// path under the listed prefix (at a '/' boundary).
[[nodiscard]] bool admits(const Listed& l, const Target& t);

// The listed destinations as written, comma-separated, for messages.
[[nodiscard]] std::string describe(const std::vector<Listed>& listed);

}  // namespace diag::destination
