// SPDX-License-Identifier: Apache-2.0
// Reading passwd(5) text as glibc's "files" source does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace diag::util {

// The name of `uid` in passwd(5) text: the first well-formed entry with that uid, as glibc's
// "files" source answers; nullopt when there is none. NIS compat lines (+, -) are skipped.
[[nodiscard]] std::optional<std::string> passwd_name(std::string_view passwd, unsigned uid);

// The uid of the first well-formed entry named `name`, read the same way.
[[nodiscard]] std::optional<unsigned> passwd_uid(std::string_view passwd, std::string_view name);

// The uid and primary gid of the first well-formed entry named `name`, read the same way.
[[nodiscard]] std::optional<std::pair<unsigned, unsigned>> passwd_ids(std::string_view passwd, std::string_view name);

// The gids of the group(5) entries that list `name` as a member, in order (the groups
// initgroups(3) adds from the files source).
[[nodiscard]] std::vector<unsigned> member_gids(std::string_view group, std::string_view name);

}  // namespace diag::util
