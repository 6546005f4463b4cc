// SPDX-License-Identifier: Apache-2.0
// The network rules (adr/0018) for real: curl, nc, ping and openssl of the shipped policy against
// a tiny HTTP server the test starts on 127.0.0.1, the forms they refuse (nothing reaches the
// server), a rule's own destination list, and Landlock holding a child to the port its request
// named (try_syscall connect-then).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/default_policy.h"

namespace diag::testing {
namespace {

int landlock_abi() {
    const long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, 1U);
    return v < 0 ? 0 : static_cast<int>(v);
}

// A listening TCP socket on 127.0.0.1, an ephemeral port.
struct Listener {
    int fd = -1;
    int port = 0;
    Listener() {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sa;
        if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 16) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
            return;
        }
        port = ntohs(sa.sin_port);
    }
    ~Listener() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
};

// HTTP/1.0 on 127.0.0.1: /health answers "healthy", /redirect sends a 302 to /moved, /moved
// answers "MOVED-TARGET"; every request line is kept. Stops when destroyed.
class HttpServer {
  public:
    HttpServer() : thread_([this] { serve(); }) {}
    ~HttpServer() {
        stop_ = true;
        ::shutdown(listener_.fd, SHUT_RDWR);
        thread_.join();
    }
    int port() const { return listener_.port; }
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> g(mu_);
        return requests_;
    }

  private:
    void serve() {
        while (!stop_) {
            const int c = ::accept4(listener_.fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                return;
            }
            std::string req;
            char buf[4096];
            while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                req.append(buf, static_cast<size_t>(n));
                if (req[0] == '\x16') {
                    break;  // a TLS ClientHello (openssl s_client): answered as HTTP, at once
                }
            }
            const std::string line = req.substr(0, req.find("\r\n"));
            {
                std::lock_guard<std::mutex> g(mu_);
                requests_.push_back(line);
            }
            const std::string reply = respond(line);
            (void)!::write(c, reply.data(), reply.size());
            ::close(c);
        }
    }
    static std::string respond(const std::string& line) {
        auto with = [](const std::string& status, const std::string& extra, const std::string& body) {
            return "HTTP/1.0 " + status + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
                   "\r\n" + body;
        };
        if (line.rfind("GET /health ", 0) == 0 || line.rfind("HEAD /health ", 0) == 0) {
            return with("200 OK", "", "healthy\n");
        }
        if (line.rfind("GET /redirect ", 0) == 0) {
            return with("302 Found", "Location: /moved\r\n", "");
        }
        if (line.rfind("GET /moved ", 0) == 0) {
            return with("200 OK", "", "MOVED-TARGET\n");
        }
        return with("404 Not Found", "", "");
    }

    Listener listener_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

bool have(const std::string& program) { return ::access(("/usr/bin/" + program).c_str(), X_OK) == 0; }

class Network : public DefaultPolicy {
  protected:
    void SetUp() override {
        DefaultPolicy::SetUp();
        if (IsSkipped() || HasFatalFailure()) {
            return;
        }
        if (landlock_abi() < 4) {
            GTEST_SKIP() << "kernel Landlock ABI " << landlock_abi() << " < 4: the network rules are unavailable";
        }
        base_ = "http://127.0.0.1:" + std::to_string(server_.port());
    }

    // `request` is refused for `reason` and nothing reached the server.
    void expect_refused(const std::string& request, const std::string& reason) {
        SCOPED_TRACE(request);
        const size_t before = server_.requests().size();
        auto r = run_soc(policy_, request);
        EXPECT_EQ(r.exit_code, 126) << r.err;
        EXPECT_EQ(r.err.rfind("diag-wrapper: denied: " + reason + ": ", 0), 0u) << r.err;
        EXPECT_EQ(server_.requests().size(), before);
    }

    HttpServer server_;
    std::string base_;
};

TEST_F(Network, CurlReachesAnAllowedPrefixAndTheRecordNamesTheDestination) {
    if (!have("curl")) {
        GTEST_SKIP() << "curl is not installed (scripts/deps.sh)";
    }
    expect_works("curl -sS " + base_ + "/health", "^healthy\n$");
    const auto recs = audit_records();
    ASSERT_FALSE(recs.empty());
    const auto& dec = recs[recs.size() - 2];
    ASSERT_EQ(dec["diag"]["targets"].size(), 1u) << dec.dump();
    EXPECT_EQ(dec["diag"]["targets"][0]["host"], "127.0.0.1");
    EXPECT_EQ(dec["diag"]["targets"][0]["port"], server_.port());
    EXPECT_EQ(dec["diag"]["confinement"]["landlock"]["tcp_connect"], nlohmann::json::array({server_.port()}));
    EXPECT_EQ(dec["diag"]["confinement"]["seccomp"]["udp"], false) << "a TCP destination resolves nothing";
    // -q first: curl never reads a ~/.curlrc.
    EXPECT_EQ(dec["process"]["args"][1], "-q") << dec.dump();
    expect_works("curl -sS -I http://localhost:" + std::to_string(server_.port()) + "/health", "200 OK");
    EXPECT_EQ(server_.requests().back().rfind("HEAD /health ", 0), 0u);
    // Long options with values reach curl as two words (its parser knows no `=`).
    expect_works("curl -sS --connect-timeout 3 --write-out '%{http_code}' " + base_ + "/health", "^healthy\n200$");
}

