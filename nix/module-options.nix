# SPDX-License-Identifier: Apache-2.0
#
# The options of the NixOS module (nix/module.nix), services.diag-wrapper.*: their types,
# defaults and documentation. Returns the attribute set of option declarations.
{ lib, pkgs }:
let
  inherit (lib)
    mkEnableOption
    mkOption
    types
    literalExpression
    ;

  tomlFormat = pkgs.formats.toml { };

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
}
