// SPDX-License-Identifier: Apache-2.0
// Network destinations: the strict parsers and the admission test (destination.h).
#include "wrapper/policy/destination.h"

#include <arpa/inet.h>

#include <string_view>

#include "wrapper/base/text_safety.h"

namespace diag::destination {

namespace {

std::string q(const std::string& s) { return "'" + text_safety::printable(s, 80) + "'"; }

// What went wrong, as the caller reports it: a denial for a request, a policy error at load.
using Fail = Error (*)(const std::string& what, const std::string& why);

Error request_fail(const std::string& what, const std::string& why) { return deny("bad-value", q(what) + ": " + why); }
Error listed_fail(const std::string& what, const std::string& why) {
    return make_error(ErrorCode::kPolicyInvalid, "connect " + q(what) + ": " + why);
}

// The host part of an authority, brackets included for IPv6, into its canonical form.
Result<std::string> canonical_host(std::string_view h, const std::string& whole, Fail fail) {
    if (h == "localhost") {
        return std::string(h);
    }
    unsigned char buf[16];
    char text[INET6_ADDRSTRLEN];
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
        const std::string inner(h.substr(1, h.size() - 2));
        if (::inet_pton(AF_INET6, inner.c_str(), buf) != 1 ||
            ::inet_ntop(AF_INET6, buf, text, sizeof text) == nullptr) {
            return fail(whole, "not an IPv6 address in brackets");
        }
        return std::string(text);
    }
    const std::string s(h);
    // inet_pton takes only the four-part decimal form: 127.1, 0x7f.0.0.1, 0177.0.0.1 and
    // 127.0.0.1. are refused here although curl and getaddrinfo would read them.
    if (::inet_pton(AF_INET, s.c_str(), buf) != 1) {
        return fail(whole,
                    "the host must be an IPv4 address (four decimal parts), an IPv6 address in brackets or "
                    "localhost");
    }
    return s;
}

// "1".."65535", decimal, no sign, no leading zero.
Result<uint16_t> port_number(std::string_view p, const std::string& whole, Fail fail) {
    if (p.empty() || p.size() > 5 || p.front() == '0' || p.find_first_not_of("0123456789") != std::string_view::npos) {
        return fail(whole, "the port must be a decimal number 1..65535");
    }
    const unsigned long n = std::stoul(std::string(p));
    if (n > 65535) {
        return fail(whole, "the port must be a decimal number 1..65535");
    }
    return static_cast<uint16_t>(n);
}

// HOST or HOST:PORT (PORT "*" where `any_port`); `port_required` refuses a bare host.
struct Authority {
    std::string host;
    uint16_t port = 0;
    bool has_port = false;
};
Result<Authority> parse_authority(std::string_view a, const std::string& whole, Fail fail, bool any_port) {
    if (a.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.:[]-*") != std::string_view::npos) {
        return fail(whole, "the host part may hold only an address or localhost and a port (no user, no %)");
    }
    Authority out;
    std::string_view host = a;
    std::string_view port;
    const size_t close = a.rfind(']');
    const size_t colon = a.rfind(':');
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
        host = a.substr(0, colon);
        port = a.substr(colon + 1);
        out.has_port = true;
    }
    DIAG_TRY_ASSIGN(out.host, canonical_host(host, whole, fail));
    if (out.has_port && !(any_port && port == "*")) {
        DIAG_TRY_ASSIGN(out.port, port_number(port, whole, fail));
    }
    return out;
}

// A URL path (and query): printable ASCII without what curl or a server would rewrite.
Status check_path(std::string_view path, const std::string& whole, Fail fail) {
    for (const char c : path) {
        if (c <= ' ' || c > '~' || std::string_view("%\\{}[]#").find(c) != std::string_view::npos) {
            return fail(whole, "the path may not hold spaces, control characters, %, \\, {}, [] or #");
        }
    }
    const std::string_view p = path.substr(0, path.find('?'));
    size_t start = 0;
    while (start < p.size()) {
        size_t end = p.find('/', start + 1);
        if (end == std::string_view::npos) {
            end = p.size();
        }
        // Servers that take path parameters (Tomcat, Jetty, Spring) drop ";..." from a segment
        // before normalizing it: "..;x" is "..".
        std::string_view seg = p.substr(start + 1, end - start - 1);
        seg = seg.substr(0, seg.find(';'));
        if (seg == "." || seg == "..") {
            return fail(whole, "the path may not hold . or .. segments (also with ;parameters)");
        }
        start = end;
    }
    return ok_status();
}

