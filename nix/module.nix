# SPDX-License-Identifier: Apache-2.0
#
# NixOS module: the `diag` account, reachable only through sshd with diag-wrapper as both its
# login shell and its ForceCommand. Decisions and their reasons: adr/0010-nixos-account-shell-sshd.md.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkEnableOption
    mkOption
    mkIf
    mkMerge
    mkDefault
    mkOrder
    types
    literalExpression
    optional
    optionals
    optionalString
    concatStringsSep
    concatMap
    filter
    attrNames
    mapAttrs
    mapAttrs'
    nameValuePair
    unique
    elem
    splitString
    hasPrefix
    foldl'
    makeBinPath
    escapeShellArg
    ;

  cfg = config.services.diag-wrapper;
  render = import ./render.nix;
  tomlFormat = pkgs.formats.toml { };

  wrapper = "${cfg.package}/bin/diag-wrapper";

  # The shipped policy is the base. Every value in it is a default (mkDefault) that a host can
  # replace, except deny.paths: that list is defined at normal priority, so what a host adds is
  # appended, and the assertion below refuses a configuration that drops any base entry (mkForce).
  basePolicy = builtins.removeAttrs render.defaultPolicy [ "audit" ] // {
    # The wrapper serves this account only (settings.account): another local account running
    # the world-executable wrapper is refused.
    settings = render.defaultPolicy.settings // {
      account = cfg.user;
    };
    command = builtins.removeAttrs render.defaultPolicy.command cfg.disabledCommands;
  };
  unknownDisabled = filter (id: !(render.defaultPolicy.command ? ${id})) cfg.disabledCommands;
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

  mainCommands = attrNames (cfg.policy.command or { });
  dropInCommands = concatMap (d: attrNames (d.command or { })) (builtins.attrValues cfg.dropIns);
  allCommandIds = mainCommands ++ dropInCommands;
  duplicateIds = unique (filter (id: render.countOf id allCommandIds > 1) allCommandIds);

  finalDeny = cfg.policy.deny.paths or [ ];
  missingBaseDeny = filter (p: !(elem p finalDeny)) render.baseDenyPaths;
  allDenyPaths = finalDeny ++ concatMap (d: d.deny.paths or [ ]) (builtins.attrValues cfg.dropIns);
  badDenyPaths = filter (p: !(render.isCleanAbsolutePath p)) allDenyPaths;

  userCfg = config.users.users.${cfg.user};

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
  # Another source or text, or another mode or owner (a symlink again, a file the account may
  # write): each is a policy the module did not render or install.
  replacedEtc = filter (
    n:
    let
      e = config.environment.etc.${n};
      want = policyEtc.${n};
    in
    (e.text or null) != null
    || e.source != want.source
    || (e.mode or "symlink") != want.mode
    || (e.user or "+0") != want.user
    || (e.group or "+0") != want.group
  ) (attrNames policyEtc);
  # Compiles the installed policy into its image (adr/0021) on every activation, after /etc is set
  # up. Never fails the activation: without an image requests parse the files, as before.
  compileActivation = ''
    if ! _diag_out=$(${wrapper} --compile --policy ${render.policyFile} 2>&1); then
      echo "diag-wrapper: warning: no compiled policy image, requests parse ${render.policyFile}: ''${_diag_out//$'\n'/; }" >&2 || true
    fi
    unset _diag_out
  '';
  # Where an environment.etc entry lands under /etc: etc.nix installs it at its target (the name
  # unless set), and not at all with enable = false; null when nothing lands under /etc.
  etcInstalled =
    n:
    let
      e = config.environment.etc.${n};
    in
    if e.enable or true then render.etcInstallPath (e.target or n) else null;
  # Any other entry installed in /etc/diag-wrapper, whatever its name: a drop-in there would be
  # loaded by the wrapper but never seen by the assertions or the build-time check, and another
  # entry at one of the module's paths competes with its file (etc.nix keeps the first source
  # and lets a duplicate of the same source reset mode and owner). A glob source links each
  # match into its target directory, so at /etc itself it can create /etc/diag-wrapper.
  inPolicyDir =
    n:
    let
      p = etcInstalled n;
    in
    p != null
    && (
      p == "diag-wrapper"
      || hasPrefix "diag-wrapper/" p
      || (p == "" && builtins.match ".*[*].*" (toString config.environment.etc.${n}.source) != null)
    );
  foreignEtc = filter (n: !(policyEtc ? ${n}) && inPolicyDir n) (attrNames config.environment.etc);
  describeEtc =
    n:
    let
      target = config.environment.etc.${n}.target or n;
    in
    "\"${n}\"" + optionalString (target != n) " (target \"${target}\")";
  # The module's own entries moved away (target) or switched off (enable): without policy.toml
  # every request is refused, without a drop-in its deny entries are gone without a word.
  movedEtc = filter (n: etcInstalled n != n) (attrNames policyEtc);
  # The include directories the host loads are the ones the build-time check reads (it passes
  # --include with the build's copy of policy.d, and the loader then ignores settings.include).
  policyInclude = cfg.policy.settings.include or [ ];

  # The authorized_keys lines this module writes; any other line for the account has neither
  # restrict nor the forced command.
  keyLines = map (
    k:
    render.authorizedKeyLine {
      forceCommand = wrapper;
      inherit (k) key from;
    }
  ) cfg.authorizedKeys;
  foreignKeys = filter (l: !(elem l keyLines)) userCfg.openssh.authorizedKeys.keys;
  keyFiles = userCfg.openssh.authorizedKeys.keyFiles or [ ];
  # The key file sshd reads for the account, exactly as the openssh module generates it from
  # users.users.<account>.openssh.authorizedKeys (sshd.nix authKeysFiles): a root-owned 0444 copy
  # of this text. Anything else (mkForce of text or source, another mode or owner) replaces the keys.
  keysEtcName = "ssh/authorized_keys.d/${cfg.user}";
  # Every entry installed at that path, under any name (by its target, as etc.nix installs it).
  keysEtcAt = filter (n: etcInstalled n == keysEtcName) (attrNames config.environment.etc);
  keysEtcOthers = filter (n: n != keysEtcName) keysEtcAt;
  keysEtc = if keysEtcAt == [ keysEtcName ] then config.environment.etc.${keysEtcName} else null;
  # (sshd.nix's text is `KEYS\nKEYFILES\n`, and keyFiles are refused.)
  keysEtcExpected = pkgs.writeText "${cfg.user}-authorized_keys" (
    concatStringsSep "\n" userCfg.openssh.authorizedKeys.keys + "\n\n"
  );
  keysEtcReplaced =
    if userCfg.openssh.authorizedKeys.keys == [ ] || keyFiles != [ ] then
      # No keys: nixpkgs writes no file, so any is foreign. keyFiles: refused by the assertion above.
      keyFiles == [ ] && keysEtcAt != [ ]
    else
      keysEtc == null
      || (keysEtc.text or null) != null
      || keysEtc.source != keysEtcExpected
      || (keysEtc.mode or "0444") != "0444"
      || (keysEtc.user or "+0") != "+0"
      || (keysEtc.group or "+0") != "+0";

  sshdSettings = config.services.openssh.settings;
  sshdExtra = config.services.openssh.extraConfig;
  diagBlock = render.matchBlock {
    inherit (cfg) user;
    forceCommand = wrapper;
  };
  # sshd_config directives of extraConfig, in order: { key (lower case); args; }.
  extraDirectives = render.sshdDirectives sshdExtra;
  # What comes before the diag block: settings (rendered first) and extraConfig up to the block.
  # Include and Match there would be read before it; Include anywhere names files the build
  # never sees (ADR 0010).
  settingsKeys = attrNames (lib.filterAttrs (_: v: v != null) sshdSettings);
  earlySettings = filter (k: elem (render.toLower k) [ "include" "match" ]) settingsKeys;
  beforeBlock = render.sshdDirectives (builtins.head (splitString diagBlock sshdExtra));
  earlyMatch = map (d: "Match ${d.args}") (filter (d: d.key == "match") beforeBlock);
  blockMissing = builtins.length (splitString diagBlock sshdExtra) < 2;
  includes = map (d: "Include ${d.args}") (filter (d: d.key == "include") extraDirectives);

  # sshd's AllowUsers/AllowGroups/DenyUsers/DenyGroups: settings, plus the lines of extraConfig
  # in the global context (before any Match, or after `Match all`); those inside a conditional
  # Match block apply to some connections only.
  globalFilters = (foldl' (
    st: d:
    if d.key == "match" then
      st // { global = render.toLower d.args == "all"; }
    else if st.global && elem d.key [ "allowusers" "allowgroups" "denyusers" "denygroups" ] then
      st // { ${d.key} = (st.${d.key} or [ ]) ++ d.words; }
    else
      st
  ) { global = true; } extraDirectives);
  filterOf =
    name:
    let
      fromSettings = sshdSettings.${name} or null;
      fromExtra = globalFilters.${render.toLower name} or null;
    in
    if fromSettings == null && fromExtra == null then null else (if fromSettings == null then [ ] else fromSettings) ++ (if fromExtra == null then [ ] else fromExtra);
  diagGroups = [ cfg.user ] ++ userCfg.extraGroups;
  shutOut = render.sshdShutsOut {
    user = cfg.user;
    groups = diagGroups;
    allowUsers = filterOf "AllowUsers";
    allowGroups = filterOf "AllowGroups";
    denyUsers = filterOf "DenyUsers";
    denyGroups = filterOf "DenyGroups";
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

  keyModule = {
    options = {
      key = mkOption {
        type = types.singleLineStr;
        example = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI... agent@ci";
        description = ''
          A bare OpenSSH public key (`TYPE BASE64 [COMMENT]`), without options. The module
          writes it as `restrict,command="<wrapper>" KEY` (plus `from=` when set).
        '';
      };
      principal = mkOption {
        type = types.strMatching "[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}";
        example = "ci-agent";
        description = "Who holds this key; the name audit records carry for it.";
      };
      fingerprint = mkOption {
        type = types.nullOr (types.strMatching "SHA256:[A-Za-z0-9+/]{43}");
        default = null;
        example = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
        description = ''
          The key's SHA-256 fingerprint, as printed by `ssh-keygen -lf KEY.pub` (second field).
          Nix cannot compute it, so it is given here. Keys with a fingerprint get an
          `[audit.principals]` entry mapping it to `principal`; keys without one are logged by
          fingerprint only.
        '';
      };
      from = mkOption {
        type = types.listOf (types.strMatching "[A-Za-z0-9.:/*?!_-]+");
        default = [ ];
        example = [ "10.0.0.0/8" ];
        description = "Optional `from=` patterns: source addresses this key is accepted from.";
      };
    };
  };

  tomlTable = types.submodule { freeformType = tomlFormat.type; };
in
{
  _class = "nixos";

  options.services.diag-wrapper = {
    enable = mkEnableOption "the diag account: read-only diagnostics over SSH through diag-wrapper";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = ''
        The diag-wrapper package. It must be built with the compiled-in policy path
        `/etc/diag-wrapper/policy.toml` (the package's default), because the wrapper reads only
        that file when it runs as the login shell.
      '';
    };

    user = mkOption {
      type = types.strMatching "[a-z_][a-z0-9_-]{0,31}";
      default = "diag";
      description = ''
        The account (and its primary group). A system account with no usable password
        (`*`), home `/var/empty`, and the wrapper as its login shell.
      '';
    };

    journalAccess = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Put the account in `systemd-journal` so `journalctl` through the wrapper sees the system
        journal. Trade-off: the whole journal becomes readable to every key of this account,
        including whatever a service logs by mistake (tokens in URLs, failed-login user names).
      '';
    };

    kernelLogAccess = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Set `kernel.dmesg_restrict = 0` so `dmesg` through the wrapper reads the kernel log
        (with the default 1 only CAP_SYSLOG may, which the account and its confined child never
        hold). Off by default: `journalctl -k` reads the same messages from the journal
        (journalAccess). Trade-off: every local account, not only this one, then reads the kernel
        log, which can hold kernel addresses (hashed where `kernel.kptr_restrict` is set) and
        device, mount and firewall messages.
      '';
    };

    authorizedKeys = mkOption {
      type = types.listOf (types.submodule keyModule);
      default = [ ];
      example = literalExpression ''
        [ { key = "ssh-ed25519 AAAAC3Nza... agent@ci"; principal = "ci-agent";
            fingerprint = "SHA256:..."; } ]
      '';
      description = ''
        Keys that may log in as the account. They are written to the root-owned
        `/etc/ssh/authorized_keys.d/<user>` (the only file sshd consults for this account).
      '';
    };

    policy = mkOption {
      type = tomlTable;
      default = { };
      example = literalExpression ''
        {
          settings.timeout = "15s";
          deny.paths = [ "/srv/app/secrets" ];
          command.zpool-status = { match = [ "zpool" "status" ]; description = "ZFS pool health"; };
        }
      '';
      description = ''
        The main policy (`/etc/diag-wrapper/policy.toml`), as a Nix attribute set rendered with
        `pkgs.formats.toml`. The shipped `policy/default.toml` is the base: its values are
        defaults a host can override, `deny.paths` entries a host sets are appended, and no base
        deny entry can be removed (assertion). `[audit]` comes from `audit.*`; do not set it here.
        Note that Nix attribute sets are sorted, so commands come out in ID order; among rules
        with equally long `match` lists, the first in the file is tried first.
      '';
    };

    disabledCommands = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "find"
        "grep"
      ];
      description = ''
        IDs of commands of the shipped policy to leave out on this host (a narrower allowlist).
        Deny entries cannot be removed this way or any other.
      '';
    };

    extraDenyPaths = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [
        "/persist/var/lib/matrix-synapse"
        "/persist/var/lib/mautrix-*"
        "/persist/etc/ssh/ssh_host_*key"
      ];
      description = ''
        Host-specific secrets, added in the drop-in `/etc/diag-wrapper/policy.d/50-host.toml`.
        Absolute paths; `*`, `?` and `[...]` glob within one component.
      '';
    };

    extraCommands = mkOption {
      type = types.attrsOf tomlTable;
      default = { };
      description = ''
        Host-specific `[command.ID]` tables, added in the drop-in
        `/etc/diag-wrapper/policy.d/50-host.toml`. An ID that exists already is an error.
      '';
    };

    dropIns = mkOption {
      type = types.attrsOf tomlTable;
      default = { };
      description = ''
        Further drop-ins: `dropIns.NAME` becomes `/etc/diag-wrapper/policy.d/NAME.toml`
        (`version = 1` is added). A drop-in may hold only `version`, `deny` and `command`.
        `extraDenyPaths` and `extraCommands` fill `dropIns."50-host"`.
      '';
    };

    buildChecks = {
      enable = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Add two derivations to `system.checks`, so a bad configuration fails the build:
          the final sshd_config must have no Include and no Match before the account's block,
          and the real sshd on it must give the account the wrapper as ForceCommand and none of
          forwarding, TTY, tunnel, user rc, keys command, another key file, a CA, principals,
          AcceptEnv or SetEnv, for each of `clientAddresses` and every port and listen address
          of the file; and `diag-wrapper --check --build` must accept the
          rendered policy and drop-ins (errors are reported as file:line:col).
        '';
      };
      clientAddresses = mkOption {
        type = types.nonEmptyListOf (types.strMatching "[0-9A-Fa-f.:]+");
        default = [
          "127.0.0.1"
          "10.0.0.1"
          "172.16.0.1"
          "192.168.1.10"
          "192.0.2.10"
          "198.51.100.7"
          "::1"
          "fd00::1"
          "2001:db8::10"
        ];
        description = ''
          Client addresses the sshd check asks about (`sshd -T -C addr=...`): another module's
          `Match Address` block could loosen the account for some of them only. Add the networks
          the agents and on-call engineers connect from.
        '';
      };
    };

    audit = {
      sinks = mkOption {
        type = types.nonEmptyListOf (
          types.enum [
            "journald"
            "file"
            "syslog"
          ]
        );
        default = [
          "file"
          "journald"
        ];
        description = ''
          Where audit records go. Every sink must accept a record before a command runs.
          `journald` writes with `SYSLOG_IDENTIFIER=diag-wrapper` (`journalctl -t diag-wrapper`).
          The file is the record of truth by default: journald drops messages past its rate
          limit (`RateLimitIntervalSec`/`RateLimitBurst`, per service) and vacuums old journal
          files by size and age, so a journal alone can lose records without anyone removing
          them; `diag-audit verify` would then report gaps that are nobody's doing.
        '';
      };
      file = mkOption {
        type = types.str;
        default = "/var/log/diag-wrapper/audit.jsonl";
        description = ''
          The JSON-lines file of the `file` sink. Its directory is created root:<user> 0750,
          the file root:<user> 0620, so it must be a directory of its own.
        '';
      };
      chain = mkOption {
        type = types.str;
        default = "/var/lib/diag-wrapper/chain";
        description = ''
          The hash chain's state file (adr/0011): the last sequence number and record hash.
          Created empty, root:<user> 0660, in a root:<user> 0750 directory of its own.
        '';
      };
      rotate = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = ''
            Rotate the audit file with logrotate (`services.logrotate.settings.diag-wrapper`,
            when the `file` sink is on): the hooks clear the append-only attribute for the rename
            and set it on the new file, which logrotate creates root:<user> 0620; rotated files
            become root-only and are compressed (adr/0020). `diag-audit` reads the rotated set.
          '';
        };
        frequency = mkOption {
          type = types.str;
          default = "weekly";
          description = "How often the audit file is rotated (logrotate's `frequency`).";
        };
        keep = mkOption {
          type = types.ints.positive;
          default = 52;
          description = "How many rotated audit files are kept (logrotate's `rotate`).";
        };
      };
      appendOnly = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Set the append-only attribute on the audit file (tmpfiles `h ... +a`), so the account
          can add records but not truncate them. Needs ext4, xfs or btrfs (not tmpfs).
        '';
      };
    };
  };

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

      assertions = [
        {
          assertion = config.services.openssh.enable;
          message = "services.diag-wrapper needs services.openssh.enable = true: the ${cfg.user} account is reached only through sshd.";
        }
        {
          assertion = foreignKeys == [ ] && keyFiles == [ ];
          message = "services.diag-wrapper: users.users.${cfg.user}.openssh.authorizedKeys has keys the module did not write (${
            concatStringsSep "; " (foreignKeys ++ map toString keyFiles)
          }): such a key logs in without restrict and without the forced command. Add keys only through services.diag-wrapper.authorizedKeys.";
        }
        {
          assertion = earlySettings == [ ];
          message = "services.diag-wrapper: services.openssh.settings sets ${concatStringsSep " and " earlySettings}: the openssh module writes settings before extraConfig, so it would come before the ${cfg.user} Match block, and sshd keeps the first value a matching block sets (an included file can hold Match blocks that loosen the account). Write Match blocks in services.openssh.extraConfig, and no Include.";
        }
        {
          assertion = includes == [ ];
          message = "services.diag-wrapper: services.openssh.extraConfig has ${concatStringsSep "; " includes}: the included files are not part of the build, so neither the build-time sshd check nor these assertions see what is dropped there later (before the ${cfg.user} block it is read first; after it, AcceptEnv adds up across blocks). Write the lines into extraConfig instead.";
        }
        {
          assertion = earlyMatch == [ ];
          message = "services.diag-wrapper: services.openssh.extraConfig has ${concatStringsSep "; " earlyMatch} before the ${cfg.user} Match block (an order below ${toString render.matchBlockOrder}); sshd keeps the first value a matching block sets, so it would decide for ${cfg.user}. Use a higher order (mkBefore, the default or mkAfter all come after the block).";
        }
        {
          assertion = !blockMissing;
          message = "services.diag-wrapper: the ${cfg.user} Match block is missing from services.openssh.extraConfig (replaced with mkForce?); without it sshd neither forces the wrapper nor restricts the account.";
        }
        {
          assertion = shutOut == [ ];
          message = "services.diag-wrapper: services.openssh.settings or extraConfig (global lines) shuts the ${cfg.user} account out: ${concatStringsSep "; " shutOut}. Add ${cfg.user} (or a group it is in) to AllowUsers/AllowGroups, or take it out of DenyUsers/DenyGroups.";
        }
        {
          assertion = replacedEtc == [ ];
          message = "services.diag-wrapper: environment.etc.\"${concatStringsSep "\", \"" replacedEtc}\" is replaced (mkForce of source or text). The module renders these files from services.diag-wrapper.policy, extraDenyPaths and dropIns, where deny entries can only be added; set those instead.";
        }
        {
          assertion = cfg.user != "root";
          message = "services.diag-wrapper.user must not be root: the wrapper is the account's login shell and every key of it would be a root key.";
        }
        {
          assertion = !(elem "wheel" userCfg.extraGroups);
          message = "services.diag-wrapper: ${cfg.user} must not be in wheel (sudo/polkit); grant read access through groups such as systemd-journal.";
        }
        {
          assertion = toString userCfg.shell == wrapper;
          message = "services.diag-wrapper: users.users.${cfg.user}.shell must be ${wrapper} (sshd runs ForceCommand through the login shell; nologin or a real shell breaks the confinement).";
        }
        {
          assertion = builtins.all (k: render.isBarePublicKey k.key) cfg.authorizedKeys;
          message = "services.diag-wrapper.authorizedKeys: every key must be a bare public key (TYPE BASE64 [COMMENT]) without options; the module adds restrict and command= itself. Offending: ${
            concatStringsSep ", " (map (k: k.principal) (filter (k: !(render.isBarePublicKey k.key)) cfg.authorizedKeys))
          }";
        }
        {
          assertion = unique fingerprints == fingerprints;
          message = "services.diag-wrapper.authorizedKeys: a fingerprint appears twice; each key maps to exactly one principal.";
        }
        {
          assertion = unique cfg.audit.sinks == cfg.audit.sinks;
          message = "services.diag-wrapper.audit.sinks lists a sink twice.";
        }
        {
          assertion = (cfg.policy.audit.sinks or [ ]) == cfg.audit.sinks;
          message = "services.diag-wrapper.policy.audit is set directly; use services.diag-wrapper.audit.sinks and .file instead.";
        }
        {
          assertion =
            !(elem "file" cfg.audit.sinks)
            || (render.isCleanAbsolutePath cfg.audit.file && !(elem (dirOf cfg.audit.file) render.sharedDirs));
          message = "services.diag-wrapper.audit.file (${cfg.audit.file}) must be an absolute path in a directory of its own, such as /var/log/diag-wrapper/audit.jsonl: the module makes that directory root:${cfg.user} 0750.";
        }
        {
          assertion =
            render.isCleanAbsolutePath cfg.audit.chain
            && !(elem (dirOf cfg.audit.chain) render.sharedDirs)
            && dirOf cfg.audit.chain != dirOf cfg.audit.file;
          message = "services.diag-wrapper.audit.chain (${cfg.audit.chain}) must be an absolute path in a directory of its own, such as /var/lib/diag-wrapper/chain: the module makes that directory root:${cfg.user} 0750.";
        }
        {
          assertion = unknownDisabled == [ ];
          message = "services.diag-wrapper.disabledCommands names commands the shipped policy does not have: ${concatStringsSep ", " unknownDisabled}";
        }
        {
          assertion = missingBaseDeny == [ ];
          message = "services.diag-wrapper.policy.deny.paths drops entries of the shipped policy (${concatStringsSep ", " missingBaseDeny}); a host can add deny entries, never remove one.";
        }
        {
          assertion = badDenyPaths == [ ];
          message = "services.diag-wrapper: deny paths must be absolute, without . or .. components: ${concatStringsSep ", " badDenyPaths}";
        }
        {
          assertion = builtins.all render.isCommandId allCommandIds;
          message = "services.diag-wrapper: command IDs must match [a-z0-9][a-z0-9_.-]* (at most 64 bytes): ${
            concatStringsSep ", " (filter (id: !(render.isCommandId id)) allCommandIds)
          }";
        }
        {
          assertion = duplicateIds == [ ];
          message = "services.diag-wrapper: command IDs defined twice (main policy, extraCommands, dropIns): ${concatStringsSep ", " duplicateIds}; a drop-in cannot replace a rule.";
        }
        {
          assertion = builtins.all render.isDropInName (attrNames cfg.dropIns);
          message = "services.diag-wrapper.dropIns: names must match [A-Za-z0-9_][A-Za-z0-9_.-]* (the file is NAME.toml).";
        }
        {
          assertion = builtins.all (
            d:
            builtins.all (k: elem k [ "version" "deny" "command" ]) (attrNames d)
          ) (builtins.attrValues cfg.dropIns);
          message = "services.diag-wrapper.dropIns: a drop-in may contain only version, deny and command; settings and audit belong in the main policy.";
        }
        {
          assertion = policyInclude == [ render.dropInDir ] || (policyInclude == [ ] && cfg.dropIns == { });
          message = "services.diag-wrapper.policy.settings.include must be [ \"${render.dropInDir}\" ] (it is ${builtins.toJSON policyInclude}): the module installs drop-ins there and the build-time policy check reads exactly that directory; another directory would be loaded on the host unchecked, and without it the drop-ins would be ignored.";
        }
        {
          assertion = foreignEtc == [ ];
          message = "services.diag-wrapper: environment.etc.${concatStringsSep ", " (map describeEtc foreignEtc)} is not written by the module; the wrapper would load it, but neither the assertions nor the build-time policy check would see it. Use services.diag-wrapper.dropIns.NAME (or extraCommands, extraDenyPaths) instead.";
        }
        {
          assertion = movedEtc == [ ];
          message = "services.diag-wrapper: environment.etc.\"${concatStringsSep "\", \"" movedEtc}\" is not installed at its path (its target changed, or enable = false): without policy.toml the wrapper refuses every request, without a drop-in its deny entries are silently gone, and the path is left to another file. Set services.diag-wrapper options instead.";
        }
        {
          assertion = !keysEtcReplaced;
          message = "services.diag-wrapper: environment.etc.\"${keysEtcName}\" is not the file the openssh module generates from the keys (text, source, mode, owner, target or enable replaced${optionalString (keysEtcOthers != [ ]) ", or replaced by environment.etc.\"${concatStringsSep "\", \"" keysEtcOthers}\" installed at its path"}); sshd reads only that file for ${cfg.user}, so its keys would log in without restrict and the forced command. Add keys only through services.diag-wrapper.authorizedKeys.";
        }
        {
          assertion = (cfg.policy.version or null) == 1;
          message = "services.diag-wrapper.policy.version must be 1 (the schema this wrapper reads).";
        }
        {
          assertion = render.isAsciiValue cfg.policy && render.isAsciiValue cfg.dropIns;
          message = "services.diag-wrapper: the policy must be ASCII only (the loader refuses other bytes); check descriptions and patterns.";
        }
      ];
    }
  ]);
}
