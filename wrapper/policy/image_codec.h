// SPDX-License-Identifier: Apache-2.0
// The byte encoding of a loaded policy's parts for the compiled image (compiled.h): a writer that
// appends, and a reader that checks every length against what is left, so bytes of any shape
// decode to the same values or to an error, never past the buffer. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wrapper/base/error.h"
#include "wrapper/policy/model.h"

namespace diag::image_codec {

// Appends little-endian integers and length-prefixed strings.
class Writer {
  public:
    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u64(uint64_t v);
    void str(std::string_view s);
    [[nodiscard]] const std::string& bytes() const { return out_; }

  private:
    std::string out_;
};

// Reads what Writer wrote. Every read checks the bytes left; the first short read makes the
// reader failed and every later read returns zero values.
class Reader {
  public:
    explicit Reader(std::string_view in) : in_(in) {}
    uint8_t u8();
    uint64_t u64();
    std::string str();
    // A string as str() reads it, viewed in place (valid while the reader's bytes are).
    std::string_view view();
    // A count of elements each at least one byte long: at most the bytes left.
    size_t count();
    // A flag (0 or 1) or an enumerator below `limit`; anything else fails the reader.
    uint8_t below(uint8_t limit);
    void fail() { failed_ = true; }
    [[nodiscard]] bool ok() const { return !failed_; }
    [[nodiscard]] bool done() const { return !failed_ && pos_ == in_.size(); }
    [[nodiscard]] size_t left() const { return in_.size() - pos_; }

  private:
    std::string_view in_;
    size_t pos_ = 0;
    bool failed_ = false;
};

// The policy without its commands: settings, audit, drop-in directories and deny entries as
// written. encode_rest(p) then decode_rest gives back those fields of p.
void encode_rest(Writer& w, const policy::Policy& p);
void decode_rest(Reader& r, policy::Policy& p);

// One command as loaded (before pinning: exe_path and unavailable are empty).
void encode_command(Writer& w, const policy::Command& c);
[[nodiscard]] policy::Command decode_command(Reader& r);

// Decodes one whole blob with `decode`: an error unless it consumed every byte exactly.
template <typename T, typename F>
[[nodiscard]] Result<T> decode_all(std::string_view bytes, F decode) {
    Reader r(bytes);
    T value = decode(r);
    if (!r.done()) {
        return make_error(ErrorCode::kPolicyInvalid, "compiled policy: malformed");
    }
    return value;
}

}  // namespace diag::image_codec
