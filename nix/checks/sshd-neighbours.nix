# SPDX-License-Identifier: Apache-2.0
#
# What else writes sshd_config on a real host: the openssh module's own lines at mkOrder 0, a
# module at the default order, one that appends after everything (mkOrder 3000), and Match blocks
# of other modules at the orders modules use (0, mkBefore, default, mkAfter) that would loosen
# any account they match. Each neighbour block matches diag by another route (client address,
# group, a user pattern); sshd keeps the first value it obtains, so diag's settings hold only if
# its block comes before all of them. The last global line must stay global, which only holds if
# every block ends with `Match all`.
#
# `earlyNeighbour`: one more loosening block placed before even the diag block (mkOrder -2000),
# which the order cannot win against; the build-time sshd check must then refuse the config.
{
  hostKey,
  earlyNeighbour ? false,
}:
{ lib, ... }:
let
  loosen = ''
    PermitTTY yes
    DisableForwarding no
    AllowTcpForwarding yes
    PermitTunnel yes
    PermitUserRC yes
    ExposeAuthInfo no
    AuthorizedKeysCommand /usr/local/bin/neighbour-keys %u
    AuthorizedKeysCommandUser nobody
    AuthorizedKeysFile .ssh/authorized_keys
    AuthenticationMethods password publickey
    ForceCommand none
    TrustedUserCAKeys /etc/ssh/neighbour-ca.pub
    AuthorizedPrincipalsFile /etc/ssh/neighbour-principals/%u
    AuthorizedPrincipalsCommand /usr/local/bin/neighbour-principals %u
    AuthorizedPrincipalsCommandUser nobody
    LogLevel ERROR
  '';
  block = cond: "Match ${cond}\n" + loosen + "Match all\n";
in
{
  imports = [
    { services.openssh.extraConfig = "ClientAliveInterval 120\n"; }
    {
      services.openssh.extraConfig = lib.mkOrder 3000 ''
        ClientAliveCountMax 7
        Subsystem diag-probe internal-sftp
      '';
    }
    # The field failure: a LAN block written at the default order.
    { services.openssh.extraConfig = block "Address 192.0.2.0/24,10.0.0.0/8"; }
    # As early as a nixpkgs module writes (the openssh module's own order).
    { services.openssh.extraConfig = lib.mkOrder 0 (block "Address 127.0.0.0/8,::1"); }
    # Group: matches the account wherever it exists in the passwd database sshd -T consults.
    { services.openssh.extraConfig = lib.mkBefore (block "Group systemd-journal,nogroup,diag"); }
    # A user pattern that covers the account.
    { services.openssh.extraConfig = lib.mkAfter (block "User d*,no*,alice"); }
  ]
  ++ lib.optional earlyNeighbour {
    services.openssh.extraConfig = lib.mkOrder (-2000) (block "Address 192.0.2.0/24");
  };
  services.openssh.extraConfig = lib.mkOrder 0 ''
    UsePAM yes
    Port 22
    AuthorizedKeysFile %h/.ssh/authorized_keys /etc/ssh/authorized_keys.d/%u
    HostKey ${hostKey}
    Subsystem sftp internal-sftp
  '';
}
