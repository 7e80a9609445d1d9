# Stub nixpkgs for nix2gpu's tests: the packages and builders the examples
# and the generated library use, as fake derivations that record their
# arguments; packages are store directories with a few placeholder files.
# Importable like the real one: import nixpkgs { system; config; overlays; }.
{
  outputs = { self }: {
    legacyPackages = {
      x86_64-linux = import ./. { system = "x86_64-linux"; };
      aarch64-linux = import ./. { system = "aarch64-linux"; };
    };
    lib = { };
  };
}
