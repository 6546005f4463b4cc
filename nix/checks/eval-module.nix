# SPDX-License-Identifier: Apache-2.0
#
# Evaluate nix/module.nix with lib.evalModules, the real nixpkgs lib and the stubs beside this file,
# and return what the module generates, as JSON:
#
#   nix-instantiate --store dummy:// --eval --strict --json nix/checks/eval-module.nix \
#     --argstr libPath /path/to/nixpkgs.lib/lib [--argstr scenario web02|minimal] \
#     [--argstr hostKey /path/to/hostkey] [--arg extra '{ services.diag-wrapper.user = "root"; }']
#     [--arg earlyNeighbour true]   (a loosening Match block placed before the diag block)
#
# tests/nix/run_nix_checks.sh asserts on the result.
{
  libPath,
  scenario ? "web02",
  hostKey ? "/etc/ssh/ssh_host_ed25519_key",
  extra ? { },
  earlyNeighbour ? false,
}:
let
  lib = import libPath;
  scenarios = {
    web02 = ./host-web02.nix;
    minimal = {
      services.openssh.enable = true;
      services.diag-wrapper = {
        enable = true;
        authorizedKeys = [
          {
            key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5/aElKUSSZagCtVb3A1wEoVVdSb1kheK4zS2lE ci@example";
            principal = "ci-agent";
          }
        ];
      };
    };
  };
  eval = lib.evalModules {
    modules = [
      ./nixos-stubs.nix
      ../module.nix
      (import ./sshd-neighbours.nix { inherit hostKey earlyNeighbour; })
      { _module.args.pkgs = import ./pkgs-stub.nix { inherit lib; }; }
      scenarios.${scenario}
      extra
    ];
  };
  c = eval.config;
  cfg = c.services.diag-wrapper;
  u = c.users.users.${cfg.user};
  # environment.etc sources are the stub's { diagStub = "toml"; value = ...; } records, or
  # { diagStub = "text"; text = ...; } where a host set `text`.
  etcValue =
    v:
    if builtins.isAttrs v.source && v.source ? diagStub then
      v.source.value or v.source.text
    else
      toString v.source;
in
{
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
  inherit (c) warnings;
  user = {
    inherit (u)
      name
      isSystemUser
      isNormalUser
      group
      extraGroups
      description
      home
      createHome
      hashedPassword
      ;
    shell = toString u.shell;
    authorizedKeys = u.openssh.authorizedKeys.keys;
  };
  groups = builtins.attrNames c.users.groups;
  wrapper = "${cfg.package}/bin/diag-wrapper";
  sshdExtraConfig = c.services.openssh.extraConfig;
  sshdConfig = c.services.openssh.renderedConfig;
  sshdLogLevel = c.services.openssh.settings.LogLevel;
  etc = builtins.mapAttrs (_: etcValue) (
    lib.filterAttrs (n: _: lib.hasPrefix "diag-wrapper/" n) c.environment.etc
  );
  # How each of those is installed: a copy (mode) with its owner, or "symlink".
  etcInstall = builtins.mapAttrs (_: v: { inherit (v) mode user group; }) (
    lib.filterAttrs (n: _: lib.hasPrefix "diag-wrapper/" n) c.environment.etc
  );
  # The module's activation snippets, as { deps, text, supportsDryActivation }.
  activationScripts = lib.filterAttrs (n: _: lib.hasPrefix "diag-wrapper" n) c.system.activationScripts;
  # The final sshd_config as NixOS would install it (what the sshd build check reads).
  sshdConfigFile = c.environment.etc."ssh/sshd_config".source.text;
  # system.checks as derivation records: name, script and passthru (the stub runCommand), with
  # each policy file's store path mapped to the attribute set it renders.
  buildChecks = map (d: {
    inherit (d) name script;
    passthru =
      if d.passthru ? policyFiles then
        {
          inherit (d.passthru) wrapper;
          policyFiles = builtins.mapAttrs (_: f: {
            storePath = f.outPath;
            inherit (f) value;
          }) d.passthru.policyFiles;
        }
      else
        d.passthru;
  }) c.system.checks;
  tmpfiles = c.systemd.tmpfiles.rules;
  logrotate = c.services.logrotate.settings;
  sysctl = c.boot.kernel.sysctl;
  systemPackages = map toString c.environment.systemPackages;
  policy = cfg.policy;
  dropIns = cfg.dropIns;
}
