# SPDX-License-Identifier: Apache-2.0
#
# The two derivations module.nix adds to system.checks, so `nixos-rebuild build` fails before a
# host gets a configuration in which the diag account is loosened or the policy cannot load.
# Reasons: adr/0010-nixos-account-shell-sshd.md. tests/nix runs the same scripts outside Nix
# (nix/sshd-check.sh directly; the policy script with the store paths replaced).
{
  lib,
  runCommand,
  # sshd that can run on the build machine, the final sshd_config and what to ask it.
  sshdPackage,
  sshdConfig,
  sshdCheckArgs,
  # diag-wrapper for the build machine, and the rendered policy: { "policy.toml" = FILE;
  # "policy.d/NAME.toml" = FILE; ... } (paths relative to /etc/diag-wrapper).
  wrapper,
  policyFiles,
}:
let
  policyDir = "etc/diag-wrapper";
  copyPolicy = lib.concatStrings (
    lib.mapAttrsToList (rel: file: ''
      install -D -m 0644 ${file} "${policyDir}/${rel}"
    '') policyFiles
  );
in
{
  # The real sshd on the final file: diag keeps its ForceCommand and restrictions for every
  # client address and port asked, whatever other Match blocks say.
  sshd = runCommand "diag-wrapper-sshd-check" {
    nativeBuildInputs = [ sshdPackage ];
    passthru.checkArgs = sshdCheckArgs;
  } ''
    bash ${./sshd-check.sh} --sshd sshd --config ${sshdConfig} ${lib.escapeShellArgs sshdCheckArgs}
    touch $out
  '';

  # The wrapper's own loader on the files it will read, as the unprivileged build user: a policy
  # error stops the build with file:line:col instead of refusing every request on the host.
  policy = runCommand "diag-wrapper-policy-check" { passthru = { inherit policyFiles wrapper; }; } ''
    ${copyPolicy}
    ${wrapper} --policy "$PWD/${policyDir}/policy.toml" --check --build --include "$PWD/${policyDir}/policy.d"
    touch $out
  '';
}
