# SPDX-License-Identifier: Apache-2.0
#
# The few parts of nixpkgs that module.nix touches, for evaluation without nixpkgs:
# pkgs.formats.toml (the same value type as nixpkgs; `generate` returns the attribute set it
# would serialise instead of building a file) and pkgs.callPackage (a fixed fake store path).
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
      };
    };

  callPackage = _fn: _args: {
    type = "derivation";
    name = "diag-wrapper-0.1.0";
    outPath = "/nix/store/00000000000000000000000000000000-diag-wrapper-0.1.0";
  };
}
