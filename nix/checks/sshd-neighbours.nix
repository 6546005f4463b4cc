# SPDX-License-Identifier: Apache-2.0
#
# What else writes sshd_config on a real host: the openssh module's own lines at mkOrder 0, a
# module at the default order, and one that appends after everything (mkOrder 3000). The last
# one must stay global, which only holds if the diag block ends with `Match all`.
{ hostKey }:
{ lib, ... }:
{
  imports = [
    { services.openssh.extraConfig = "ClientAliveInterval 120\n"; }
    {
      services.openssh.extraConfig = lib.mkOrder 3000 ''
        ClientAliveCountMax 7
        Subsystem diag-probe internal-sftp
      '';
    }
  ];
  services.openssh.extraConfig = lib.mkOrder 0 ''
    UsePAM yes
    Port 22
    AuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u
    HostKey ${hostKey}
    Subsystem sftp internal-sftp
  '';
}
