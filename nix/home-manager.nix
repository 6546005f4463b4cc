# SPDX-License-Identifier: Apache-2.0
#
# home-manager module for the client side: an ssh_config block that sends only the diag key to
# the fleet, as the diag user.
#
# The failure it prevents: an agent connected to a fleet host with its own user name, its ssh-agent
# offered the personal key first, and the session fell through to the `Host *` defaults. With
# `IdentitiesOnly yes` ssh offers only the IdentityFile named here, even when an agent holds other
# keys, and `User diag` is set before any `Host *` block can set a user.
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
    types
    concatStringsSep
    ;

  cfg = config.programs.diag-client;
  hasSettings = options.programs.ssh ? settings;
  hostLine = concatStringsSep " " cfg.hosts;
  # Before `*`: home-manager 25.05 sorts `*` like any other block; later releases put it last.
  before = lib.hm.dag.entryBefore [ "*" ];
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
        Only this key is offered to the hosts above.
      '';
    };
  };

  config = mkIf cfg.enable (mkMerge [
    { programs.ssh.enable = true; }
    (optionalAttrs hasSettings {
      programs.ssh.settings."Host ${hostLine}" = before {
        User = cfg.user;
        IdentityFile = cfg.identityFile;
        IdentitiesOnly = true;
      };
    })
    (optionalAttrs (!hasSettings) {
      programs.ssh.matchBlocks.diag-fleet = before {
        host = hostLine;
        inherit (cfg) user identityFile;
        identitiesOnly = true;
      };
    })
  ]);
}
