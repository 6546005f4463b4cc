# SPDX-License-Identifier: Apache-2.0
#
# Two VMs: `web02` runs the module (the web-02 layout: Matrix state, host keys under /persist, a
# host secret), `client` holds the diag key and an agent with a personal key. Everything is proved
# from the client over real SSH, with the host side checked where only root can look.
#
#   nix build .#checks.x86_64-linux.vm      (needs KVM; flake output checks.<system>.vm)
{ pkgs, nixosModule }:
let
  inherit (import (pkgs.path + "/nixos/tests/ssh-keys.nix") pkgs) snakeOilPrivateKey snakeOilPublicKey;
in
pkgs.testers.runNixOSTest {
  name = "diag-wrapper";

  nodes.web02 =
    { pkgs, ... }:
    {
      imports = [ nixosModule ];
      environment.systemPackages = [ pkgs.e2fsprogs ]; # lsattr
      services.openssh.enable = true;
      services.diag-wrapper = {
        enable = true;
        # With the snakeoil key's fingerprint (ssh-keygen -lf) the record would also carry
        # principal = "ci-agent"; left out so the test does not depend on the key file's format.
        authorizedKeys = [
          {
            key = snakeOilPublicKey;
            principal = "ci-agent";
          }
        ];
        extraDenyPaths = [
          "/srv/web-02/secrets.env"
          "/persist/var/lib/matrix-synapse"
          "/persist/var/lib/mautrix-*"
        ];
        audit.sinks = [
          "journald"
          "file"
        ];
      };
    };

  nodes.client =
    { ... }:
    {
      # What nix/home-manager.nix writes for a user, as system-wide client config.
      programs.ssh.extraConfig = ''
        Host web02
          User diag
          IdentityFile /root/.ssh/id_diag
          IdentitiesOnly yes
          StrictHostKeyChecking no
          UserKnownHostsFile /dev/null
      '';
    };

  testScript =
    { nodes, ... }:
    let
      wrapper = "${nodes.web02.services.diag-wrapper.package}/bin/diag-wrapper";
      sshd = "${nodes.web02.services.openssh.package}/bin/sshd";
    in
    ''
      import re

      # World-readable on purpose: only the policy stands between them and the client.
      CANARIES = {
          "/var/lib/matrix-synapse/homeserver.signing.key": "SYNAPSE-CANARY-7f3a",
          "/persist/etc/ssh/ssh_host_ed25519_key": "HOSTKEY-CANARY-91c2",
          "/srv/web-02/secrets.env": "HOSTSECRET-CANARY-5d0e",
      }

      start_all()
      web02.wait_for_unit("sshd.service")
      web02.wait_for_unit("systemd-tmpfiles-setup.service")
      client.wait_for_unit("multi-user.target")

      for path, canary in CANARIES.items():
          web02.succeed(f"install -d -m 0755 $(dirname {path})")
          web02.succeed(f"echo {canary} > {path} && chmod 0644 {path}")
          web02.succeed(f"runuser -u diag -- cat {path} | grep -q {canary}")

      with subtest("host: account, authorized_keys, policy, sshd, audit file"):
          web02.succeed("getent passwd diag | grep -q ':/var/empty:${wrapper}$'")
          web02.succeed("test \"$(getent shadow diag | cut -d: -f2)\" = '*'")
          web02.succeed("id -nG diag | grep -qw systemd-journal")
          web02.fail("id -nG diag | grep -qw wheel")
          web02.succeed("test \"$(stat -c %U:%a /etc/ssh/authorized_keys.d/diag)\" = root:444")
          web02.succeed("grep -q '^restrict,command=\"${wrapper}\" ecdsa-sha2-nistp256 ' /etc/ssh/authorized_keys.d/diag")
          # Root's read-only copies, not symlinks into the store, and the activation compiled
          # them: requests read the image (adr/0024).
          for f in ["/etc/diag-wrapper/policy.toml", "/etc/diag-wrapper/policy.d/50-host.toml"]:
              web02.succeed(f"test -f {f} && test ! -L {f}")
              web02.succeed(f"test \"$(stat -c %U:%G:%a {f})\" = root:root:444")
          web02.succeed("test \"$(stat -c %U:%a /etc/diag-wrapper)\" = root:755")
          check = web02.succeed("diag-wrapper --check")
          print(check)
          assert check.splitlines()[-1].startswith(
              "compiled image: current: /etc/diag-wrapper/policy.toml.compiled"
          ), f"the activation did not compile the policy:\n{check}"
          conf = web02.succeed(
              "${sshd} -T -f /etc/ssh/sshd_config"
              " -C user=diag,host=client,addr=192.168.1.1,laddr=192.168.1.2,lport=22"
          ).splitlines()
          for line in [
              "forcecommand ${wrapper}",
              "disableforwarding yes",
              "permittty no",
              "permittunnel no",
              "permituserrc no",
              "exposeauthinfo yes",
              "authorizedkeysfile /etc/ssh/authorized_keys.d/%u",
              "authorizedkeyscommand none",
              "authenticationmethods publickey",
              "loglevel VERBOSE",
          ]:
              assert line in conf, f"sshd -T for diag lacks {line!r}"
          conf = web02.succeed(
              "${sshd} -T -f /etc/ssh/sshd_config"
              " -C user=root,host=client,addr=192.168.1.1,laddr=192.168.1.2,lport=22"
          ).splitlines()
          assert "forcecommand none" in conf, "the Match block leaked into other users"
          audit = "/var/log/diag-wrapper/audit.jsonl"
          web02.succeed(f"test \"$(stat -c %U:%G:%a {audit})\" = root:diag:620")
          web02.succeed(f"lsattr {audit} | cut -d' ' -f1 | grep -q a")
          web02.fail(f"runuser -u diag -- truncate -s 0 {audit}")

      client.succeed("install -D -m 0600 ${snakeOilPrivateKey} /root/.ssh/id_diag")
      client.succeed("ssh-keygen -q -t ed25519 -N ''' -C personal-key -f /root/.ssh/id_personal")
      client.succeed("ssh-agent -a /tmp/agent.sock >/dev/null 2>&1")
      client.succeed("SSH_AUTH_SOCK=/tmp/agent.sock ssh-add /root/.ssh/id_personal")

      def diag(cmd):
          """cmd on web02 as the diag account (client config: User diag, IdentitiesOnly)."""
          return client.execute(f"SSH_AUTH_SOCK=/tmp/agent.sock ssh web02 '{cmd}' 2>&1")

      with subtest("client: an allowed command works"):
          rc, out = diag("systemctl status sshd")
          assert rc == 0, f"systemctl status sshd: rc {rc}\n{out}"
          assert "sshd.service" in out, out
          rc, out = diag("help")
          assert rc == 0 and "systemctl" in out, out
          rc, out = diag("cat /etc/hostname")
          assert rc == 0 and "web02" in out, out

      with subtest("client: only the diag key is offered, never the agent's personal key"):
          out = client.succeed("SSH_AUTH_SOCK=/tmp/agent.sock ssh -v web02 uptime 2>&1")
          assert "personal-key" not in out, out

      request_ids = []
      with subtest("client: secrets are refused"):
          for path, canary in CANARIES.items():
              rc, out = diag(f"cat {path}")
              assert rc == 126, f"cat {path}: rc {rc}\n{out}"
              assert "path-denied" in out, out
              assert canary not in out, out
              m = re.search(r"\(request ([0-9A-Za-z-]+)\)", out)
              assert m, out
              request_ids.append(m.group(1))

      with subtest("client: mutating commands are refused"):
          for cmd in [
              "systemctl restart sshd",
              "systemctl stop sshd",
              "rm -rf /var/log",
              "journalctl --vacuum-time=1s",
              "sysctl -w kernel.panic=1",
          ]:
              rc, out = diag(cmd)
              assert rc == 126, f"{cmd}: rc {rc}\n{out}"
          web02.succeed("systemctl is-active sshd")
          rc, out = client.execute("ssh -tt web02 uptime 2>&1")
          assert rc != 0 and "PTY allocation request failed" in out, out

      with subtest("client: the journal has the audit records"):
          for rid in request_ids:
              client.wait_until_succeeds(
                  f"ssh web02 'journalctl -t diag-wrapper -o cat -n 1000' | grep -F {rid}", timeout=60
              )

      with subtest("host: records come from the wrapper, sshd's line joins them, the file has them"):
          rid = request_ids[0]
          web02.succeed(
              f"journalctl _EXE=${wrapper} DIAG_REQUEST_ID={rid} DIAG_DECISION=deny -o cat | grep -q path-denied"
          )
          web02.succeed("journalctl -u sshd -o cat | grep -Eq 'Accepted publickey for diag from .* ssh2: ECDSA SHA256:'")
          web02.succeed(f"grep -qF {rid} {audit}")
    '';
}
