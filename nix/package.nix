# SPDX-License-Identifier: Apache-2.0
#
# diag-wrapper for nixpkgs: `pkgs.callPackage ./nix/package.nix { }`.
# Dependencies as in adr/0002 (no boost, no spdlog): libseccomp, toml++ (header-only use),
# nlohmann_json, zlib; GoogleTest for the unit tests. No libsystemd: the journald sink writes the
# native protocol to the journal socket itself.
{
  lib,
  stdenv,
  cmake,
  pkg-config,
  scdoc,
  libseccomp,
  tomlplusplus,
  nlohmann_json,
  zlib,
  gtest,
  openssh,
}:
let
  root = ../.;
  cmakeLists = builtins.readFile ../CMakeLists.txt;
  # The version lives in one place: project(diag-wrapper VERSION x.y.z ...).
  version = builtins.head (builtins.match ".*project\\(diag-wrapper VERSION ([0-9.]+)[ )].*" cmakeLists);
  # The auditors' tool, where this source tree builds it.
  hasDiagAudit = lib.hasInfix "add_executable(diag-audit" cmakeLists;
in
stdenv.mkDerivation (finalAttrs: {
  pname = "diag-wrapper";
  inherit version;

  # The C++ sources only: Nix files, build trees and VCS data stay out, so editing nix/ does not
  # rebuild the package.
  src = lib.cleanSourceWith {
    src = lib.cleanSource root;
    filter =
      path: type:
      let
        rel = lib.removePrefix (toString root + "/") (toString path);
        top = builtins.head (lib.splitString "/" rel);
      in
      !(
        lib.hasPrefix "build" top
        || lib.elem top [
          "nix"
          "flake.nix"
          "flake.lock"
          "result"
          ".ci"
          ".cache"
        ]
      );
  };

  nativeBuildInputs = [
    cmake
    pkg-config
    scdoc # the manual pages (man/, adr/0019)
  ];

  buildInputs = [
    libseccomp
    tomlplusplus
    nlohmann_json
    zlib
  ];

  checkInputs = [ gtest ];
  # The SSH key-parsing unit tests call ssh-keygen (they skip when it is missing).
  nativeCheckInputs = [ openssh ];

  cmakeFlags = [
    (lib.cmakeBool "DIAG_BUILD_TESTS" finalAttrs.doCheck)
    (lib.cmakeBool "DIAG_BUILD_BENCH" false)
    # A dynamic binary: nixpkgs rebuilds dependants when glibc or libstdc++ is patched. The
    # static PIE of the presets starts ~0.1 ms faster per request (adr/0002).
    (lib.cmakeBool "DIAG_STATIC" false)
    # nixpkgs' compiler may be newer than the one the warning set is tuned for; warnings stay
    # visible in the log but do not fail the build.
    (lib.cmakeBool "DIAG_WERROR" false)
    # On every platform: the CMake helper picks the control-flow flag per architecture
    # (-fcf-protection on x86, -mbranch-protection=standard on aarch64).
    (lib.cmakeBool "DIAG_HARDEN" true)
    # The only policy the wrapper reads when it is the login shell; the NixOS module installs it.
    (lib.cmakeFeature "DIAG_DEFAULT_POLICY" "/etc/diag-wrapper/policy.toml")
  ];

  doCheck = true;
  # Unit tests and the fuzz-corpus replays only. The unit tests run as the unprivileged build user;
  # those that need root skip with a reason (the project's CI runs them the same way as nobody:
  # ctest unit_tests_unprivileged). The integration and confinement tests need root,
  # a real sshd and root-owned files, which the build sandbox does not have (they run in the
  # project's CI and, end to end, in the NixOS VM test: checks.<system>.vm).
  checkPhase = ''
    runHook preCheck
    ./tests/diag_unit_tests --gtest_brief=1
    ctest --output-on-failure -R '_fuzz_replay$'
    runHook postCheck
  '';

  # CMake installs bin/, libexec/diag-wrapper/audit-rotate, share/diag-wrapper/ (default.toml, the
  # logrotate and sshd templates), share/man and the READMEs; the ADRs go with them.
  # (The cmake hook builds in ./build, so the source tree is ..)
  postInstall = ''
    install -Dm0644 ../adr/*.md -t $out/share/doc/diag-wrapper/adr
  '';

  doInstallCheck = true;
  installCheckPhase = ''
    runHook preInstallCheck
    test -x $out/bin/diag-wrapper
    ${lib.optionalString hasDiagAudit "test -x $out/bin/diag-audit"}
    test -f $out/share/diag-wrapper/default.toml
    test -x $out/libexec/diag-wrapper/audit-rotate
    ls $out/share/man/man8/diag-wrapper.8* $out/share/man/man5/diag-wrapper.toml.5* $out/share/man/man8/diag-audit.8* >/dev/null
    runHook postInstallCheck
  '';

  meta = {
    description = "Fail-closed SSH ForceCommand for read-only diagnostics";
    license = lib.licenses.asl20;
    # seccomp.cc's compat filter is written for these two syscall tables (adr/0007).
    platforms = [ "x86_64-linux" "aarch64-linux" ];
    mainProgram = "diag-wrapper";
  };
})
