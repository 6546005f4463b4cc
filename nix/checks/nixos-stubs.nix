# SPDX-License-Identifier: Apache-2.0
#
# Stand-ins for the NixOS options module.nix writes to, with the types nixpkgs declares for them
# (users-groups.nix, sshd.nix, etc.nix, activation-script.nix, tmpfiles.nix, assertions.nix), so
# module.nix can be evaluated with lib.evalModules and the nixpkgs lib alone. Full nixpkgs is not
# needed, and not available on the project's CI machines.
#
# Also imitates sshd.nix's layout of sshd_config: `settings` rendered first, then `extraConfig`,
# where the openssh module's own lines sit at mkOrder 0.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;

  userModule =
    { name, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
        };
        isSystemUser = mkOption {
          type = types.bool;
          default = false;
        };
        isNormalUser = mkOption {
          type = types.bool;
          default = false;
        };
        group = mkOption {
          type = types.str;
          default = "";
        };
        extraGroups = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        description = mkOption {
          type = types.str;
          default = "";
        };
        home = mkOption {
          type = types.str;
          default = "/var/empty";
        };
        createHome = mkOption {
          type = types.bool;
          default = false;
        };
        # nixpkgs: nullOr (either shellPackage (passwdEntry path)), default pkgs.shadow (nologin)
        shell = mkOption {
          type = types.nullOr (types.either types.package types.path);
          default = "/run/current-system/sw/bin/nologin";
        };
        hashedPassword = mkOption {
          type = types.nullOr types.str;
          default = null;
        };
        openssh.authorizedKeys.keys = mkOption {
          type = types.listOf types.singleLineStr;
          default = [ ];
        };
        openssh.authorizedKeys.keyFiles = mkOption {
          type = types.listOf types.path;
          default = [ ];
        };
      };
    };
in
{
  options = {
    # nixpkgs (sysctl.nix): attrsOf (nullOr (oneOf [ bool str int ])); anything here
    boot.kernel.sysctl = mkOption {
      type = types.attrsOf types.anything;
      default = { };
    };
    users.users = mkOption {
      type = types.attrsOf (types.submodule userModule);
      default = { };
    };
    users.groups = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.gid = mkOption {
            type = types.nullOr types.int;
            default = null;
          };
        }
      );
      default = { };
    };

    services.openssh.enable = mkOption {
      type = types.bool;
      default = false;
    };
    services.openssh.package = mkOption {
      type = types.unspecified;
      default = "/nix/store/11111111111111111111111111111111-openssh";
    };
    services.openssh.ports = mkOption {
      type = types.listOf types.port;
      default = [ 22 ];
    };
    services.openssh.extraConfig = mkOption {
      type = types.lines;
      default = "";
    };
    services.openssh.settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf (
          types.oneOf [
            types.bool
            types.int
            types.str
            (types.listOf types.str)
          ]
        );
        options.LogLevel = mkOption {
          type = types.nullOr (
            types.enum [
              "QUIET"
              "FATAL"
              "ERROR"
              "INFO"
              "VERBOSE"
              "DEBUG"
              "DEBUG1"
              "DEBUG2"
              "DEBUG3"
            ]
          );
          default = "INFO";
        };
      };
      default = { };
    };
    # Not a nixpkgs option: the file sshd.nix would write, for the checks.
    services.openssh.renderedConfig = mkOption {
      type = types.str;
      readOnly = true;
    };

    # As etc.nix: `text`, when set, becomes `source` at the priority `text` was defined with;
    # `target` defaults to the name.
    environment.etc = mkOption {
      type = types.attrsOf (
        types.submodule (
          { name, config, options, ... }:
          {
            options.source = mkOption { type = types.unspecified; };
            # etc.nix: the path under /etc the entry is installed at, the attribute name unless
            # set; entries with enable = false are not installed at all.
            options.target = mkOption { type = types.str; };
            options.enable = mkOption {
              type = types.bool;
              default = true;
            };
            options.text = mkOption {
              type = types.nullOr types.lines;
              default = null;
            };
            options.mode = mkOption {
              type = types.str;
              default = "symlink";
            };
            # user and group default to the numeric uid and gid, as in etc.nix.
            options.uid = mkOption {
              type = types.int;
              default = 0;
            };
            options.gid = mkOption {
              type = types.int;
              default = 0;
            };
            options.user = mkOption {
              type = types.str;
              default = "+${toString config.uid}";
            };
            options.group = mkOption {
              type = types.str;
              default = "+${toString config.gid}";
            };
            config.target = lib.mkDefault name;
            config.source = lib.mkIf (config.text != null) (
              lib.mkDerivedConfig options.text (pkgs.writeText (baseNameOf name))
            );
          }
        )
      );
      default = { };
    };
    # activation-script.nix: a snippet is its text, or { deps, text, supportsDryActivation }.
    system.activationScripts = mkOption {
      type = types.attrsOf (
        types.either types.str (
          types.submodule {
            options.deps = mkOption {
              type = types.listOf types.str;
              default = [ ];
            };
            options.text = mkOption { type = types.lines; };
            options.supportsDryActivation = mkOption {
              type = types.bool;
              default = false;
            };
          }
        )
      );
      default = { };
    };
    system.checks = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };

    systemd.tmpfiles.rules = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    # logrotate.nix: one attribute set of directives per entry (bool, int, str, list of str).
    services.logrotate.settings = mkOption {
      type = types.attrsOf (types.attrsOf (types.oneOf [ types.bool types.int types.str (types.listOf types.str) ]));
      default = { };
    };

    assertions = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
    warnings = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
  };

  # sshd.nix installs the final file here; the module's build-time check reads it. And the key
  # files, as sshd.nix's authKeysFiles writes them.
  config.environment.etc =
    {
      "ssh/sshd_config".source = pkgs.writeText "sshd.conf-final" config.services.openssh.renderedConfig;
    }
    // lib.listToAttrs (
      map
        (
          u:
          lib.nameValuePair "ssh/authorized_keys.d/${u.name}" {
            mode = "0444";
            source = pkgs.writeText "${u.name}-authorized_keys" ''
              ${lib.concatStringsSep "\n" u.openssh.authorizedKeys.keys}
              ${lib.concatMapStrings (f: lib.readFile f + "\n") u.openssh.authorizedKeys.keyFiles}
            '';
          }
        )
        (
          lib.attrValues (
            lib.filterAttrs (
              _: u: u.openssh.authorizedKeys.keys != [ ] || u.openssh.authorizedKeys.keyFiles != [ ]
            ) config.users.users
          )
        )
    );

  config.services.openssh.renderedConfig =
    let
      render =
        v:
        if builtins.isBool v then
          (if v then "yes" else "no")
        else if builtins.isList v then
          lib.concatStringsSep " " v
        else
          toString v;
      settings = lib.filterAttrs (_: v: v != null) config.services.openssh.settings;
    in
    lib.concatStrings (lib.mapAttrsToList (k: v: "${k} ${render v}\n") settings)
    + config.services.openssh.extraConfig;
}
