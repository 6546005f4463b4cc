// SPDX-License-Identifier: Apache-2.0
#include "wrapper/record/ssh_auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "wrapper/base/encoding.h"
#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"

namespace diag::ssh_auth {

namespace {

// RFC 4251 wire format reader.
class Reader {
  public:
    explicit Reader(std::string_view b) : b_(b) {}
    std::optional<std::string_view> string() {
        auto n = u32();
        if (!n || *n > b_.size() - pos_) {
            return std::nullopt;
        }
        auto s = b_.substr(pos_, *n);
        pos_ += *n;
        return s;
    }
    std::optional<uint32_t> u32() {
        if (b_.size() - pos_ < 4) {
            return std::nullopt;
        }
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            v = (v << 8) | static_cast<unsigned char>(b_[pos_++]);
        }
        return v;
    }
    std::optional<uint64_t> u64() {
        auto hi = u32();
        auto lo = u32();
        if (!hi || !lo) {
            return std::nullopt;
        }
        return (static_cast<uint64_t>(*hi) << 32) | *lo;
    }

  private:
    std::string_view b_;
    size_t pos_ = 0;
};

void put_string(std::string& out, std::string_view s) {
    const auto n = static_cast<uint32_t>(s.size());
    for (int i = 3; i >= 0; --i) {
        out += static_cast<char>((n >> (8 * i)) & 0xFF);
    }
    out += s;
}

// The public fields each certified key type carries, between the nonce and the serial.
int plain_fields(std::string_view plain_type) {
    if (plain_type == "ssh-rsa") return 2;                     // e, n
    if (plain_type == "ssh-dss") return 4;                     // p, q, g, y
    if (plain_type.rfind("ecdsa-sha2-", 0) == 0) return 2;     // curve, Q
    if (plain_type == "ssh-ed25519") return 1;                 // pk
    if (plain_type.rfind("sk-ecdsa-sha2-", 0) == 0) return 3;  // curve, Q, application
    if (plain_type.rfind("sk-ssh-ed25519", 0) == 0) return 2;  // pk, application
    return -1;
}

Result<Certificate> parse_certificate(std::string_view blob, std::string& plain_blob) {
    Reader r(blob);
    auto type = r.string();
    auto nonce = r.string();
    if (!type || !nonce) {
        return make_error(ErrorCode::kInternal, "certificate: truncated header");
    }
    std::string plain_type(*type);
    plain_type = plain_type.substr(0, plain_type.find("-cert-v01@openssh.com"));
    // sk-* certified types carry the "@openssh.com" suffix on the plain type too.
    if (plain_type.rfind("sk-", 0) == 0) {
        plain_type += "@openssh.com";
    }
    const int nfields = plain_fields(plain_type);
    if (nfields < 0) {
        return make_error(ErrorCode::kInternal, "certificate: unknown key type " + std::string(*type));
    }
    // The fingerprint of a certificate is that of its plain key (OpenSSH sshkey_fingerprint).
    put_string(plain_blob, plain_type);
    for (int i = 0; i < nfields; ++i) {
        auto f = r.string();
        if (!f) {
            return make_error(ErrorCode::kInternal, "certificate: truncated key");
        }
        put_string(plain_blob, *f);
    }
    Certificate c;
    auto serial = r.u64();
    auto cert_type = r.u32();
    auto key_id = r.string();
    auto principals = r.string();
    auto after = r.u64();
    auto before = r.u64();
    auto critical = r.string();
    auto extensions = r.string();
    auto reserved = r.string();
    auto ca = r.string();
    if (!serial || !cert_type || !key_id || !principals || !after || !before || !critical || !extensions || !reserved ||
        !ca) {
        return make_error(ErrorCode::kInternal, "certificate: truncated body");
    }
    c.serial = *serial;
    c.key_id = std::string(*key_id);
    Reader pr(*principals);
    while (auto p = pr.string()) {
        c.principals.emplace_back(*p);
    }
    Reader cr(*ca);
    if (auto ca_type = cr.string()) {
        c.ca_type = std::string(*ca_type);
    }
    c.ca_fingerprint = fingerprint(*ca);
    return c;
}

}  // namespace

std::string fingerprint(std::string_view blob) { return "SHA256:" + util::base64_encode(sha256_raw(blob), false); }

Result<Key> parse_publickey_line(std::string_view line) {
    std::istringstream in{std::string(line)};
    std::string method, type, b64;
    in >> method >> type >> b64;
    if (method != "publickey" || type.empty() || b64.empty()) {
        return make_error(ErrorCode::kInternal, "not a publickey line");
    }
    auto blob = util::base64_decode(b64);
    if (!blob) {
        return make_error(ErrorCode::kInternal, "publickey: bad base64");
    }
    Reader r(*blob);
    auto inner_type = r.string();
    if (!inner_type || *inner_type != type) {
        return make_error(ErrorCode::kInternal, "publickey: type does not match the key blob");
    }
    Key k;
    k.type = type;
    if (type.find("-cert-v01@openssh.com") != std::string::npos) {
        std::string plain;
        DIAG_TRY_ASSIGN(Certificate c, parse_certificate(*blob, plain));
        k.fingerprint = fingerprint(plain);
        k.certificate = std::move(c);
    } else {
        k.fingerprint = fingerprint(*blob);
    }
    return k;
}

Result<std::optional<Key>> from_environment() {
    const char* path = std::getenv("SSH_USER_AUTH");
    if (path == nullptr || *path == '\0') {
        return std::optional<Key>();
    }
    sys::UniqueFd fd(::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kInternal, std::string("open(SSH_USER_AUTH ") + path + ")", errno);
    }
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(fd.get(), path, ErrorCode::kInternal));
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorCode::kInternal, std::string("SSH_USER_AUTH ") + path + ": not a regular file");
    }
    DIAG_TRY_ASSIGN(std::string text, sys::read_all(fd.get(), path, kMaxAuthInfoBytes));
    std::optional<Key> last;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("publickey ", 0) == 0) {
            DIAG_TRY_ASSIGN(Key k, parse_publickey_line(line));
            last = std::move(k);
        }
    }
    return last;
}

}  // namespace diag::ssh_auth
