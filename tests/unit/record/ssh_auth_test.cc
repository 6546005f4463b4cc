// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/ssh_auth.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace diag::ssh_auth {
namespace {

// Runs a shell command (test setup only) and returns its stdout.
std::string sh(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) {
        return out;
    }
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        out.append(buf, n);
    }
    ::pclose(p);
    return out;
}

std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The "SHA256:..." field of `ssh-keygen -lf FILE`.
std::string keygen_fingerprint(const std::string& file) {
    std::istringstream in(sh("ssh-keygen -lf " + file + " 2>/dev/null"));
    std::string bits, fp;
    in >> bits >> fp;
    return fp;
}

class SshAuth : public ::testing::Test {
  protected:
    void SetUp() override {
        if (std::system("command -v ssh-keygen >/dev/null 2>&1") != 0) {
            GTEST_SKIP() << "ssh-keygen is not installed";
        }
        char tmpl[] = "/tmp/diagkeys.XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        d_ = tmpl;
    }
    void TearDown() override {
        if (!d_.empty()) {
            std::filesystem::remove_all(d_);
        }
    }
    std::string keygen(const std::string& name, const std::string& type) {
        const std::string f = d_ + "/" + name;
        sh("ssh-keygen -q -t " + type + " -N '' -C test -f " + f);
        return f;
    }
    // "publickey TYPE BASE64" as sshd writes it into the SSH_USER_AUTH file.
    static std::string auth_line(const std::string& pubfile) {
        std::istringstream in(read(pubfile));
        std::string type, b64;
        in >> type >> b64;
        return "publickey " + type + " " + b64;
    }
    std::string d_;
};

TEST_F(SshAuth, PlainKeyFingerprintsMatchSshKeygen) {
    for (const char* type : {"ed25519", "rsa", "ecdsa"}) {
        const std::string f = keygen(std::string("k_") + type, type);
        auto k = parse_publickey_line(auth_line(f + ".pub"));
        ASSERT_TRUE(k.ok()) << type << ": " << k.error().msg;
        EXPECT_EQ(k->fingerprint, keygen_fingerprint(f + ".pub")) << type;
        EXPECT_FALSE(k->certificate.has_value());
    }
}

TEST_F(SshAuth, CertificateGivesKeyIdSerialCaAndThePlainKeyFingerprint) {
    const std::string ca = keygen("ca", "ed25519");
    for (const char* type : {"ed25519", "rsa", "ecdsa"}) {
        const std::string f = keygen(std::string("u_") + type, type);
        sh("ssh-keygen -q -s " + ca + " -I ci-agent-7 -n diag,ops -z 4242 " + f + ".pub");
        auto k = parse_publickey_line(auth_line(f + "-cert.pub"));
        ASSERT_TRUE(k.ok()) << type << ": " << k.error().msg;
        ASSERT_TRUE(k->certificate.has_value());
        EXPECT_EQ(k->fingerprint, keygen_fingerprint(f + ".pub")) << type;  // sshd logs this one too
        EXPECT_EQ(k->certificate->key_id, "ci-agent-7");
        EXPECT_EQ(k->certificate->serial, 4242u);
        EXPECT_EQ(k->certificate->ca_fingerprint, keygen_fingerprint(ca + ".pub"));
        EXPECT_EQ(k->certificate->principals, (std::vector<std::string>{"diag", "ops"}));
    }
}

TEST_F(SshAuth, ReadsTheLastPublickeyFromTheAuthInfoFile) {
    const std::string a = keygen("a", "ed25519");
    const std::string b = keygen("b", "ed25519");
    const std::string info = d_ + "/auth";
    std::ofstream(info) << auth_line(a + ".pub") << "\n" << auth_line(b + ".pub") << "\n";
    ::setenv("SSH_USER_AUTH", info.c_str(), 1);
    auto k = from_environment();
    ::unsetenv("SSH_USER_AUTH");
    ASSERT_TRUE(k.ok()) << k.error().msg;
    ASSERT_TRUE(k->has_value());
    EXPECT_EQ((*k)->fingerprint, keygen_fingerprint(b + ".pub"));
    EXPECT_FALSE(from_environment()->has_value());  // unset: no key, no error
}

TEST(SshAuthParse, RefusesMalformedLines) {
    for (const char* bad : {"", "password", "publickey ssh-ed25519", "publickey ssh-ed25519 !!!!",
                            "publickey ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
                            "publickey ssh-ed25519-cert-v01@openssh.com AAAAC3NzaC1lZDI1NTE5"}) {
        EXPECT_FALSE(parse_publickey_line(bad).ok()) << bad;
    }
}

}  // namespace
}  // namespace diag::ssh_auth