struct Url {
    std::string scheme;
    Authority authority;
    std::string path;  // without the query
};

Result<Url> parse_url_form(const std::string& s, Fail fail, bool any_port) {
    if (s.size() > kMaxUrlBytes) {
        return fail(s, "longer than " + std::to_string(kMaxUrlBytes) + " bytes");
    }
    Url u;
    const size_t sep = s.find("://");
    if (sep == std::string::npos || (s.compare(0, sep, "http") != 0 && s.compare(0, sep, "https") != 0)) {
        return fail(s, "only http:// and https:// URLs are allowed");
    }
    u.scheme = s.substr(0, sep);
    const size_t auth_start = sep + 3;
    size_t auth_end = s.find_first_of("/?#", auth_start);
    if (auth_end == std::string::npos) {
        auth_end = s.size();
    }
    DIAG_TRY_ASSIGN(u.authority,
                    parse_authority(std::string_view(s).substr(auth_start, auth_end - auth_start), s, fail, any_port));
    if (!u.authority.has_port) {
        u.authority.port = u.scheme == "https" ? 443 : 80;
    }
    const std::string rest = s.substr(auth_end);
    if (!rest.empty() && rest[0] != '/') {
        return fail(s, "a path must start with /");
    }
    DIAG_TRY(check_path(rest, s, fail));
    u.path = rest.empty() ? "/" : rest.substr(0, rest.find('?'));
    return u;
}

}  // namespace

Result<Listed> parse_listed(const std::string& s) {
    Listed l;
    l.text = s;
    if (s.find("://") == std::string::npos) {
        DIAG_TRY_ASSIGN(const Authority a, parse_authority(s, s, listed_fail, true));
        if (!a.has_port) {
            return listed_fail(s, "an endpoint is HOST:PORT or HOST:*");
        }
        l.host = a.host;
        l.port = a.port;
        return l;
    }
    DIAG_TRY_ASSIGN(const Url u, parse_url_form(s, listed_fail, true));
    if (s.find('?') != std::string::npos) {
        return listed_fail(s, "a URL prefix has no query");
    }
    l.scheme = u.scheme;
    l.host = u.authority.host;
    l.port = u.authority.port;
    l.path = u.path;
    return l;
}

Result<Target> parse_url(const std::string& s) {
    DIAG_TRY_ASSIGN(const Url u, parse_url_form(s, request_fail, false));
    return Target{u.scheme, u.authority.host, u.authority.port, u.path, s};
}

Result<Target> parse_endpoint(const std::string& s) {
    DIAG_TRY_ASSIGN(const Authority a, parse_authority(s, s, request_fail, false));
    if (!a.has_port) {
        return request_fail(s, "expected HOST:PORT");
    }
    return Target{"", a.host, a.port, "", s};
}

Result<Target> parse_host(const std::string& s) {
    if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.:[]") != std::string::npos) {
        return request_fail(s, "expected an IP address or localhost");
    }
    // ping and nc take an IPv6 address bare; brackets are the URL's spelling.
    const std::string h = s.find(':') != std::string::npos && s.front() != '[' ? "[" + s + "]" : s;
    DIAG_TRY_ASSIGN(std::string host, canonical_host(h, s, request_fail));
    return Target{"", std::move(host), 0, "", s};
}

Result<Target> parse_port(const std::string& s) {
    DIAG_TRY_ASSIGN(const uint16_t port, port_number(s, s, request_fail));
    return Target{"", "", port, "", s};
}

bool admits(const Listed& l, const Target& t) {
    if (l.host != t.host) {
        return false;
    }
    if (t.port == 0) {
        return t.scheme.empty();  // a bare host (ping): no TCP at all
    }
    if (l.port != 0 && l.port != t.port) {
        return false;
    }
    if (t.scheme.empty()) {
        return true;  // HOST:PORT or HOST and PORT: any entry with that host and port
    }
    if (l.scheme != t.scheme) {
        return false;
    }
    if (l.path.back() == '/') {
        return t.path.compare(0, l.path.size(), l.path) == 0;
    }
    return t.path == l.path || t.path.compare(0, l.path.size() + 1, l.path + "/") == 0;
}

std::string describe(const std::vector<Listed>& listed) {
    std::string out;
    for (const auto& l : listed) {
        out += (out.empty() ? "" : ", ") + l.text;
    }
    return out;
}

}  // namespace diag::destination
