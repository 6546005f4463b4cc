// SPDX-License-Identifier: Apache-2.0
// The compiled policy image: its format, the checks before one is used, and --compile (see
// compiled.h).
#include "wrapper/policy/compiled.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/image_codec.h"

namespace diag::compiled {

namespace {

constexpr char kMagic[] = "DIAGPIMG";
constexpr size_t kMagicBytes = sizeof kMagic - 1;
constexpr size_t kDigestBytes = 32;

Error malformed(const std::string& what) { return make_error(ErrorCode::kPolicyInvalid, "compiled policy: " + what); }

// The head: the key, the policy without commands, the index.
std::string encode_head(const policy::Policy& p, const std::vector<Entry>& index) {
    image_codec::Writer w;
    w.str(p.sha256);
    image_codec::Writer rest;
    image_codec::encode_rest(rest, p);
    w.str(rest.bytes());
    w.u64(index.size());
    for (const auto& e : index) {
        w.u64(e.first.size());
        for (const auto& f : e.first) {
            w.str(f);
        }
        w.u64(e.offset);
        w.u64(e.length);
        w.str(e.sha256);
    }
    return w.bytes();
}

Entry read_entry(image_codec::Reader& r) {
    Entry e;
    e.first.resize(r.count());
    for (auto& f : e.first) {
        f = r.str();
    }
    e.offset = r.u64();
    e.length = r.u64();
    e.sha256 = r.str();
    return e;
}

// The index must describe the blobs exactly: in order, back to back, covering them all, so no
// byte of the image is outside every digest.
Status check_index(const std::vector<Entry>& index, size_t blob_bytes) {
    uint64_t at = 0;
    for (const auto& e : index) {
        if (e.offset != at || e.length > blob_bytes - at || e.sha256.size() != kDigestBytes || e.first.empty()) {
            return malformed("index does not match the commands");
        }
        at += e.length;
    }
    if (at != blob_bytes) {
        return malformed("index does not match the commands");
    }
    return ok_status();
}

bool names_any(const Entry& e, const std::vector<std::string>& words) {
    return std::any_of(e.first.begin(), e.first.end(),
                       [&](const std::string& f) { return std::find(words.begin(), words.end(), f) != words.end(); });
}

Result<std::string> read_image(const std::string& path, uid_t owner) {
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, sys::open_trusted(path, O_RDONLY | O_NONBLOCK, owner, ErrorCode::kPolicyInvalid));
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(fd.get(), path, ErrorCode::kPolicyInvalid));
    if (!S_ISREG(st.st_mode)) {
        return malformed(path + ": not a regular file");
    }
    return sys::read_all(fd.get(), path, kMaxImageBytes);
}

// Writes `bytes` to `path` through a new file beside it, renamed over it once complete.
Status write_replacing(const std::string& path, const std::string& bytes) {
    const std::string tmp = path + ".new";
    (void)::unlink(tmp.c_str());
    sys::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd.valid()) {
        return sys_error(ErrorCode::kInternal, "open(" + tmp + ")", errno);
    }
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = ::write(fd.get(), bytes.data() + off, bytes.size() - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return sys_error(ErrorCode::kInternal, "write(" + tmp + ")", errno);
        }
        off += static_cast<size_t>(n);
    }
    // fchmod: the umask must not leave it unreadable to the account the wrapper runs as.
    if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        (void)::unlink(tmp.c_str());
        return sys_error(ErrorCode::kInternal, "writing " + path, err);
    }
    return ok_status();
}

}  // namespace

Result<std::string> image_path(const std::string& policy_path) {
    DIAG_TRY_ASSIGN(std::string real, sys::real_path(policy_path, ErrorCode::kPolicyInvalid));
    return real + ".compiled";
}

