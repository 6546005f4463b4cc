// SPDX-License-Identifier: Apache-2.0
// The compiled policy image: its format, the checks before one is used, and --compile (see
// compiled.h).
#include "wrapper/policy/compiled.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "wrapper/base/sha256.h"
#include "wrapper/base/sys.h"
#include "wrapper/policy/image_codec.h"

namespace diag::compiled {

namespace {

constexpr char kMagic[] = "DIAGPIMG";
constexpr size_t kMagicBytes = sizeof kMagic - 1;
constexpr size_t kDigestBytes = 32;

Error malformed(const std::string& what) { return make_error(ErrorCode::kPolicyInvalid, "compiled policy: " + what); }

// One command in the index: views into the head's bytes.
struct Entry {
    std::vector<std::string_view> first;  // the spellings of its first word (match[0])
    uint64_t offset = 0;                  // of its blob, from the first blob
    uint64_t length = 0;
    std::string_view sha256;  // of the blob, raw
};

static_assert(sizeof(policy_loader::SourceId) == 80, "SourceId changed: encode the new field below");
static_assert(sizeof(Stamp) == 32, "Stamp changed: encode the new field below");

std::string encode_stamp(const Stamp& s) {
    image_codec::Writer w;
    w.u64(static_cast<uint64_t>(s.started_ns));
    w.u64(s.ids.size());
    for (const auto& id : s.ids) {
        w.str(id.path);
        for (const uint64_t v : {id.dev, id.ino, id.size, uint64_t{id.mode}, uint64_t{id.uid},
                                 static_cast<uint64_t>(id.mtime_ns), static_cast<uint64_t>(id.ctime_ns)}) {
            w.u64(v);
        }
    }
    return w.bytes();
}

// A u32 field: anything wider fails the reader (an accepted image re-encodes to its bytes).
uint32_t read_u32(image_codec::Reader& r) {
    const uint64_t v = r.u64();
    if (v > UINT32_MAX) {
        r.fail();
    }
    return static_cast<uint32_t>(v);
}

Stamp decode_stamp(image_codec::Reader& r) {
    Stamp s;
    s.started_ns = static_cast<int64_t>(r.u64());
    // Each entry takes at least its seven u64 fields and a string's length (64 bytes): a count
    // the bytes left cannot hold is refused before anything is allocated for it.
    const size_t n = r.count();
    if (n > r.left() / 64) {
        r.fail();
        return s;
    }
    s.ids.resize(n);
    for (auto& id : s.ids) {
        id.path = r.str();
        id.dev = r.u64();
        id.ino = r.u64();
        id.size = r.u64();
        id.mode = read_u32(r);
        id.uid = read_u32(r);
        id.mtime_ns = static_cast<int64_t>(r.u64());
        id.ctime_ns = static_cast<int64_t>(r.u64());
    }
    return s;
}

// The head: the key, the stamp, the policy without commands, the index.
std::string encode_head(const policy::Policy& p, std::string_view build, const Stamp& stamp, std::string_view snapshot,
                        const std::vector<std::string>& blob_digests, const std::vector<uint64_t>& blob_sizes) {
    image_codec::Writer w;
    w.str(build);
    w.str(p.sha256);
    w.str(encode_stamp(stamp));
    w.str(snapshot);
    image_codec::Writer rest;
    image_codec::encode_rest(rest, p);
    w.str(rest.bytes());
    w.u64(p.commands.size());
    uint64_t offset = 0;
    for (size_t i = 0; i < p.commands.size(); ++i) {
        const auto& first = p.commands[i].match.at(0);
        w.u64(first.size());
        for (const auto& f : first) {
            w.str(f);
        }
        w.u64(offset);
        w.u64(blob_sizes[i]);
        w.str(blob_digests[i]);
        offset += blob_sizes[i];
    }
    return w.bytes();
}

// Calls `each(entry)` for every index entry in order, after checking that the entries tile the
// blobs exactly (in order, back to back, all of them: no byte of the image outside every
// digest). Allocates nothing per entry: a policy of 1000 rules costs a request no more than
// reading its index.
template <typename Each>
Status walk_index(std::string_view index, uint64_t blob_bytes, Each each) {
    image_codec::Reader r(index);
    Entry e;
    uint64_t at = 0;
    for (size_t n = r.count(); n > 0 && r.ok(); --n) {
        e.first.resize(r.count());
        for (auto& f : e.first) {
            f = r.view();
        }
        e.offset = r.u64();
        e.length = r.u64();
        e.sha256 = r.view();
        if (!r.ok() || e.offset != at || e.length > blob_bytes - at || e.sha256.size() != kDigestBytes ||
            e.first.empty()) {
            return malformed("index does not match the commands");
        }
        at += e.length;
        DIAG_TRY(each(e));
    }
    if (!r.done() || at != blob_bytes) {
        return malformed("index does not match the commands");
    }
    return ok_status();
}

bool names_any(const Entry& e, const std::vector<std::string>& words) {
    return std::any_of(e.first.begin(), e.first.end(),
                       [&](std::string_view f) { return std::find(words.begin(), words.end(), f) != words.end(); });
}

// The fixed part before the head: magic, version, the head's digest, its length.
constexpr size_t kFixedBytes = kMagicBytes + 8 + kDigestBytes + 8;

// Checks the fixed part and the head; `total` is the image's size. Returns the head's length.
Result<uint64_t> check_fixed(std::string_view fixed, uint64_t total) {
    if (fixed.size() < kMagicBytes || fixed.substr(0, kMagicBytes) != std::string_view(kMagic, kMagicBytes)) {
        return malformed("not an image");
    }
    image_codec::Reader top(fixed.substr(kMagicBytes));
    const uint64_t version = top.u64();
    if (!top.ok() || version != kFormatVersion) {
        return malformed("format version " + std::to_string(version) + ", this build reads " +
                         std::to_string(kFormatVersion));
    }
    if (fixed.size() < kFixedBytes) {
        return malformed("truncated");
    }
    image_codec::Reader lr(fixed.substr(kMagicBytes + 8 + kDigestBytes, 8));
    const uint64_t head_len = lr.u64();
    if (head_len > total - kFixedBytes) {
        return malformed("truncated");
    }
    return head_len;
}

// The head `head` (its digest checked against the fixed part's), decoded; the blobs are
// `blob_bytes` long and read with `fetch`.
Result<Image> decode_head(std::string_view fixed, std::string head, uint64_t blob_bytes, FetchBlob fetch) {
    if (sha256_raw(head) != fixed.substr(kMagicBytes + 8, kDigestBytes)) {
        return malformed("head does not match its digest");
    }
    Image img;
    image_codec::Reader r(head);
    img.build = r.str();
    img.key = r.str();
    DIAG_TRY_ASSIGN(img.stamp, image_codec::decode_all<Stamp>(r.str(), decode_stamp));
    img.snapshot = r.str();
    DIAG_TRY(image_codec::decode_all<bool>(r.str(), [&img](image_codec::Reader& in) {
        image_codec::decode_rest(in, img.policy);
        return true;
    }));
    if (!r.ok() || img.key != img.policy.sha256) {
        return malformed("head malformed");
    }
    img.index_at = head.size() - r.left();
    img.head = std::move(head);
    img.blob_bytes = blob_bytes;
    DIAG_TRY(walk_index(std::string_view(img.head).substr(img.index_at), blob_bytes,
                        [](const Entry&) { return ok_status(); }));
    img.fetch = std::move(fetch);
    return img;
}

// Reads exactly `n` bytes at `offset` of `fd`.
Result<std::string> read_at(int fd, uint64_t offset, uint64_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
        const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return malformed("read: " + std::string(r < 0 ? std::strerror(errno) : "truncated"));
        }
        got += static_cast<size_t>(r);
    }
    return out;
}