TEST_F(Network, CurlRefusesOtherHostsSchemesOutputsMethodsAndRedirects) {
    const std::string port = std::to_string(server_.port());
    for (const auto& [request, reason] : std::vector<std::pair<std::string, std::string>>{
             {"curl http://127.0.0.2:" + port + "/health", "destination"},  // another host
             {"curl http://127.1:" + port + "/health", "bad-value"},
             {"curl http://0x7f.0.0.1:" + port + "/health", "bad-value"},
             {"curl http://0177.0.0.1:" + port + "/health", "bad-value"},
             {"curl 'http://[::ffff:127.0.0.1]:" + port + "/health'", "destination"},
             {"curl http://127.0.0.1.:" + port + "/health", "bad-value"},
             {"curl http://user:pw@127.0.0.1:" + port + "/health", "bad-value"},
             {"curl file:///etc/passwd", "bad-value"},
             {"curl ftp://127.0.0.1:" + port + "/", "bad-value"},
             {"curl " + base_ + "/a/../health", "bad-value"},
             {"curl " + base_ + "/%2e%2e/health", "bad-value"},
             {"curl 'http://127.0.0.1:[1-65535]/health'", "bad-value"},
             {"curl -o /tmp/diag-net-out " + base_ + "/health", "unknown-option"},
             {"curl -O " + base_ + "/health", "unknown-option"},
             {"curl -D /tmp/diag-net-hdr " + base_ + "/health", "unknown-option"},
             {"curl -X POST " + base_ + "/health", "unknown-option"},
             {"curl -d x=1 " + base_ + "/health", "unknown-option"},
             {"curl -T /etc/hostname " + base_ + "/health", "unknown-option"},
             {"curl -K /etc/hostname " + base_ + "/health", "unknown-option"},
             {"curl -L " + base_ + "/redirect", "unknown-option"},
             {"curl -x http://127.0.0.1:" + port + " http://127.0.0.2/", "unknown-option"},
             {"curl --resolve localhost:" + port + ":127.0.0.2 " + base_ + "/health", "unknown-option"},
             {"curl -u a:b " + base_ + "/health", "unknown-option"},
             {"curl -H 'Authorization: Bearer x' " + base_ + "/health", "bad-value"},
             {"curl -w @/etc/hostname " + base_ + "/health", "bad-value"},
         }) {
        expect_refused(request, reason);
    }
}

TEST_F(Network, CurlFollowsNoRedirect) {
    if (!have("curl")) {
        GTEST_SKIP() << "curl is not installed (scripts/deps.sh)";
    }
    auto r = run_soc(policy_, "curl -sS -i " + base_ + "/redirect");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("302 Found"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("MOVED-TARGET"), std::string::npos) << r.out;
    for (const auto& line : server_.requests()) {
        EXPECT_EQ(line.find("/moved"), std::string::npos) << line;
    }
}

// A rule of its own that lists one URL prefix: another port and another path are refused.
TEST_F(Network, ARuleListsItsOwnPrefix) {
    if (!have("curl")) {
        GTEST_SKIP() << "curl is not installed (scripts/deps.sh)";
    }
    const std::string p = write_policy(policy("[command.health]\nmatch = [\"health\"]\nprogram = \"curl\"\n"
                                              "description = \"one endpoint\"\nfixed = [\"-q\", \"-sS\"]\n"
                                              "network = true\nconnect = [\"" +
                                              base_ + "/health\"]\n[[command.health.positional]]\ntype = \"url\"\n"),
                                       "one.toml");
    auto r = run_soc(p, "health " + base_ + "/health");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "healthy\n");
    for (const std::string& other :
         {"http://127.0.0.1:" + std::to_string(server_.port() == 65535 ? 1 : server_.port() + 1) + "/health",
          base_ + "/moved", base_ + "/healthz", "https://127.0.0.1:" + std::to_string(server_.port()) + "/health"}) {
        r = run_soc(p, "health " + other);
        EXPECT_EQ(r.exit_code, 126) << other;
        EXPECT_EQ(r.err.rfind("diag-wrapper: denied: destination: ", 0), 0u) << r.err;
    }
    EXPECT_EQ(server_.requests().size(), 1u);
}

