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
# (IdentitiesOnly yes).
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
      warnings = optional starIdentity ''
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