// The image at `path`, opened as the policy is (root-owned, nobody else may write it or a
// directory above it, no symlinks), its head read and checked; its blobs are read on demand.
Result<Image> read_image(const std::string& path, uid_t owner) {
    DIAG_TRY_ASSIGN(sys::UniqueFd fd, sys::open_trusted(path, O_RDONLY | O_NONBLOCK, owner, ErrorCode::kPolicyInvalid));
    DIAG_TRY_ASSIGN(struct stat st, sys::fstat_fd(fd.get(), path, ErrorCode::kPolicyInvalid));
    if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kFixedBytes) ||
        st.st_size > static_cast<off_t>(kMaxImageBytes)) {
        return malformed(path + ": not a regular file of a possible size");
    }
    const auto total = static_cast<uint64_t>(st.st_size);
    DIAG_TRY_ASSIGN(const std::string fixed, read_at(fd.get(), 0, kFixedBytes));
    DIAG_TRY_ASSIGN(const uint64_t head_len, check_fixed(fixed, total));
    DIAG_TRY_ASSIGN(std::string head, read_at(fd.get(), kFixedBytes, head_len));
    const uint64_t blobs_at = kFixedBytes + head_len;
    auto shared = std::make_shared<sys::UniqueFd>(std::move(fd));
    FetchBlob fetch = [shared, blobs_at](uint64_t offset, uint64_t length) {
        return read_at(shared->get(), blobs_at + offset, length);
    };
    return decode_head(fixed, std::move(head), total - blobs_at, std::move(fetch));
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