std::string encode(const policy::Policy& p) {
    std::vector<Entry> index;
    std::string blobs;
    for (const auto& c : p.commands) {
        image_codec::Writer w;
        image_codec::encode_command(w, c);
        index.push_back({c.match.at(0), blobs.size(), w.bytes().size(), sha256_raw(w.bytes())});
        blobs += w.bytes();
    }
    const std::string head = encode_head(p, index);
    image_codec::Writer out;
    out.u64(kFormatVersion);
    std::string bytes = kMagic;
    bytes += out.bytes();
    bytes += sha256_raw(head);
    image_codec::Writer len;
    len.u64(head.size());
    return bytes + len.bytes() + head + blobs;
}

Result<Image> parse(std::string_view bytes) {
    if (bytes.size() < kMagicBytes || bytes.substr(0, kMagicBytes) != std::string_view(kMagic, kMagicBytes)) {
        return malformed("not an image");
    }
    image_codec::Reader top(bytes.substr(kMagicBytes));
    const uint64_t version = top.u64();
    if (!top.ok() || version != kFormatVersion) {
        return malformed("format version " + std::to_string(version) + ", this build reads " +
                         std::to_string(kFormatVersion));
    }
    const size_t fixed = kMagicBytes + 8 + kDigestBytes + 8;
    if (bytes.size() < fixed) {
        return malformed("truncated");
    }
    const std::string_view digest = bytes.substr(kMagicBytes + 8, kDigestBytes);
    image_codec::Reader lr(bytes.substr(kMagicBytes + 8 + kDigestBytes, 8));
    const uint64_t head_len = lr.u64();
    if (head_len > bytes.size() - fixed) {
        return malformed("truncated");
    }
    const std::string_view head = bytes.substr(fixed, head_len);
    if (sha256_raw(head) != digest) {
        return malformed("head does not match its digest");
    }
    Image img;
    image_codec::Reader r(head);
    img.key = r.str();
    DIAG_TRY(image_codec::decode_all<bool>(r.str(), [&img](image_codec::Reader& in) {
        image_codec::decode_rest(in, img.policy);
        return true;
    }));
    img.index.resize(r.count());
    for (auto& e : img.index) {
        e = read_entry(r);
    }
    if (!r.done()) {
        return malformed("head malformed");
    }
    img.blobs = bytes.substr(fixed + head_len);
    DIAG_TRY(check_index(img.index, img.blobs.size()));
    if (img.key != img.policy.sha256) {
        return malformed("head malformed");
    }
    return img;
}

Result<Loaded> commands(Image img, const std::vector<std::string>* words) {
    Loaded out{std::move(img.policy), words == nullptr};
    for (const auto& e : img.index) {
        if (words != nullptr && !names_any(e, *words)) {
            continue;
        }
        const std::string_view blob = img.blobs.substr(e.offset, e.length);
        if (sha256_raw(blob) != e.sha256) {
            return malformed("a command does not match its digest");
        }
        DIAG_TRY_ASSIGN(policy::Command c, image_codec::decode_all<policy::Command>(blob, image_codec::decode_command));
        if (c.match[0] != e.first) {
            return malformed("a command does not match its index entry");
        }
        out.policy.commands.push_back(std::move(c));
    }
    return out;
}

Result<Loaded> load(const std::string& policy_path, const std::vector<std::string>* words,
                    const policy_loader::Options& opts) {
    DIAG_TRY_ASSIGN(const std::string path, image_path(policy_path));
    DIAG_TRY_ASSIGN(const std::string bytes, read_image(path, opts.trusted_owner));
    DIAG_TRY_ASSIGN(Image img, parse(bytes));
    // The key is the digest of the files the image was compiled from; equal to the files' digest
    // now, it was compiled from these very bytes (the include directories come from the main
    // file, which the digest covers).
    DIAG_TRY_ASSIGN(const std::string now, policy_loader::source_digest(policy_path, img.policy.include, opts));
    if (now != img.key) {
        return malformed("stale: the policy's files changed since it was compiled");
    }
    return commands(std::move(img), words);
}

Result<std::string> write(const policy::Policy& p, const std::string& policy_path) {
    DIAG_TRY_ASSIGN(const std::string path, image_path(policy_path));
    DIAG_TRY(write_replacing(path, encode(p)));
    return path;
}

}  // namespace diag::compiled
