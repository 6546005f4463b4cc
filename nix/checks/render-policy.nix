# SPDX-License-Identifier: Apache-2.0
#
# Builtins only (no nixpkgs lib): the main policy and the host drop-in as module.nix renders them
# for a web-02-like host, without the module system. tests/nix/run_nix_checks.sh converts them to
# TOML and runs `diag-wrapper --check` and `--explain` on them.
#
#   nix-instantiate --store dummy:// --eval --strict --json nix/checks/render-policy.nix \
#     [--arg extraDenyPaths '[ "/tmp/x/secret" ]']
{
  extraDenyPaths ? [ ],
}:
let
  render = import ../render.nix;
in
{
  main = builtins.removeAttrs render.defaultPolicy [ "audit" ] // {
    audit = render.auditTable {
      sinks = [ "journald" ];
      file = "/var/log/diag-wrapper/audit.jsonl";
      principals = render.principalsOf [
        {
          fingerprint = "SHA256:7n5UIMBIban1a78jtE9UOpTIwscHnsj+GEhcRHuUiZU";
          principal = "ci-agent";
        }
        {
          fingerprint = null;
          principal = "oncall";
        }
      ];
    };
  };
  dropIns."50-host" = render.dropIn {
    denyPaths = [
      "/persist/var/lib/matrix-synapse"
      "/persist/var/lib/mautrix-*"
      "/persist/var/lib/matrix-authentication-service"
      "/persist/var/lib/n8n"
      "/persist/var/lib/zammad"
      "/persist/etc/ssh/ssh_host_*key"
    ] ++ extraDenyPaths;
    commands.zpool-status = {
      match = [
        "zpool"
        "status"
      ];
      description = "ZFS pool health: zpool status [-v] [-x] [POOL]";
      timeout = "10s";
      option = [
        {
          names = [ "-v" ];
          type = "flag";
        }
      ];
      positional = [
        {
          type = "regex";
          pattern = "[A-Za-z0-9_.:-]{1,255}";
          min = 0;
          max = 1;
        }
      ];
    };
  };
}
