# SPDX-License-Identifier: Apache-2.0
#
# Builtins only (no nixpkgs lib): an sshd_config laid out the way NixOS writes it (the openssh
# module's lines, another module's line, the diag block from render.nix, then a line appended
# after everything), plus authorized_keys lines, for validation with the real sshd and
# ssh-keygen. Runs wherever nix-instantiate does:
#
#   nix-instantiate --store dummy:// --eval --strict --json nix/checks/sshd-config.nix \
#     --argstr hostKey /tmp/x/hostkey
{
  hostKey,
  wrapper ? "/nix/store/00000000000000000000000000000000-diag-wrapper-0.1.0/bin/diag-wrapper",
}:
let
  render = import ../render.nix;
in
{
  inherit wrapper;
  matchBlock = render.matchBlock {
    user = "diag";
    forceCommand = wrapper;
  };
  sshdConfig =
    ''
      UsePAM yes
      Port 22
      AuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u
      HostKey ${hostKey}
      Subsystem sftp internal-sftp

      ClientAliveInterval 120

    ''
    + render.matchBlock {
      user = "diag";
      forceCommand = wrapper;
    }
    + ''

      ClientAliveCountMax 7
      Subsystem diag-probe internal-sftp
    '';
  authorizedKeys = [
    (render.authorizedKeyLine {
      forceCommand = wrapper;
      key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMAzmp5/aElKUSSZagCtVb3A1wEoVVdSb1kheK4zS2lE ci@example";
    })
    (render.authorizedKeyLine {
      forceCommand = wrapper;
      key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFgcawY8XwoFMARc+uJh8xligJ2kdAa80ZqbuISRkljn oncall@example";
      from = [
        "10.0.0.0/8"
        "192.168.1.*"
      ];
    })
  ];
  auditFileRules = render.auditFileRules {
    file = "/var/log/diag-wrapper/audit.jsonl";
    group = "diag";
  };
}
