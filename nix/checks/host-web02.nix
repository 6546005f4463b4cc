# SPDX-License-Identifier: Apache-2.0
#
# The web-02 case as a host configuration: Matrix (synapse, mautrix bridges, MAS), n8n and zammad
# with their state under /persist (impermanence), one agent key with a fingerprint and one
# on-call key restricted by source address. The keys are throwaway test keys.
{ ... }:
{
  services.openssh.enable = true;
  services.diag-wrapper = {
    enable = true;
    authorizedKeys = [
      {
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5/aElKUSSZagCtVb3A1wEoVVdSb1kheK4zS2lE ci@example";
        principal = "ci-agent";
        fingerprint = "SHA256:7n5UIMBIban1a78jtE9UOpTIwscHnsj+GEhcRHuUiZU";
      }
      {
        key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFgcawY8XwoFMARc+uJh8xligJ2kdAa80ZqbuISRkljn oncall@example";
        principal = "oncall";
        from = [
          "10.0.0.0/8"
          "192.168.1.*"
        ];
      }
    ];
    extraDenyPaths = [
      "/persist/var/lib/matrix-synapse"
      "/persist/var/lib/mautrix-*"
      "/persist/var/lib/matrix-authentication-service"
      "/persist/var/lib/n8n"
      "/persist/var/lib/zammad"
      "/persist/etc/ssh/ssh_host_*key"
    ];
    extraCommands.zpool-status = {
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
        {
          names = [ "-x" ];
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
    policy.settings.timeout = "20s";
    policy.deny.paths = [ "/srv/web-02/secrets" ];
    audit.sinks = [
      "journald"
      "file"
    ];
  };
}
