// SPDX-License-Identifier: Apache-2.0
// The `connect` key (connect_rules.h) and the shipped network, container and Nix rules as the
// matcher reads them: what each allows, every refused option named, and the destinations a request
// carries to the confinement. (tests/integration/network_test.cc runs them for real.)
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/policy/policy_text.h"
#include "tests/unit/policy/shipped_policy.h"
#include "wrapper/policy/help.h"
#include "wrapper/policy/loader.h"
#include "wrapper/request/command.h"
#include "wrapper/request/matcher.h"
#include "wrapper/request/targets.h"

namespace diag::policy_loader {
namespace {

using test::BadPolicy;
using test::kHead;

using test::shipped;

Result<matcher::Match> match(const std::string& request) {
    auto argv = command::tokenize(request);
    if (!argv.ok()) {
        return std::move(argv).error();
    }
    return matcher::match(shipped(), *argv);
}

// Allowed, by rule `id`, with these exec args.
void expect_allowed(const std::string& request, const std::string& id, const std::vector<std::string>& args = {}) {
    auto m = match(request);
    ASSERT_TRUE(m.ok()) << request << " => " << m.error().describe();
    EXPECT_EQ(m->command->id, id) << request;
    if (!args.empty()) {
        EXPECT_EQ(m->exec_args, args) << request;
    }
}

void expect_refused(const std::string& request, const std::string& reason) {
    auto m = match(request);
    ASSERT_FALSE(m.ok()) << request << " was allowed by " << m->command->id;
    EXPECT_EQ(m.error().reason, reason) << request << " => " << m.error().describe();
}

TEST(ConnectKey, IsCheckedAgainstTheRulesArguments) {
    const std::string rule = "[command.c]\nmatch = [\"curl\"]\nprogram = \"curl\"\ndescription = \"d\"\n";
    test::expect_rejected({
        {std::string(kHead) + rule + "network = true\nconnect = [\"http://db.internal:*/\"]\n" +
             "positional = [{ type = \"url\" }]\n",
         "IPv4 address", 12, 0},
        {std::string(kHead) + rule + "network = true\nconnect = []\npositional = [{ type = \"url\" }]\n",
         "1 to 64 destinations", 12, 0},
        {std::string(kHead) + rule + "connect = [\"http://127.0.0.1:*/\"]\npositional = [{ type = \"url\" }]\n",
         "needs network = true", 0, 0},
        {std::string(kHead) + rule + "network = true\nconnect = [\"http://127.0.0.1:*/\"]\n" +
             "positional = [{ type = \"string\" }]\n",
         "no argument is typed url", 0, 0},
        {std::string(kHead) + rule + "network = true\npositional = [{ type = \"url\" }]\n",
         "needs the rule's connect list", 0, 0},
        {std::string(kHead) + rule + "network = true\nconnect = [\"127.0.0.1:*\"]\n" +
             "positional = [{ type = \"target-port\" }, { type = \"endpoint\" }]\n",
         "a target-port goes with exactly one target-host", 0, 0},
    });
}

TEST(NetworkRules, CurlAllowsGetAndHeadOfListedPrefixesOnly) {
    expect_allowed("curl -sS http://127.0.0.1:8080/health", "curl",
                   {"-q", "--globoff", "--proto", "=http,https", "--noproxy", "*", "--max-redirs", "0", "--max-time",
                    "10", "--max-filesize", "1048576", "-s", "-S", "--", "http://127.0.0.1:8080/health"});
    expect_allowed("curl -I -k https://localhost:8443/", "curl");
    expect_allowed("curl -s -w '%{http_code}\\n' 'http://[::1]:9090/metrics'", "curl");
    expect_allowed("curl -H 'Accept: application/json' http://127.0.0.1/", "curl");
    // curl's parser knows no `--name=value`: the rule passes long values as the next word.
    expect_allowed(
        "curl --connect-timeout=3 --write-out '%{http_code}' --header 'Accept: text/plain' http://127.0.0.1/", "curl",
        {"-q",
         "--globoff",
         "--proto",
         "=http,https",
         "--noproxy",
         "*",
         "--max-redirs",
         "0",
         "--max-time",
         "10",
         "--max-filesize",
         "1048576",
         "--connect-timeout",
         "3",
         "--write-out",
         "%{http_code}",
         "--header",
         "Accept: text/plain",
         "--",
         "http://127.0.0.1/"});
    auto m = match("curl http://127.0.0.1:8080/health");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(targets::tcp_ports(m->targets), std::vector<uint16_t>{8080});
    for (const std::string opt : {"-o /tmp/x",
                                  "-O",
                                  "-D /tmp/h",
                                  "--output-dir /tmp",
                                  "-c /tmp/j",
                                  "-K /etc/hostname",
                                  "--config /x",
                                  "-n",
                                  "-T /etc/hostname",
                                  "-d x",
                                  "--data x",
                                  "--data-binary @/etc/hostname",
                                  "-F a=b",
                                  "--json '{}'",
                                  "-X POST",
                                  "--request PUT",
                                  "-L",
                                  "--location",
                                  "-x http://127.0.0.1:3128",
                                  "--proxy x",
                                  "--socks5 127.0.0.1:1080",
                                  "--preproxy x",
                                  "--connect-to ::127.0.0.2:",
                                  "--resolve localhost:80:10.0.0.1",
                                  "--interface lo",
                                  "-u a:b",
                                  "--oauth2-bearer t",
                                  "-E cert",
                                  "-b a=b",
                                  "-m 600",
                                  "--max-time 600",
                                  "-q",
                                  "-g",
                                  "--proto =all",
                                  "--url http://127.0.0.1/",
                                  "-e http://x",
                                  "--libcurl /tmp/c"}) {
        expect_refused("curl " + opt + " http://127.0.0.1/", "unknown-option");
    }
    for (const std::string header : {"'Authorization: Bearer x'", "'Cookie: a=b'", "'Proxy-Authorization: x'"}) {
        expect_refused("curl -H " + header + " http://127.0.0.1/", "bad-value");
    }
    expect_refused("curl -w @/etc/hostname http://127.0.0.1/", "bad-value");
    expect_refused("curl -w '%{stderr}' http://127.0.0.1/", "bad-value");
    expect_refused("curl http://127.0.0.2/", "destination");
    expect_refused("curl http://127.0.0.1/ http://127.0.0.1/x", "positional-count");
}

TEST(NetworkRules, NcPingAndOpensslName) {
    expect_allowed("nc -z 127.0.0.1 22", "nc", {"-z", "-w", "5", "-z", "--", "127.0.0.1", "22"});
    auto m = match("nc -zv localhost 5432");
    ASSERT_TRUE(m.ok()) << m.error().describe();
    ASSERT_EQ(m->targets.size(), 1u);
    EXPECT_EQ(m->targets[0].host, "localhost");
    EXPECT_EQ(m->targets[0].port, 5432);
    for (const std::string opt : {"-l", "-k", "-p 1234", "-s 127.0.0.1", "-x 127.0.0.1:1080", "-X 5", "-U", "-u",
                                  "-e /bin/sh", "-c", "-N", "-q 1", "-T x", "-w 3600", "-P user"}) {
        expect_refused("nc -z " + opt + " 127.0.0.1 22", "unknown-option");
    }
    expect_refused("nc -z 127.0.0.1 20-25", "bad-value");
    expect_refused("nc -z 10.1.2.3 22", "destination");

    expect_allowed("ping -c 3 127.0.0.1", "ping", {"-n", "-c", "3", "--", "127.0.0.1"});
    m = match("ping -c 3 ::1");
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(targets::tcp_ports(m->targets).empty());  // ICMP: no TCP port is opened
    expect_allowed("ping -c 10 -i 2 -W 5 -w 20 -q localhost", "ping");
    for (const std::string opt : {"-f", "-p ff", "-I lo", "-B", "-l 3", "-s 65000", "-b", "-r", "-R", "-T tsonly",
                                  "-M do", "-Q 1", "-m 1", "-t 1", "-a", "-F 1", "-e 1"}) {
        expect_refused("ping -c 1 " + opt + " 127.0.0.1", "unknown-option");
    }
    expect_refused("ping 127.0.0.1", "option-value");
    expect_refused("ping -c 11 127.0.0.1", "bad-value");
    expect_refused("ping -c 1 -i 0.1 127.0.0.1", "bad-value");
    expect_refused("ping -c 1 -i 3 127.0.0.1", "bad-value");
    expect_refused("ping -c 1 -i 2.5 127.0.0.1", "bad-value");  // 10 x 2 s + 5 s: under the timeout
    expect_refused("ping -c 1 8.8.8.8", "destination");

    expect_allowed("openssl x509 -in /etc/ssl/cert.pem -noout -dates -subject", "openssl-x509");
    for (const std::string opt :
         {"-out /tmp/x", "-signkey /tmp/k", "-key /tmp/k", "-CA /tmp/ca", "-CAkey /tmp/k", "-req", "-x509toreq",
          "-set_serial 1", "-days 1", "-passin pass:x", "-engine foo", "-provider foo", "-provider-path /tmp",
          "-rand /tmp/r", "-writerand /tmp/r", "-config /tmp/c"}) {
        expect_refused("openssl x509 -in /etc/ssl/cert.pem " + opt, "unknown-option");
    }
    expect_refused("openssl x509 -noout -dates", "option-value");  // -in is required
    expect_allowed("openssl s_client -connect 127.0.0.1:443 -servername example.org -brief", "openssl-s_client");
    m = match("openssl s_client -connect '[::1]:8443'");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(targets::tcp_ports(m->targets), std::vector<uint16_t>{8443});
    for (const std::string opt :
         {"-sess_out /tmp/s", "-sess_in /tmp/s", "-keylogfile /tmp/k", "-msgfile /tmp/m", "-cert /tmp/c", "-key /tmp/k",
          "-pass pass:x", "-CAfile /tmp/c", "-proxy x:1", "-bind 127.0.0.1:1", "-unix /tmp/s", "-engine e",
          "-provider p", "-reconnect", "-starttls smtp", "-ign_eof", "-quiet"}) {
        expect_refused("openssl s_client -connect 127.0.0.1:443 " + opt, "unknown-option");
    }
    expect_refused("openssl s_client -connect 192.0.2.1:443", "destination");
    expect_refused("openssl s_client -connect 127.0.0.1", "bad-value");
}

TEST(NetworkRules, HelpNamesTheDestinationsAndThePrivilegesNeeded) {
    const std::string curl = help::command_text(shipped(), "curl");
    EXPECT_NE(curl.find("destinations: http://127.0.0.1:*/, https://127.0.0.1:*/"), std::string::npos) << curl;
    const auto j = nlohmann::json::parse(help::json(shipped(), "nc"));
    EXPECT_NE(j.dump().find("\"connect\":[\"127.0.0.1:*\",\"[::1]:*\",\"localhost:*\"]"), std::string::npos)
        << j.dump();
    EXPECT_NE(help::command_text(shipped(), "ping").find("ping_group_range"), std::string::npos);
    for (const std::string tool : {"docker", "podman"}) {
        const std::string text = help::command_text(shipped(), tool);
        EXPECT_NE(text.find("needs"), std::string::npos) << text;
    }
}

TEST(ContainerRules, ListAndBoundedLogsOnly) {
    expect_allowed("podman ps -a", "podman-ps", {"ps", "--remote", "--url", "unix:///run/podman/podman.sock", "-a"});
    expect_allowed("docker ps -a --format json", "docker-ps");
    expect_allowed("docker logs --tail 100 --since 10m web-1", "docker-logs");
    expect_allowed("podman logs --tail 50 -t db", "podman-logs",
                   {"logs", "--remote", "--url", "unix:///run/podman/podman.sock", "--tail=50", "-t", "--", "db"});
    expect_allowed("docker logs -n 50 db", "docker-logs", {"logs", "-n", "50", "--", "db"});
    // podman's -n is --names (a flag): "-n 50 db" would be the logs of containers "50" and db, whole.
    expect_refused("podman logs -n 50 db", "unknown-option");
    for (const std::string tool : {"podman", "docker"}) {
        expect_refused(tool + " logs web-1", "option-value");  // --tail is required
        expect_refused(tool + " logs --tail 100000 web-1", "bad-value");
        for (const std::string opt : {"-f", "--follow", "--details", "--until=", "--tail=all"}) {
            auto m = match(tool + " logs --tail 10 " + opt + " web-1");
            EXPECT_FALSE(m.ok()) << tool << " logs " << opt;
        }
        for (const std::string sub : {"inspect web-1", "exec web-1 sh", "cp web-1:/etc/shadow /tmp", "run alpine",
                                      "attach web-1", "events", "stats", "top web-1"}) {
            expect_refused(tool + " " + sub, "unknown-subcommand");
        }
        expect_refused(tool + " ps --format '{{json .}}'", "bad-value");
        expect_refused(tool + " ps -H tcp://10.0.0.1:2375", "unknown-option");
        expect_refused(tool + " ps --url tcp://10.0.0.1:2375", "unknown-option");
        expect_refused(tool + " logs --tail 10 ../../etc", "bad-value");
    }
}

TEST(NixRules, StoreQueriesNeverEvaluateOrFetch) {
    expect_allowed("nix-store --query --references /", "nix-store-query");  // paths resolve later
    auto m = match("nix-store -q /");
    expect_allowed("nix-store -q --size /", "nix-store-query", {"--query", "-q", "--size", "/"});
    expect_allowed("nix path-info -rSh /", "nix-path-info",
                   {"path-info", "--experimental-features", "nix-command", "--offline", "-r", "-S", "-h", "/"});
    expect_allowed("nix why-depends / /", "nix-why-depends");
    expect_allowed("nix store ping --json", "nix-store-ping");
    expect_allowed("nix store info", "nix-store-ping");
    for (const std::string opt :
         {"--option substitute true", "--store ssh://x", "--roots", "--gc", "--delete", "--realise", "-r",
          "--add /tmp/x", "--import", "--export", "--dump /", "--restore /tmp", "--serve", "--verify",
          "--repair-path /", "--generate-binary-cache-key"}) {
        auto r = match("nix-store " + opt + " /");
        EXPECT_FALSE(r.ok()) << "nix-store " << opt;
    }
    for (const std::string opt : {"--expr '1'", "-f /tmp/x.nix", "--file /tmp/x.nix", "--impure", "--store x",
                                  "--eval-store x", "-I nixpkgs=/tmp", "--arg a b", "--option a b",
                                  "--extra-experimental-features flakes", "--substituters x", "--derivation"}) {
        auto r = match("nix path-info " + opt + " /");
        EXPECT_FALSE(r.ok()) << "nix path-info " << opt;
    }
    // A flake reference is typed as a path: resolution refuses it (not absolute, not under /nix/store).
    m = match("nix path-info 'nixpkgs#hello'");
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(m->paths.size(), 1u);
    EXPECT_EQ(m->paths[0].roots, std::vector<std::string>{"/nix/store"});
    for (const std::string sub :
         {"eval --expr 1", "repl", "build nixpkgs#hello", "run nixpkgs#hello", "shell nixpkgs#hello", "develop",
          "profile install x", "flake show", "store gc", "store delete /", "copy --to x /"}) {
        auto r = match("nix " + sub);
        EXPECT_FALSE(r.ok()) << "nix " << sub;
    }
    for (const std::string tool :
         {"nix-instantiate --eval -E 1", "nix-build -E 1", "nix-shell -p hello", "nix-env -i hello",
          "nix-env --list-generations -p /nix/var/nix/profiles/system", "nixos-rebuild list-generations"}) {
        auto r = match(tool);
        EXPECT_FALSE(r.ok()) << tool;
    }
}

// Nix before 2.13 (Debian 12 ships 2.8) reads a `.drv` operand of `nix why-depends` as its
// outputs and builds them (Realise::Outputs): the daemon would run the derivation's builder and
// write the store. The operands' pattern, matched against the resolved path, refuses a .drv store
// path; a file named so inside a store path is that store path to nix.
TEST(NixRules, WhyDependsNeverNamesADerivation) {
    auto m = match("nix why-depends / /");
    ASSERT_TRUE(m.ok()) << m.error().describe();
    ASSERT_EQ(m->paths.size(), 2u);
    for (const auto& ref : m->paths) {
        ASSERT_NE(ref.operand, nullptr);
        policy::ValueSpec spec;
        spec.type = policy::ValueType::kRegex;
        spec.pattern = ref.operand->value.pattern;
        ASSERT_FALSE(spec.pattern.empty()) << "the operands need a pattern";
        const std::string h = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz";
        for (const std::string& ok :
             std::vector<std::string>{h + "-hello-2.12", h + "-nixos-system-web-02-24.05", h + "-hello/share/x.drv",
                                      h + "-x.drvs", h + "-x-drv", h + "-x.rv"}) {
            EXPECT_TRUE(matcher::check_value(spec, ok, "operand").ok()) << ok;
        }
        for (const std::string& bad :
             std::vector<std::string>{h + "-hello-2.12.drv", h + "-x.drv", "/nix/store/", "/nix/storex", "/etc/x"}) {
            EXPECT_FALSE(matcher::check_value(spec, bad, "operand").ok()) << bad;
        }
    }
    // nix path-info and nix-store --query only read a derivation (Realise::Derivation): allowed.
    m = match("nix path-info /");
    ASSERT_TRUE(m.ok());
    EXPECT_TRUE(m->paths.at(0).operand->value.pattern.empty());
}

}  // namespace
}  // namespace diag::policy_loader