TEST_F(Network, NcChecksAPortAndNothingElse) {
    if (!have("nc")) {
        GTEST_SKIP() << "netcat-openbsd is not installed (scripts/deps.sh)";
    }
    auto r = run_soc(policy_, "nc -z 127.0.0.1 " + std::to_string(server_.port()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Listener closed;
    const int free_port = closed.port;
    ::close(closed.fd);
    closed.fd = -1;
    r = run_soc(policy_, "nc -z 127.0.0.1 " + std::to_string(free_port));
    EXPECT_EQ(r.exit_code, 1) << r.err;  // refused by the host, not the wrapper
    const std::string port = std::to_string(server_.port());
    expect_refused("nc -z 127.0.0.2 " + port, "destination");
    expect_refused("nc -l 127.0.0.1 " + port, "unknown-option");
    expect_refused("nc -u 127.0.0.1 " + port, "unknown-option");
    expect_refused("nc -x 127.0.0.1:1080 127.0.0.1 " + port, "unknown-option");
    expect_refused("nc -z 127.0.0.1 1-65535", "bad-value");
    expect_refused("nc -z 127.0.0.1", "positional-count");
}

TEST_F(Network, PingIsBoundedAndOnlyToListedHosts) {
    expect_refused("ping 127.0.0.1", "option-value");  // -c is required
    expect_refused("ping -c 100 127.0.0.1", "bad-value");
    expect_refused("ping -c 1 -f 127.0.0.1", "unknown-option");
    expect_refused("ping -c 1 -p ff 127.0.0.1", "unknown-option");
    expect_refused("ping -c 1 -I lo 127.0.0.1", "unknown-option");
    expect_refused("ping -c 1 -i 0.01 127.0.0.1", "bad-value");
    expect_refused("ping -c 1 192.0.2.1", "destination");
}

TEST_F(Network, OpensslReadsACertificateAndHandshakesOnlyWithListedEndpoints) {
    if (!have("openssl")) {
        GTEST_SKIP() << "openssl is not installed (scripts/deps.sh)";
    }
    const std::string cert = dir_ + "/pub/cert.pem";
    auto made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                             dir_ + "/pub/key.pem", "-out", cert, "-subj", "/CN=diagtest", "-days", "2"},
                            {"PATH=/usr/bin:/bin"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    expect_works("openssl x509 -in " + cert + " -noout -subject -enddate", "CN ?= ?diagtest");
    std::filesystem::copy_file(cert, dir_ + "/secret/cert.pem");
    expect_refused("openssl x509 -in " + dir_ + "/secret/cert.pem -noout -subject", "path-denied");
    expect_refused("openssl x509 -in " + cert + " -out " + dir_ + "/pub/out.pem", "unknown-option");
    expect_refused("openssl x509 -in " + cert + " -signkey " + dir_ + "/pub/key.pem", "unknown-option");
    const std::string port = std::to_string(server_.port());
    expect_refused("openssl s_client -connect 127.0.0.2:" + port, "destination");
    expect_refused("openssl s_client -connect 127.0.0.1:" + port + " -sess_out /tmp/s", "unknown-option");
    expect_refused("openssl s_client -connect 127.0.0.1:" + port + " -keylogfile /tmp/k", "unknown-option");
    expect_refused("openssl s_client -connect 127.0.0.1:" + port + " -proxy 127.0.0.2:3128", "unknown-option");
    // The HTTP server is no TLS server: the handshake fails, but only after TCP was let through,
    // and s_client ends by itself (stdin is /dev/null).
    auto r = run_soc(policy_, "openssl s_client -connect 127.0.0.1:" + port + " -brief");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("wrong version number"), std::string::npos) << r.err;
}

// Landlock holds the child to the port its request named: the same child reaches that port and is
// refused the next one, and binds nothing.
TEST_F(Network, LandlockRefusesAnyOtherPortAndEveryBind) {
    const std::string probe = dir_ + "/try_syscall";
    std::filesystem::copy_file(DIAG_TRY_SYSCALL_BIN, probe);
    ::chmod(probe.c_str(), 0755);
    Listener other;
    ASSERT_GT(other.port, 0);
    const std::string a = std::to_string(server_.port());
    const std::string b = std::to_string(other.port);
    // Control: unconfined, both connects succeed.
    EXPECT_EQ(run_process({probe, "connect-then", "127.0.0.1", a, b}, {}).exit_code, 0);
    const std::string p =
        write_policy(policy("[command.reach]\nmatch = [\"reach\"]\nprogram = \"" + probe +
                            "\"\ndescription = \"probe\"\nfixed = [\"connect-then\"]\nend_of_options = false\n"
                            "network = true\nconnect = [\"127.0.0.1:*\"]\npositional = [{ type = \"target-host\" }, "
                            "{ type = \"target-port\" }, { type = \"regex\", pattern = \"[0-9]{1,5}\" }]\n"
                            "[command.bind]\nmatch = [\"bind\"]\nprogram = \"" +
                            probe +
                            "\"\ndescription = \"probe\"\nfixed = [\"bind-tcp\"]\nend_of_options = false\n"
                            "network = true\nconnect = [\"127.0.0.1:*\"]\npositional = [{ type = \"target-host\" }, "
                            "{ type = \"target-port\" }]\n"),
                     "reach.toml");
    auto r = run_soc(p, "reach 127.0.0.1 " + a + " " + b);
    ASSERT_NE(r.exit_code, 125) << r.err;
    EXPECT_EQ(r.exit_code, EACCES) << "the first port must be reached (253 if not), the second refused: " << r.err;
    r = run_soc(p, "reach 127.0.0.1 " + b + " " + a);
    EXPECT_EQ(r.exit_code, EACCES) << r.err;
    // The port the request names is one to connect to, never to bind.
    Listener spare;
    const std::string free_port = std::to_string(spare.port);
    ::close(spare.fd);
    spare.fd = -1;
    EXPECT_EQ(run_process({probe, "bind-tcp", "127.0.0.1", free_port}, {}).exit_code, 0);
    r = run_soc(p, "bind 127.0.0.1 " + free_port);
    EXPECT_EQ(r.exit_code, EACCES) << r.err;
}

// TCP Fast Open connects inside sendto(2) or sendmsg(2) (MSG_FASTOPEN), where no connect hook
// runs: Landlock's TCP rules may not see it (an open upstream issue). seccomp refuses the flag to
// every network rule, even towards the port its request named, which Landlock allows.
TEST_F(Network, TcpFastOpenIsRefusedEvenToTheNamedPort) {
    const std::string probe = dir_ + "/try_syscall";
    std::filesystem::copy_file(DIAG_TRY_SYSCALL_BIN, probe);
    ::chmod(probe.c_str(), 0755);
    const std::string a = std::to_string(server_.port());
    if (run_process({probe, "fastopen-then", "127.0.0.1", a, a}, {}).exit_code != 0) {
        GTEST_SKIP() << "TCP Fast Open is off for clients here (net.ipv4.tcp_fastopen)";
    }
    EXPECT_EQ(run_process({probe, "fastopen-msg-then", "127.0.0.1", a, a}, {}).exit_code, 0);
    std::string rules;
    for (const std::string mode : {"fastopen-then", "fastopen-msg-then"}) {
        rules += "[command." + mode + "]\nmatch = [\"" + mode + "\"]\nprogram = \"" + probe +
                 "\"\ndescription = \"probe\"\nfixed = [\"" + mode +
                 "\"]\nend_of_options = false\nnetwork = true\nconnect = [\"127.0.0.1:*\"]\n"
                 "positional = [{ type = \"target-host\" }, { type = \"target-port\" }, { type = \"regex\", "
                 "pattern = \"[0-9]{1,5}\" }]\n";
    }
    const std::string p = write_policy(policy(rules), "fastopen.toml");
    for (const std::string mode : {"fastopen-then", "fastopen-msg-then"}) {
        auto r = run_soc(p, mode + " 127.0.0.1 " + a + " " + a);
        ASSERT_NE(r.exit_code, 125) << r.err;
        EXPECT_EQ(r.exit_code, EACCES) << mode << ": the plain connect must succeed (253 if not), the fast open "
                                       << "be refused: " << r.err;
    }
}

// The seccomp filter of a network rule: TCP sockets (which Landlock's rules see), never SCTP or raw;
// UDP only for a request that names no TCP destination (getent resolving names, ping).
TEST_F(Network, NetworkRulesGetTcpNotSctpRawOrUdpWithDestinations) {
    const std::string probe = dir_ + "/try_syscall";
    std::filesystem::copy_file(DIAG_TRY_SYSCALL_BIN, probe);
    ::chmod(probe.c_str(), 0755);
    const std::string args =
        "\"\ndescription = \"probe\"\nfixed = [\"socket\"]\nend_of_options = false\nnetwork = true\n";
    const std::string numbers = "{ type = \"regex\", pattern = \"[0-9]{1,3}\", min = 3, max = 3 }";
    const std::string p =
        write_policy(policy("[command.sock]\nmatch = [\"sock\"]\nprogram = \"" + probe + args +
                            "connect = [\"127.0.0.1:*\"]\npositional = [" + numbers + ", { type = \"endpoint\" }]\n" +
                            "[command.sock-dns]\nmatch = [\"sock-dns\"]\nprogram = \"" + probe + args +
                            "positional = [" + numbers + "]\n"),
                     "sock.toml");
    const std::string inet = std::to_string(AF_INET);
    auto confined = [&](const std::string& rule, int type, int protocol) {
        const std::string host = rule == "sock" ? " 127.0.0.1:9" : "";
        auto r = run_soc(p, rule + " " + inet + " " + std::to_string(type) + " " + std::to_string(protocol) + host);
        EXPECT_NE(r.exit_code, 125) << r.err;
        return r.exit_code;
    };
    auto direct = [&](int type, int protocol) {
        return run_process({probe, "socket", inet, std::to_string(type), std::to_string(protocol)}, {}).exit_code;
    };
    EXPECT_EQ(confined("sock", SOCK_STREAM, 0), 0);
    EXPECT_EQ(confined("sock", SOCK_STREAM, IPPROTO_TCP), 0);
    EXPECT_EQ(direct(SOCK_DGRAM, 0), 0);
    EXPECT_EQ(confined("sock", SOCK_DGRAM, 0), EACCES) << "UDP with destinations";
    EXPECT_EQ(confined("sock", SOCK_DGRAM, IPPROTO_UDP), EACCES);
    EXPECT_EQ(confined("sock-dns", SOCK_DGRAM, 0), 0) << "UDP without destinations (DNS)";
    EXPECT_EQ(direct(SOCK_RAW, IPPROTO_ICMP), 0) << "the test runs as root: a raw socket is allowed to it";
    EXPECT_EQ(confined("sock", SOCK_RAW, IPPROTO_ICMP), EACCES);
    EXPECT_EQ(confined("sock-dns", SOCK_RAW, IPPROTO_UDP), EACCES);
    EXPECT_EQ(confined("sock", SOCK_SEQPACKET, 0), EACCES);
    // SCTP and MPTCP stream sockets, which Landlock's TCP rules do not see: refused whether or not
    // the kernel has them (the control says which).
    for (const int protocol : {132 /* IPPROTO_SCTP */, 262 /* IPPROTO_MPTCP */}) {
        SCOPED_TRACE(protocol);
        EXPECT_EQ(confined("sock", SOCK_STREAM, protocol), EACCES)
            << "control (unconfined): " << direct(SOCK_STREAM, protocol);
        EXPECT_EQ(confined("sock-dns", SOCK_STREAM, protocol), EACCES);
    }
}

// ping for real, as an unprivileged account runs it (an ICMP echo socket, never raw: the seccomp
// filter refuses raw sockets even to root): as nobody, in a network namespace of its own whose
// net.ipv4.ping_group_range admits nobody's group (the host's may not).
TEST_F(Network, PingRunsForAnAccountTheGroupRangeAdmits) {
    if (!have("ping") || !have("unshare") || !have("setpriv") || ::access("/usr/sbin/ip", X_OK) != 0) {
        GTEST_SKIP() << "needs iputils-ping, unshare, setpriv and ip";
    }
    std::ifstream in(policy_);
    std::stringstream text;
    text << in.rdbuf();
    std::string nobody = std::regex_replace(text.str(), std::regex(R"(\naccount = "root")"), "\naccount = \"nobody\"");
    nobody = std::regex_replace(nobody, std::regex(R"(\nchain = "[^"]*")"), "");
    const std::string p = write_policy(nobody, "nobody.toml");
    write(audit_, "", 0660);  // root-owned, the group's (as the installer leaves it for diag)
    ASSERT_EQ(::chown(audit_.c_str(), 0, 65534), 0);
    const std::string script =
        "ip link set lo up && echo '65534 65534' > /proc/sys/net/ipv4/ping_group_range && "
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$0\" --policy \"$1\"";
    auto r = run_process({"/usr/bin/unshare", "-n", "/bin/sh", "-c", script, wrapper_bin(), p},
                         {"SSH_ORIGINAL_COMMAND=ping -c 2 -i 0.2 -W 2 127.0.0.1",
                          "SSH_CONNECTION=192.0.2.7 50000 127.0.0.1 22", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("2 received"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace diag::testing
