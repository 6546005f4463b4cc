# SPDX-License-Identifier: Apache-2.0
# The Debian package (adr/0020): `cpack -G DEB` in a build directory (scripts/build-deb.sh) makes
# diag-wrapper_VERSION_ARCH.deb from what `cmake --install` installs, plus the files under /etc
# (added to the staging tree by deb-etc.cmake: cmake --install itself never writes /etc) and the
# maintainer scripts in packaging/debian.

# Installed everywhere: the rotation hooks, the logrotate and sshd drop-in templates.
install(PROGRAMS ${CMAKE_CURRENT_LIST_DIR}/audit-rotate DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/diag-wrapper)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/logrotate.conf ${CMAKE_CURRENT_LIST_DIR}/sshd-diag-wrapper.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/diag-wrapper)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME diag-wrapper)
set(CPACK_PACKAGE_VENDOR diag-wrapper)
set(CPACK_PACKAGE_CONTACT "diag-wrapper maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "fail-closed SSH ForceCommand for read-only diagnostics")
set(CPACK_PACKAGE_DESCRIPTION
    "diag-wrapper tokenizes an SSH request itself, matches it against a TOML allowlist, checks every path against a denylist of secrets and runs the pinned binary confined by Landlock, seccomp and rlimits, audit-logging every request. The package creates the account diag, its audit trail and an sshd drop-in.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES TRUE)
# useradd/groupadd (passwd), chattr/lsattr (e2fsprogs), flock (util-linux, essential).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "openssh-server, passwd, e2fsprogs")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst ${CMAKE_CURRENT_LIST_DIR}/debian/postrm
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb-etc.cmake)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/package)
include(CPack)
