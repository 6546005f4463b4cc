# SPDX-License-Identifier: Apache-2.0
#
# NixOS module: the `diag` account, reachable only through sshd with diag-wrapper as both its
# login shell and its ForceCommand. Decisions and their reasons: adr/0010-nixos-account-shell-sshd.md.
# This file is what the module writes (account, keys, /etc/diag-wrapper, activation, sshd block,
# build checks, audit files); its options are declared in module-options.nix, and the
# configurations it refuses are in module-assertions.nix.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkIf
    mkMerge
    mkDefault
    mkOrder
    optional
    optionals
    concatMap
    filter
    mapAttrs
    mapAttrs'
    nameValuePair
    elem
    makeBinPath
    escapeShellArg
    ;

  cfg = config.services.diag-wrapper;
  render = import ./render.nix;
  tomlFormat = pkgs.formats.toml { };

  wrapper = "${cfg.package}/bin/diag-wrapper";

  # The shipped policy is the base. Every value in it is a default (mkDefault) that a host can
  # replace, except deny.paths: that list is defined at normal priority, so what a host adds is
  # appended, and an assertion (module-assertions.nix) refuses a configuration that drops any
  # base entry (mkForce).
  basePolicy = builtins.removeAttrs render.defaultPolicy [ "audit" ] // {
    # The wrapper serves this account only (settings.account): another local account running
    # the world-executable wrapper is refused.
    settings = render.defaultPolicy.settings // {
      account = cfg.user;
    };
    command = builtins.removeAttrs render.defaultPolicy.command cfg.disabledCommands;
  };
  asDefaults =
    path: v:
    if builtins.isAttrs v then
      mapAttrs (n: asDefaults (path ++ [ n ])) v
    else if path == [ "deny" "paths" ] then
      v
    else
      mkDefault v;

  principals = render.principalsOf cfg.authorizedKeys;
  fingerprints = map (k: k.fingerprint) (filter (k: k.fingerprint != null) cfg.authorizedKeys);

  hostDropIn = render.dropIn {
    denyPaths = cfg.extraDenyPaths;
    commands = cfg.extraCommands;
  };
  hasHostDropIn = cfg.extraDenyPaths != [ ] || cfg.extraCommands != { };

  # /etc/diag-wrapper/* exactly as this module renders them; an assertion holds environment.etc
  # to these, so a host cannot swap the policy for one without the base deny entries.
  # Root-owned 0444 copies, not symlinks into the store: the compiled image is written beside the
  # policy's real path, which must be a writable directory (adr/0024).
  etcCopy = source: {
    inherit source;
    mode = "0444";
    user = "+0";
    group = "+0";
  };
  policyEtc =
    {
      "diag-wrapper/policy.toml" = etcCopy (tomlFormat.generate "diag-wrapper-policy.toml" cfg.policy);
    }
    // mapAttrs' (
      name: value:
      nameValuePair "diag-wrapper/policy.d/${name}.toml" (
        etcCopy (tomlFormat.generate "diag-wrapper-${name}.toml" ({ version = 1; } // value))
      )
    ) cfg.dropIns;
  # Compiles the installed policy into its image (adr/0021) on every activation, after /etc is set
  # up. Never fails the activation: without an image requests parse the files, as before.
  compileActivation = ''
    if ! _diag_out=$(${wrapper} --compile --policy ${render.policyFile} 2>&1); then
      echo "diag-wrapper: warning: no compiled policy image, requests parse ${render.policyFile}: ''${_diag_out//$'\n'/; }" >&2 || true
    fi
    unset _diag_out
  '';

  # The authorized_keys lines this module writes; any other line for the account has neither
  # restrict nor the forced command.
  keyLines = map (
    k:
    render.authorizedKeyLine {
      forceCommand = wrapper;
      inherit (k) key from;
    }
  ) cfg.authorizedKeys;
  diagBlock = render.matchBlock {
    inherit (cfg) user;
    forceCommand = wrapper;
  };

  # sops-nix decrypts every secret with this key. Where sops-nix is imported and the key is set,
  # the key is denied: under impermanence it lives in /persist or another path the shipped list
  # (which has /var/lib/sops-nix) does not name.
  sopsAgeKeyFile = config.sops.age.keyFile or null;

  # Programs the build-time checks run must run on the build machine (as nixpkgs' own sshd check).
  buildRunsHost = pkgs.stdenv.buildPlatform.canExecute pkgs.stdenv.hostPlatform;
  buildChecks = import ./build-checks.nix {
    inherit lib;
    inherit (pkgs) runCommand;
    sshdPackage = if buildRunsHost then config.services.openssh.package else pkgs.buildPackages.openssh;
    # The file the openssh module installs as /etc/ssh/sshd_config.
    sshdConfig = config.environment.etc."ssh/sshd_config".source;
    sshdCheckArgs =
      [
        "--user"
        cfg.user
        "--force-command"
        wrapper
        "--keys-file"
        render.authorizedKeysFile
      ]
      # Local ports, addresses and routing domains come from the file's Port and ListenAddress lines.
      ++ concatMap (a: [ "--addr" a ]) cfg.buildChecks.clientAddresses;
    wrapper =
      if buildRunsHost then wrapper else "${pkgs.buildPackages.callPackage ./package.nix { }}/bin/diag-wrapper";
    policyFiles = mapAttrs' (n: v: nameValuePair (lib.removePrefix "diag-wrapper/" n) v.source) policyEtc;
  };

in
{
  _class = "nixos";

  options.services.diag-wrapper = import ./module-options.nix { inherit lib pkgs; };

  config = mkIf cfg.enable (mkMerge [
    {
      services.diag-wrapper.policy = mkMerge [
        (asDefaults [ ] basePolicy)
        {
          audit = render.auditTable {
            inherit (cfg.audit) sinks file chain;
            inherit principals;
          };
        }
      ];
      services.diag-wrapper.dropIns."50-host" = mkIf hasHostDropIn hostDropIn;
      services.diag-wrapper.extraDenyPaths = optional (sopsAgeKeyFile != null) (toString sopsAgeKeyFile);

      users.users.${cfg.user} = {
        isSystemUser = true;
        group = cfg.user;
        description = "Read-only diagnostics through diag-wrapper";
        home = "/var/empty";
        createHome = false;
        # sshd runs ForceCommand through the login shell (`SHELL -c CMD`); NixOS's default for
        # system users is nologin, which would end every session before the wrapper runs.
        shell = wrapper;
        # `*`: no password can match, and sshd (with UsePAM no) does not treat it as locked
        # the way it treats `!`.
        hashedPassword = "*";
        extraGroups = optional cfg.journalAccess "systemd-journal";
        openssh.authorizedKeys.keys = keyLines;
      };
      users.groups.${cfg.user} = { };

      boot.kernel.sysctl = mkIf cfg.kernelLogAccess { "kernel.dmesg_restrict" = 0; };

      environment.etc = policyEtc;
      # After `etc` (which installs the copies above): requests use the image from the moment it
      # is written; between the two they parse the new files (a stale image is never used).
      system.activationScripts.diag-wrapper-compile = {
        deps = [ "etc" ];
        text = compileActivation;
      };

      environment.systemPackages = [ cfg.package ];

      # First in extraConfig, before every other Match block: for each keyword sshd keeps the
      # first value it obtains from the Match blocks that apply, so an earlier block (say
      # `Match Address 192.0.2.0/24` with `PermitTTY yes`) would loosen the account. `Match all`
      # at its end puts the global lines that follow back in the global context.
      services.openssh.extraConfig = mkOrder render.matchBlockOrder diagBlock;

      # What the order cannot promise (a block placed even earlier, settings rendered as Match
      # blocks by a future openssh module) the real sshd proves on the final file at build time.
      # (Without openssh there is no sshd_config to check; an assertion reports that instead.)
      system.checks = optionals (cfg.buildChecks.enable && config.services.openssh.enable) [
        buildChecks.sshd
        buildChecks.policy
      ];
      # VERBOSE: sshd logs which key (file and line) was accepted, next to the fingerprint; the
      # audit record carries the same fingerprint (ExposeAuthInfo), which joins the two.
      services.openssh.settings.LogLevel = mkDefault "VERBOSE";

      systemd.tmpfiles.rules =
        optionals (elem "file" cfg.audit.sinks) (render.auditFileRules {
          inherit (cfg.audit) file appendOnly;
          group = cfg.user;
        })
        ++ render.chainStateRules {
          inherit (cfg.audit) chain;
          group = cfg.user;
        };

      services.logrotate.settings.diag-wrapper = mkIf (elem "file" cfg.audit.sinks && cfg.audit.rotate.enable) (
        let
          # The hooks of the Debian package, with the tools they call on their PATH.
          hook =
            step:
            "PATH=${makeBinPath [ pkgs.e2fsprogs pkgs.util-linux pkgs.coreutils ]} "
            + "${cfg.package}/libexec/diag-wrapper/audit-rotate ${step} ${escapeShellArg cfg.audit.file}";
        in
        {
          files = cfg.audit.file;
          inherit (cfg.audit.rotate) frequency;
          rotate = cfg.audit.rotate.keep;
          compress = true;
          missingok = true;
          notifempty = true;
          copytruncate = false;
          create = "0620 root ${cfg.user}";
          prerotate = hook "pre";
          postrotate = hook "post";
        }
      );

      warnings =
        optional (cfg.authorizedKeys == [ ]) ''
          services.diag-wrapper is enabled without authorizedKeys: nobody can log in as ${cfg.user}.
        ''
        ++ optional (fingerprints == [ ] && cfg.authorizedKeys != [ ]) ''
          services.diag-wrapper.authorizedKeys: no key has a fingerprint, so audit records name keys
          by fingerprint only. Add `fingerprint = "SHA256:...";` (from `ssh-keygen -lf KEY.pub`)
          to map them to their principal.
        '';

      assertions = import ./module-assertions.nix {
        inherit
          lib
          pkgs
          config
          cfg
          render
          wrapper
          policyEtc
          keyLines
          fingerprints
          diagBlock
          ;
      };
    }
  ]);
}
