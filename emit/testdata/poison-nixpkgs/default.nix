_: throw "nixpkgs was instantiated"
