# Stub process-compose-flake: `lib` is a file taking { pkgs }, like
# upstream's nix/lib.nix, with makeProcessCompose { name, modules }.
{
  outputs = { self }: { lib = ./lib.nix; };
}