// The GNU build ID note of the main executable (the first object dl_iterate_phdr reports).
int find_build_id(dl_phdr_info* info, size_t /*size*/, void* out) {
    for (size_t i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_NOTE) {
            continue;
        }
        const char* at = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
        const char* const end = at + ph.p_memsz;
        // Names and descriptors are padded to the segment's alignment: 4, or 8 (.note.gnu.property).
        const size_t pad = ph.p_align == 8 ? 7 : 3;
        while (end - at >= static_cast<ptrdiff_t>(sizeof(ElfW(Nhdr)))) {
            const auto* n = reinterpret_cast<const ElfW(Nhdr)*>(at);
            const size_t name_len = (n->n_namesz + pad) & ~pad;
            const size_t desc_len = (n->n_descsz + pad) & ~pad;
            const char* const name = at + sizeof *n;
            if (static_cast<size_t>(end - name) < name_len + desc_len) {
                break;
            }
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
                static_cast<std::string*>(out)->assign(name + name_len, n->n_descsz);
                return 1;
            }
            at = name + name_len + desc_len;
        }
    }
    return 1;  // only the main executable: a library's ID says nothing of the loader
}

}  // namespace

const std::string& build_id() {
    static const std::string id = [] {
        std::string out;
        (void)::dl_iterate_phdr(find_build_id, &out);
        return out;
    }();
    return id;
}

Result<std::string> image_path(const std::string& policy_path) {
    DIAG_TRY_ASSIGN(std::string real, sys::real_path(policy_path, ErrorCode::kPolicyInvalid));
    return real + ".compiled";
}

std::string encode(const policy::Policy& p, std::string_view build, const Stamp& stamp, std::string_view snapshot) {
    std::vector<std::string> digests;
    std::vector<uint64_t> sizes;
    std::string blobs;
    for (const auto& c : p.commands) {
        image_codec::Writer w;
        image_codec::encode_command(w, c);
        digests.push_back(sha256_raw(w.bytes()));
        sizes.push_back(w.bytes().size());
        blobs += w.bytes();
    }
    const std::string head = encode_head(p, build, stamp, snapshot, digests, sizes);
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
    DIAG_TRY_ASSIGN(const uint64_t head_len, check_fixed(bytes.substr(0, kFixedBytes), bytes.size()));
    const std::string_view blobs = bytes.substr(kFixedBytes + head_len);
    FetchBlob fetch = [blobs](uint64_t offset, uint64_t length) -> Result<std::string> {
        return std::string(blobs.substr(offset, length));
    };
    return decode_head(bytes.substr(0, kFixedBytes), std::string(bytes.substr(kFixedBytes, head_len)), blobs.size(),
                       std::move(fetch));
}

Result<Loaded> commands(Image img, const std::vector<std::string>* words) {
    Loaded out{std::move(img.policy), words == nullptr, false, std::move(img.snapshot)};
    DIAG_TRY(walk_index(std::string_view(img.head).substr(img.index_at), img.blob_bytes, [&](const Entry& e) -> Status {
        if (words != nullptr && !names_any(e, *words)) {
            return ok_status();
        }
        DIAG_TRY_ASSIGN(const std::string blob, img.fetch(e.offset, e.length));
        if (sha256_raw(blob) != e.sha256) {
            return malformed("a command does not match its digest");
        }
        DIAG_TRY_ASSIGN(policy::Command c, image_codec::decode_all<policy::Command>(blob, image_codec::decode_command));
        if (!std::equal(c.match[0].begin(), c.match[0].end(), e.first.begin(), e.first.end())) {
            return malformed("a command does not match its index entry");
        }
        out.policy.commands.push_back(std::move(c));
        return ok_status();
    }));
    return out;
}

Result<Loaded> load(const std::string& policy_path, const std::vector<std::string>* words,
                    const policy_loader::Options& opts) {
    DIAG_TRY_ASSIGN(const std::string path, image_path(policy_path));
    DIAG_TRY_ASSIGN(Image img, read_image(path, opts.trusted_owner));
    if (img.build.empty() || img.build != build_id()) {
        return malformed("written by another build of the wrapper");
    }
    // The key is the digest of the files the image was compiled from; equal to the files' digest
    // now, it was compiled from these very bytes (the include directories come from the main
    // file, which the digest covers). Files whose identities are the settled ones recorded with
    // the key hold those bytes without being read (adr/0026).
    bool by_identity = false;
    if (!img.stamp.ids.empty()) {
        auto ids = policy_loader::source_ids(policy_path, img.policy.include, opts);
        by_identity = ids.ok() && identities_current(img.stamp, *ids);
    }
    if (!by_identity) {
        DIAG_TRY_ASSIGN(const std::string now, policy_loader::source_digest(policy_path, img.policy.include, opts));
        if (now != img.key) {
            return malformed("stale: the policy's files changed since it was compiled");
        }
    }
    DIAG_TRY_ASSIGN(Loaded out, commands(std::move(img), words));
    out.key_by_identity = by_identity;
    return out;
}

