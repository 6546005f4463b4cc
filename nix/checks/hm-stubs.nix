# SPDX-License-Identifier: Apache-2.0
#
# The home-manager options that modules/programs/ssh.nix writes to, so the real ssh.nix can be
# evaluated with lib.evalModules without the rest of home-manager.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options = {
    home.file = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.text = mkOption {
            type = types.nullOr types.lines;
            default = null;
          };
        }
      );
      default = { };
    };
    home.packages = mkOption {
      type = types.listOf types.raw;
      default = [ ];
    };
    assertions = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
    warnings = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    meta.maintainers = mkOption {
      type = types.listOf types.raw;
      default = [ ];
    };
  };
}
