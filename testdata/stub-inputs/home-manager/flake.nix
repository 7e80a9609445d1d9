# Stub home-manager: lib.homeManagerConfiguration with upstream's argument
# names. The result has the attributes the generated code reads:
# config.home.path (the profile) and config.home-files (the managed files),
# both recording the modules they were given.
{
  inputs = { };
  outputs = { self }:
    let inherit (import ./fake.nix) fake; in
    {
      # Upstream's argument list, without `...`.
      lib.homeManagerConfiguration =
        { pkgs, modules ? [ ], lib ? null, extraSpecialArgs ? { }, check ? true, minimal ? false }:
        let
          record = {
            inherit modules;
            extraSpecialArgs = builtins.attrNames extraSpecialArgs;
          };
        in
        rec {
          activationPackage = fake pkgs.system "home-manager-generation" record;
          config.home.path = fake pkgs.system "home-manager-path" record;
          config.home-files = fake pkgs.system "home-manager-files" { };
        };
    };
}