bool identities_current(const Stamp& recorded, const std::vector<policy_loader::SourceId>& now, int64_t settle_ns) {
    int64_t limit = 0;  // the newest ctime a settled source may have
    if (__builtin_sub_overflow(recorded.started_ns, settle_ns, &limit)) {
        return false;  // a start no compile records (review finding: it wrapped into "settled")
    }
    const bool settled = std::all_of(recorded.ids.begin(), recorded.ids.end(),
                                     [&](const policy_loader::SourceId& id) { return id.ctime_ns <= limit; });
    return !recorded.ids.empty() && settled && recorded.ids == now;
}

void wait_until_settled(const std::string& policy_path, const std::vector<std::string>& include) {
    auto ids = policy_loader::source_ids(policy_path, include);
    if (!ids.ok() || ids->empty()) {
        return;  // write() records no identities then; requests hash
    }
    int64_t newest = 0;
    for (const auto& id : *ids) {
        newest = std::max(newest, id.ctime_ns);
    }
    // One nanosecond past the margin by the coarse clock the start is taken from (it lags a
    // fine-grained ctime by up to a tick: sleeping by the precise difference once could end
    // just short of it), and never much longer than the margin (a ctime in the future: the
    // clock was set back; those files are then not settled and requests hash them).
    const int64_t give_up = now_ns() + kSettleNs + 50'000'000;
    for (int64_t wait = newest + kSettleNs + 1 - now_ns(); wait > 0 && now_ns() < give_up;
         wait = newest + kSettleNs + 1 - now_ns()) {
        const int64_t step = std::min<int64_t>(wait, kSettleNs) + 1'000'000;
        timespec ts{static_cast<time_t>(step / 1'000'000'000), static_cast<long>(step % 1'000'000'000)};
        while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

int64_t now_ns() {
    timespec ts{};
    // The clock the kernel stamps ctimes from (without fine-grained timestamps): a change made
    // after this moment never gets an earlier ctime than it (review finding: the precise clock
    // runs up to a tick ahead).
    (void)::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Status check_request_path(const std::string& policy_path) {
    const std::string why =
        "the image is keyed by the policy path requests use (sshd's ForceCommand names it "
        "absolute): give that absolute path";
    if (policy_path.empty() || policy_path[0] != '/') {
        return make_error(ErrorCode::kUsage, "the policy path '" + policy_path + "' is relative, and " + why);
    }
    for (size_t at = 1; at <= policy_path.size();) {
        const size_t end = std::min(policy_path.find('/', at), policy_path.size());
        const std::string_view part = std::string_view(policy_path).substr(at, end - at);
        if (part.empty() || part == "." || part == "..") {
            return make_error(ErrorCode::kUsage,
                              "the policy path '" + policy_path + "' has a '.', '..' or empty component, and " + why);
        }
        at = end + 1;
    }
    return ok_status();
}

std::string state(const std::string& policy_path, const policy_loader::Options& opts) {
    const std::string fallback = "; requests parse the policy's files";
    if (auto st = check_request_path(policy_path); !st.ok()) {
        return "compiled image: not checked: " + st.error().msg;
    }
    auto path = image_path(policy_path);
    struct stat st {};
    if (path.ok() && ::lstat(path->c_str(), &st) != 0 && errno == ENOENT) {
        return "compiled image: absent: " + *path + fallback;
    }
    auto loaded = load(policy_path, nullptr, opts);
    if (loaded.ok()) {
        return "compiled image: current: " + *path + " (requests use it)";
    }
    // load()'s reason, naming the image where it does not already name a file.
    std::string why = loaded.error().describe();
    const std::string prefix = "compiled policy: ";
    if (why.rfind(prefix, 0) == 0) {
        why.erase(0, prefix.size());
    }
    if (path.ok() && why.rfind('/', 0) != 0) {
        why = *path + ": " + why;
    }
    return "compiled image: not used: " + why + fallback;
}

Result<std::string> write(const policy::Policy& p, const std::string& policy_path, int64_t started_ns,
                          const policy_loader::Options& opts, std::string_view snapshot) {
    DIAG_TRY_ASSIGN(const std::string path, image_path(policy_path));
    // The identities only if the files still hold the bytes p was loaded from; one changed since
    // has a ctime after started_ns, so it is not settled and requests hash it anyway.
    Stamp stamp{started_ns, {}};
    auto ids = policy_loader::source_ids(policy_path, p.include, opts);
    auto digest = policy_loader::source_digest(policy_path, p.include, opts);
    if (ids.ok() && digest.ok() && *digest == p.sha256) {
        stamp.ids = std::move(ids).value();
    }
    DIAG_TRY(write_replacing(path, encode(p, build_id(), stamp, snapshot)));
    return path;
}

}  // namespace diag::compiled
