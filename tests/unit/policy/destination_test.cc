// SPDX-License-Identifier: Apache-2.0
// The strict destination parsers and the admission test (wrapper/policy/destination.h): every
// spelling of a host that curl or getaddrinfo would read differently is refused, and a listed
// prefix admits only its scheme, host, port and path.
#include "wrapper/policy/destination.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace diag::destination {
namespace {

TEST(Destination, UrlsParseIntoSchemeHostPortAndPath) {
    auto t = parse_url("http://127.0.0.1:8080/health?verbose=1");
    ASSERT_TRUE(t.ok()) << t.error().describe();
    EXPECT_EQ(t->scheme, "http");
    EXPECT_EQ(t->host, "127.0.0.1");
    EXPECT_EQ(t->port, 8080);
    EXPECT_EQ(t->path, "/health");
    t = parse_url("https://localhost");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->port, 443);
    EXPECT_EQ(t->path, "/");
    t = parse_url("http://[0:0:0:0:0:0:0:1]/x");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->host, "::1");  // canonical form
    EXPECT_EQ(t->port, 80);
}

TEST(Destination, UrlsThatCurlOrAServerReadOtherwiseAreRefused) {
    for (const std::string& bad : std::vector<std::string>{"file:///etc/passwd",
                                                           "ftp://127.0.0.1/",
                                                           "HTTP://127.0.0.1/",
                                                           "gopher://127.0.0.1:70/",
                                                           "127.0.0.1:80",
                                                           "//127.0.0.1/",
                                                           "http://user@127.0.0.1/",
                                                           "http://user:pw@127.0.0.1/",
                                                           "http://127.0.0.1@evil/",
                                                           "http://127.1/",
                                                           "http://0x7f.0.0.1/",
                                                           "http://0177.0.0.1/",
                                                           "http://2130706433/",
                                                           "http://127.0.0.1./",
                                                           "http://127.000.000.001/",
                                                           "http://LOCALHOST/",
                                                           "http://localhost./",
                                                           "http://localhost.evil/",
                                                           "http://[::1%25lo]/",
                                                           "http://[::1/",
                                                           "http://%31%32%37.0.0.1/",
                                                           "http://127.0.0.1:0/",
                                                           "http://127.0.0.1:65536/",
                                                           "http://127.0.0.1:080/",
                                                           "http://127.0.0.1:/",
                                                           "http://127.0.0.1:+80/",
                                                           "http://127.0.0.1:80:80/",
                                                           "http://127.0.0.1/a/../b",
                                                           "http://127.0.0.1/./x",
                                                           "http://127.0.0.1/..",
                                                           "http://127.0.0.1/%2e%2e/x",
                                                           "http://127.0.0.1/a\\b",
                                                           "http://127.0.0.1/a b",
                                                           "http://127.0.0.1/#frag",
                                                           "http://127.0.0.1/{a,b}",
                                                           "http://127.0.0.1/[1-9]",
                                                           "http://127.0.0.1:[1-65535]/",
                                                           "http://127.0.0.1?x",
                                                           "http://example.com/",
                                                           "",
                                                           std::string(3000, 'a')}) {
        auto t = parse_url(bad);
        EXPECT_FALSE(t.ok()) << bad;
        if (!t.ok()) {
            EXPECT_EQ(t.error().reason, "bad-value") << bad;
        }
    }
}

// Path parameters: Tomcat, Jetty and Spring drop ";..." from a segment, then normalize the dot
// segment it leaves (/health/..;/admin is /admin, past a prefix /health).
TEST(Destination, DotSegmentsWithPathParametersAreRefused) {
    for (const std::string& bad :
         std::vector<std::string>{"http://127.0.0.1/health/..;/admin", "http://127.0.0.1/health/..;jsessionid=1/x",
                                  "http://127.0.0.1/a/.;x/b", "http://127.0.0.1/..;"}) {
        auto t = parse_url(bad);
        ASSERT_FALSE(t.ok()) << bad;
        EXPECT_EQ(t.error().reason, "bad-value") << bad;
    }
    EXPECT_TRUE(parse_url("http://127.0.0.1/health/v;1").ok());
}

