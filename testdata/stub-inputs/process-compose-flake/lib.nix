{ pkgs, ... }:
let
  inherit (import ./fake.nix) fake;
in
rec {
  evalModules = { name ? "process-compose", modules }: {
    config.outputs.package = fake pkgs.system name { process-compose = { inherit name modules; }; };
  };
  makeProcessCompose = { name ? "process-compose", modules }:
    (evalModules { inherit name modules; }).config.outputs.package;
}
