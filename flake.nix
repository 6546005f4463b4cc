# SPDX-License-Identifier: Apache-2.0
{
  description = "diag-wrapper: a fail-closed SSH ForceCommand for read-only diagnostics";

  # A stable release branch; flake.lock (made with `nix flake lock` on a machine with network,
  # see README "Deploy on NixOS") pins the exact commit. Hosts normally override it with
  # `inputs.diag-wrapper.inputs.nixpkgs.follows = "nixpkgs"`.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        diag-wrapper = pkgs.callPackage ./nix/package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.diag-wrapper;
      });

      overlays.default = final: _prev: {
        diag-wrapper = final.callPackage ./nix/package.nix { };
      };

      # services.diag-wrapper; the package defaults to `pkgs.callPackage ./nix/package.nix { }`.
      nixosModules.default = ./nix/module.nix;
      nixosModules.diag-wrapper = ./nix/module.nix;

      # programs.diag-client. home-manager's own flake calls these homeModules (since 2025-03);
      # homeManagerModules is the older name, kept for configurations that still use it.
      homeModules.default = ./nix/home-manager.nix;
      homeModules.diag-client = ./nix/home-manager.nix;
      homeManagerModules = self.homeModules;

      checks = forAllSystems (pkgs: {
        # Builds the package and runs the unit tests (doCheck).
        package = self.packages.${pkgs.stdenv.hostPlatform.system}.diag-wrapper;
        # Two VMs: a host with the module, a client that proves the account from outside.
        vm = import ./nix/tests/nixos-test.nix {
          inherit pkgs;
          nixosModule = self.nixosModules.default;
        };
      });
    };
}