TEST(Destination, EndpointsHostsAndPorts) {
    auto e = parse_endpoint("[::1]:443");
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->host, "::1");
    EXPECT_EQ(e->port, 443);
    EXPECT_FALSE(parse_endpoint("127.0.0.1").ok());  // the port is required
    EXPECT_FALSE(parse_endpoint("127.0.0.1:*").ok());
    EXPECT_FALSE(parse_endpoint("evil.example:443").ok());
    auto h = parse_host("::1");
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->host, "::1");
    EXPECT_EQ(h->port, 0);
    EXPECT_TRUE(parse_host("localhost").ok());
    for (const std::string bad : {"127.1", "0x7f000001", "-f", "127.0.0.1:22", "evil.example", "", "LOCALHOST"}) {
        EXPECT_FALSE(parse_host(bad).ok()) << bad;
    }
    EXPECT_EQ(parse_port("22")->port, 22);
    for (const std::string bad : {"0", "65536", "022", "1-100", "ssh", "", "+22", "-1"}) {
        EXPECT_FALSE(parse_port(bad).ok()) << bad;
    }
}

TEST(Destination, ListedDestinationsAreValidatedAtLoad) {
    auto l = parse_listed("http://127.0.0.1:*/");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->port, 0);
    l = parse_listed("https://[::1]:8443/api/");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->host, "::1");
    EXPECT_EQ(l->port, 8443);
    EXPECT_EQ(l->path, "/api/");
    l = parse_listed("localhost:*");
    ASSERT_TRUE(l.ok());
    EXPECT_EQ(l->scheme, "");
    for (const std::string bad : {"file:///", "http://db.internal:*/", "http://127.0.0.1:*/?q=1", "127.0.0.1",
                                  "http://*:80/", "127.0.0.1:*/x", "http://127.0.0.1:99999/", "tcp://127.0.0.1:1"}) {
        auto r = parse_listed(bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, ErrorCode::kPolicyInvalid) << bad;
        }
    }
}

bool admitted(const std::string& listed, const std::string& url) {
    auto l = parse_listed(listed);
    auto t = parse_url(url);
    EXPECT_TRUE(l.ok() && t.ok()) << listed << " " << url;
    return l.ok() && t.ok() && admits(*l, *t);
}

TEST(Destination, APrefixAdmitsItsSchemeHostPortAndPathOnly) {
    EXPECT_TRUE(admitted("http://127.0.0.1:*/", "http://127.0.0.1:9090/metrics"));
    EXPECT_FALSE(admitted("http://127.0.0.1:*/", "https://127.0.0.1:9090/metrics"));
    EXPECT_FALSE(admitted("http://127.0.0.1:*/", "http://localhost:9090/"));  // names are not resolved
    EXPECT_TRUE(admitted("http://127.0.0.1:8080/health", "http://127.0.0.1:8080/health"));
    EXPECT_TRUE(admitted("http://127.0.0.1:8080/health", "http://127.0.0.1:8080/health/deep?x=1"));
    EXPECT_FALSE(admitted("http://127.0.0.1:8080/health", "http://127.0.0.1:8080/healthz"));
    EXPECT_TRUE(admitted("http://127.0.0.1:8080/health", "http://127.0.0.1:8080/health/v;1"));
    EXPECT_FALSE(admitted("http://127.0.0.1:8080/health", "http://127.0.0.1:8081/health"));
    EXPECT_FALSE(admitted("http://127.0.0.1:8080/health", "http://127.0.0.1/health"));  // port 80
    EXPECT_TRUE(admitted("http://127.0.0.1/", "http://127.0.0.1:80/"));
    EXPECT_TRUE(admitted("https://[::1]:*/api/", "https://[0::1]:1/api/v1"));
    EXPECT_FALSE(admitted("https://[::1]:*/api/", "https://[::1]:1/apiv1"));
    EXPECT_FALSE(admitted("http://127.0.0.1:*/", "http://[::ffff:127.0.0.1]/"));
    // An endpoint entry admits hosts and HOST:PORT, no URL; a bare host is no TCP at all.
    auto ep = parse_listed("127.0.0.1:22");
    ASSERT_TRUE(ep.ok());
    EXPECT_TRUE(admits(*ep, *parse_endpoint("127.0.0.1:22")));
    EXPECT_FALSE(admits(*ep, *parse_endpoint("127.0.0.1:23")));
    EXPECT_FALSE(admits(*ep, *parse_url("http://127.0.0.1:22/")));
    EXPECT_TRUE(admits(*ep, *parse_host("127.0.0.1")));
    EXPECT_FALSE(admits(*ep, *parse_host("::1")));
}

}  // namespace
}  // namespace diag::destination
