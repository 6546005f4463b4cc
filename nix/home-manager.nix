# SPDX-License-Identifier: Apache-2.0
#
# home-manager module for the client side: an ssh_config block that sends the fleet hosts to the
# diag account with the diag key.
#
# The failure it prevents: an agent connected to a fleet host with its own user name and its
# personal key, because a block of the user's that also matched the host came first (ssh keeps the
# first value it obtains for User and IdentitiesOnly) or the host fell through to `Host *`.
#
# What ssh then does for a fleet host: it logs in as `user`; the diag block is placed before every
# other block of programs.ssh (home-manager renders `*` last anyway), so no block of the user's
# can set User or IdentitiesOnly first. Keys offered: the diag IdentityFile first; then the
# IdentityFile of any later block that also matches the host (IdentityFile adds up across blocks,
# e.g. one in `Host *`; the module warns about that case); never another key of an ssh-agent
# (IdentitiesOnly yes). programs.ssh.extraOptionOverrides and includes come before every block:
# overrides that decide the connection are refused, includes get a warning (ADR 0010).
#
# Works with home-manager's `programs.ssh.matchBlocks` (up to 25.11) and `programs.ssh.settings`
# (26.05 and later, where matchBlocks is a deprecated alias); the option present is used.
{
  config,
  options,
  lib,
  ...
}:
let
  inherit (lib)
    mkEnableOption
    mkOption
    mkIf
    mkMerge
    optionalAttrs
    optional
    types
    concatStringsSep
    filter
    attrNames
    elem
    toLower
    hasInfix
    ;

  cfg = config.programs.diag-client;
  hasSettings = options.programs.ssh ? settings;
  hostLine = concatStringsSep " " cfg.hosts;
  blocks = if hasSettings then config.programs.ssh.settings else config.programs.ssh.matchBlocks;
  blockName = if hasSettings then "Host ${hostLine}" else "diag-fleet";
  # Before every other block, `*` included (home-manager 25.05 sorts `*` like any other block;
  # later releases render it last). A user block that asks to come before this one is a cycle,
  # which home-manager reports.
  first = lib.hm.dag.entryBefore (filter (n: n != blockName) (attrNames blocks));
  starIdentity =
    let
      star = (blocks."*" or { data = { }; }).data;
    in
    (star.IdentityFile or star.identityFile or null) != null && (star.IdentityFile or star.identityFile or [ ]) != [ ];

  # programs.ssh.extraOptionOverrides are written before every block, and ssh keeps the first
  # value it obtains, so any of these would decide for the fleet hosts instead of the diag block:
  # who logs in, with which key, to which address, through which proxy or multiplexed connection,
  # and what runs locally or remotely.
  decidingOptions = [
    "user"
    "identityfile"
    "identitiesonly"
    "identityagent"
    "certificatefile"
    "pkcs11provider"
    "securitykeyprovider"
    "hostname"
    "port"
    "proxycommand"
    "proxyjump"
    "proxyusefdpass"
    "remotecommand"
    "localcommand"
    "permitlocalcommand"
    "include"
    "match"
    "host"
  ];
  overrides = config.programs.ssh.extraOptionOverrides or { };
  # A ControlPath is harmless when it names the remote user (%r, or %C, which hashes it in): the
  # diag connection then never reuses a master connection of the personal account.
  sharedControlPath =
    n: v: toLower n == "controlpath" && !(elem (toString v) [ "none" ]) && !(hasInfix "%r" (toString v)) && !(hasInfix "%C" (toString v));
  decidingOverrides = filter (n: elem (toLower n) decidingOptions || sharedControlPath n overrides.${n}) (attrNames overrides);
  includes = config.programs.ssh.includes or [ ];
in
{
  _class = "homeManager";

  options.programs.diag-client = {
    enable = mkEnableOption "SSH client settings for the diag account on fleet hosts";

    hosts = mkOption {
      type = types.nonEmptyListOf (types.strMatching "[^[:space:]]+");
      example = [
        "*.fleet.example"
        "web-02"
      ];
      description = "Host patterns (ssh_config `Host` syntax) of the hosts that run diag-wrapper.";
    };

    user = mkOption {
      type = types.str;
      default = "diag";
      description = "The remote account (services.diag-wrapper.user on the hosts).";
    };

    identityFile = mkOption {
      type = types.str;
      example = "~/.ssh/id_ed25519_diag";
      description = ''
        The diag private key (or its `.pub` when the private half lives only in the agent).
        ssh offers it first to the hosts above, and no key of an ssh-agent that is not named
        (IdentitiesOnly). An IdentityFile of another block that also matches the host (such as
        `Host *`) is offered after it, because IdentityFile adds up across blocks.
      '';
    };
  };

  config = mkIf cfg.enable (mkMerge [
    { programs.ssh.enable = true; }
    {
      assertions = [
        {
          assertion = decidingOverrides == [ ];
          message = "programs.diag-client: programs.ssh.extraOptionOverrides sets ${concatStringsSep ", " decidingOverrides}; home-manager writes those before every Host block and ssh keeps the first value, so they would decide for ${hostLine} instead of the diag block (user ${cfg.user}, the diag key only). Set them in a block of their own (e.g. `Host * ${concatStringsSep " " (map (h: "!" + h) cfg.hosts)}`; a ControlPath is fine when it holds %C or %r).";
        }
      ];
      warnings = optional (includes != [ ]) ''
        programs.diag-client: programs.ssh.includes (${concatStringsSep " " includes}) is written before every
        Host block, so a block in an included file that matches ${hostLine} comes before the diag block and
        decides User, IdentityFile, ProxyCommand and the rest for it. Nothing at evaluation time can read
        those files: check with `ssh -G <fleet host>` that user is ${cfg.user} and the diag key comes first.
      ''
      ++ optional starIdentity ''
        programs.diag-client: the `Host *` block sets IdentityFile, so ssh offers that key to ${hostLine}
        too, after the diag key (IdentityFile adds up across blocks). To offer only the diag key, set it
        in a block that excludes them, e.g. `Host * ${concatStringsSep " " (map (h: "!" + h) cfg.hosts)}`.
      '';
    }
    (optionalAttrs hasSettings {
      programs.ssh.settings.${blockName} = first {
        User = cfg.user;
        IdentityFile = cfg.identityFile;
        IdentitiesOnly = true;
      };
    })
    (optionalAttrs (!hasSettings) {
      programs.ssh.matchBlocks.${blockName} = first {
        host = hostLine;
        inherit (cfg) user identityFile;
        identitiesOnly = true;
      };
    })
  ]);
}
