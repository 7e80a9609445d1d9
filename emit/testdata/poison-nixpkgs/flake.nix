# A nixpkgs that fails when instantiated: evaluating imageConfig must not
# need it.
{
  outputs = { self }: {
    legacyPackages = throw "nixpkgs was evaluated";
    lib = throw "nixpkgs was evaluated";
  };
}
