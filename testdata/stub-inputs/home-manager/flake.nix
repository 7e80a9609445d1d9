# Stub home-manager: lib.homeManagerConfiguration with upstream's argument
# names; activationPackage records the modules it was given.
{
  inputs = { };
  outputs = { self }:
    let inherit (import ./fake.nix) fake; in
    {
      lib.homeManagerConfiguration = { pkgs, modules ? [ ], extraSpecialArgs ? { }, ... }: {
        activationPackage = fake pkgs.system "home-manager-generation" {
          inherit modules;
          extraSpecialArgs = builtins.attrNames extraSpecialArgs;
        };
      };
    };
}
