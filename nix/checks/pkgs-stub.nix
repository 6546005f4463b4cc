# SPDX-License-Identifier: Apache-2.0
#
# The few parts of nixpkgs that module.nix (and its module-options.nix, module-assertions.nix)
# touches, for evaluation without nixpkgs: pkgs.formats.toml (the same value type as nixpkgs;
# `generate` returns the attribute set it would serialise instead of building a file) and
# pkgs.callPackage (a fixed fake store path).
{ lib }:
{
  formats.toml =
    { }:
    {
      type =
        let
          valueType =
            lib.types.oneOf [
              lib.types.bool
              lib.types.int
              lib.types.float
              lib.types.str
              lib.types.path
              (lib.types.attrsOf valueType)
              (lib.types.listOf valueType)
            ]
            // {
              description = "TOML value";
            };
        in
        valueType;
      generate = name: value: {
        diagStub = "toml";
        inherit name value;
        outPath = "/nix/store/33333333333333333333333333333333-${name}";
      };
    };

  # What the build-time checks ask of nixpkgs: the derivation's script and attributes are
  # returned as they are, for tests/nix to run the script outside Nix.
  runCommand = name: env: script: {
    type = "derivation";
    inherit name env script;
    inherit (env) passthru;
    outPath = "/nix/store/44444444444444444444444444444444-${name}";
  };
  writeText = name: text: {
    diagStub = "text";
    inherit name text;
    outPath = "/nix/store/55555555555555555555555555555555-${name}";
  };
  stdenv = {
    buildPlatform.canExecute = _: true;
    hostPlatform = { };
  };
  buildPackages.openssh = "/nix/store/66666666666666666666666666666666-openssh-build";
  # The tools of the audit file's logrotate hooks (module.nix: audit.rotate).
  e2fsprogs = "/nix/store/77777777777777777777777777777777-e2fsprogs";
  util-linux = "/nix/store/88888888888888888888888888888888-util-linux";
  coreutils = "/nix/store/99999999999999999999999999999999-coreutils";

  callPackage = _fn: _args: {
    type = "derivation";
    name = "diag-wrapper-0.1.0";
    outPath = "/nix/store/00000000000000000000000000000000-diag-wrapper-0.1.0";
  };
}
