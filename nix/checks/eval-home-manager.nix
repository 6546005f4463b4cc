# SPDX-License-Identifier: Apache-2.0
#
# Evaluate nix/home-manager.nix together with home-manager's real modules/programs/ssh.nix and
# return the generated ~/.ssh/config, as JSON:
#
#   nix-instantiate --store dummy:// --eval --strict --json nix/checks/eval-home-manager.nix \
#     --argstr libPath /path/to/nixpkgs.lib/lib --argstr hmPath /path/to/home-manager \
#     [--arg withStarBlock true] [--arg defaultConfig true] [--arg extra '{ ... }']
#
# withStarBlock adds the user's own blocks that also match fleet hosts (the field failure): `Host *`
# with a personal key and user name, `*.example.org`, and a named block `corp` (which sorts
# before the diag block's name) for `*.example.org web-02`; defaultConfig leaves
# programs.ssh.enableDefaultConfig at its default where the option exists.
{
  libPath,
  hmPath,
  withStarBlock ? false,
  defaultConfig ? false,
  # One more module, e.g. programs.ssh.extraOptionOverrides or includes.
  extra ? { },
}:
let
  hmLibFor = self: import (/. + hmPath + "/modules/lib") { lib = self; };
  # Like home-manager's modules/lib/stdlib-extended.nix. nixpkgs.lib (lib only) has no
  # maintainer list, which ssh.nix's meta reads; a stub entry stands in.
  lib = (import libPath).extend (
    self: super: {
      hm = hmLibFor self;
      maintainers = (super.maintainers or { }) // {
        rycee = {
          name = "rycee";
        };
      };
    }
  );
  personal = {
    User = "alice";
    IdentityFile = "~/.ssh/id_personal";
  };
  personalOld = {
    user = "alice";
    identityFile = "~/.ssh/id_personal";
  };
  starModule =
    { options, lib, ... }:
    {
      config = lib.mkMerge [
        (lib.optionalAttrs (options.programs.ssh ? settings) {
          programs.ssh.settings = {
            "*" = personal;
            "Host *.example.org" = personal;
            corp = personal // {
              header = "Host *.example.org web-02";
            };
          };
        })
        (lib.optionalAttrs (!(options.programs.ssh ? settings)) {
          programs.ssh.matchBlocks = {
            "*" = personalOld;
            "*.example.org" = personalOld;
            corp = personalOld // {
              host = "*.example.org web-02";
            };
          };
        })
      ];
    };
  eval = lib.evalModules {
    modules = [
      ./hm-stubs.nix
      (/. + hmPath + "/modules/programs/ssh.nix")
      ../home-manager.nix
      { _module.args.pkgs = { }; }
      (
        { options, lib, ... }:
        {
          config = lib.optionalAttrs (!defaultConfig && options.programs.ssh ? enableDefaultConfig) {
            programs.ssh.enableDefaultConfig = false;
          };
        }
      )
      {
        programs.diag-client = {
          enable = true;
          hosts = [
            "*.fleet.example"
            "web-02"
            "web-02.example.org"
          ];
          identityFile = "~/.ssh/id_ed25519_diag";
        };
      }
      extra
    ] ++ (if withStarBlock then [ starModule ] else [ ]);
  };
in
{
  sshConfig = eval.config.home.file.".ssh/config".text;
  usesSettings = eval.options.programs.ssh ? settings;
  inherit (eval.config) warnings;
  failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) eval.config.assertions);
}
