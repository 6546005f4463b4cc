# SPDX-License-Identifier: Apache-2.0
# CPack pre-build script (package.cmake): the package's files under /etc, copied in the staging
# tree from what was installed under /usr/share/diag-wrapper. Both are conffiles
# (debian/conffiles): dpkg keeps an operator's edits across upgrades.
set(share "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/usr/share/diag-wrapper")
set(etc "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/etc")
if(NOT EXISTS "${share}/default.toml")
    message(FATAL_ERROR "deb-etc.cmake: ${share}/default.toml not staged")
endif()
file(MAKE_DIRECTORY "${etc}/diag-wrapper/policy.d" "${etc}/logrotate.d")
file(COPY_FILE "${share}/default.toml" "${etc}/diag-wrapper/policy.toml")
file(COPY_FILE "${share}/logrotate.conf" "${etc}/logrotate.d/diag-wrapper")
