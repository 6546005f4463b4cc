# SPDX-License-Identifier: Apache-2.0
#
# The flake's structure, the package's attributes and the VM test's node configuration,
# evaluated without nixpkgs: flake.nix's `outputs` is called with a stub `nixpkgs` input (the real
# lib, a pkgs that records what it is asked to build). Nothing is built.
#
#   nix-instantiate --store dummy:// --eval --strict --json nix/checks/eval-flake.nix \
#     --argstr libPath /path/to/nixpkgs.lib/lib --argstr fakeNixpkgs DIR
#
# DIR must hold nixos/tests/ssh-keys.nix (`pkgs: { snakeOilPrivateKey = ...; snakeOilPublicKey
# = ...; }`); the check script writes one with a throwaway key.
{ libPath, fakeNixpkgs }:
let
  lib = import libPath;
  system = "x86_64-linux";
  stubPkgs = import ./pkgs-stub.nix { inherit lib; };

  # pkgs as package.nix and nixos-test.nix see it.
  pkgs = stubPkgs // {
    inherit lib;
    path = /. + fakeNixpkgs;
    stdenv = stubPkgs.stdenv // {
      hostPlatform = {
        inherit system;
        isx86_64 = true;
      };
    };
    callPackage =
      fn: args:
      if fn == ../package.nix then
        import ../package.nix (
          {
            inherit lib;
            stdenv = {
              hostPlatform.isx86_64 = true;
              mkDerivation =
                f:
                let
                  attrs = f attrs;
                in
                attrs;
            };
          }
          # Every other argument package.nix declares, as a placeholder: taken from the function
          # itself, so a dependency added or dropped there cannot leave this list behind.
          // lib.genAttrs (builtins.attrNames (
            builtins.removeAttrs (builtins.functionArgs (import ../package.nix)) [
              "lib"
              "stdenv"
            ]
          )) (n: "<${n}>")
          // args
        )
      else
        stubPkgs.callPackage fn args;
    testers.runNixOSTest = t: t;
  };

  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs);
  };
  flake = import ../../flake.nix;
  outputs = flake.outputs {
    self = outputs;
    inherit nixpkgs;
  };

  pkg = outputs.packages.${system}.diag-wrapper;
  vm = outputs.checks.${system}.vm;

  # The VM test's host node, evaluated with the NixOS stubs.
  fakeWrapperPkg = stubPkgs.callPackage null { };
  web02 = lib.evalModules {
    modules = [
      ./nixos-stubs.nix
      { _module.args.pkgs = pkgs // { callPackage = stubPkgs.callPackage; }; }
      vm.nodes.web02
    ];
  };
  testScript = vm.testScript {
    nodes.web02.services = {
      diag-wrapper.package = fakeWrapperPkg;
      openssh.package = "/nix/store/11111111111111111111111111111111-openssh";
    };
  };
in
{
  description = flake.description;
  inputs = builtins.attrNames flake.inputs;
  nixpkgsUrl = flake.inputs.nixpkgs.url;
  outputNames = builtins.attrNames outputs;
  packages = builtins.attrNames outputs.packages.${system};
  nixosModules = builtins.mapAttrs (_: toString) outputs.nixosModules;
  homeModules = builtins.mapAttrs (_: toString) outputs.homeModules;
  homeManagerModules = builtins.mapAttrs (_: toString) outputs.homeManagerModules;
  checks = builtins.attrNames outputs.checks.${system};
  package = {
    inherit (pkg)
      pname
      version
      cmakeFlags
      doCheck
      doInstallCheck
      checkPhase
      buildInputs
      nativeBuildInputs
      checkInputs
      ;
    mainProgram = pkg.meta.mainProgram;
  };
  vm = {
    inherit (vm) name;
    nodes = builtins.attrNames vm.nodes;
    inherit testScript;
    web02 = {
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) web02.config.assertions);
      extraDenyPaths = web02.config.services.diag-wrapper.extraDenyPaths;
      sinks = web02.config.services.diag-wrapper.audit.sinks;
      authorizedKeys = web02.config.users.users.diag.openssh.authorizedKeys.keys;
    };
  };
}
