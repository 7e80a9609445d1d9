# The flake outputs of a nix2gpu project, computed from the per-container
# files and the nixpkgs configurations that flake.nix lists.
{ inputs, systems, nixpkgs, containers }:
let
  forEach = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  forSystems = forEach systems;
  names = map (c: c.name) containers;
  byName = builtins.listToAttrs (map (c: { name = c.name; value = c; }) containers);

  # One nixpkgs per system and configuration. Attribute sets are lazy and
  # shared, so containers with the same configuration key use one instance
  # and an unused one is never instantiated.
  instances = forSystems (system:
    builtins.mapAttrs
      (_: i: import inputs.nixpkgs {
        inherit system;
        config = i.config;
        overlays =
          if i.cudaPackages == null then [ ]
          else [ (final: prev: { cudaPackages = final.${i.cudaPackages}; }) ];
      })
      nixpkgs);

  built = forSystems (system: forEach names (name:
    let c = byName.${name}; in
    import ./image.nix {
      inherit inputs system;
      pkgs = instances.${system}.${c.nixpkgs};
      container = c;
    }));

  images = system: builtins.mapAttrs (_: b: b.image) built.${system};
  app = drv: bin: { type = "app"; program = "${drv}/bin/${bin}"; };
in
{
  packages = forSystems (system:
    { default = built.${system}.${builtins.head names}.image; } // images system);

  apps = forSystems (system: builtins.listToAttrs (builtins.concatMap
    (name: [
      { name = "${name}-push"; value = app built.${system}.${name}.push "${name}-push"; }
      { name = "${name}-load"; value = app built.${system}.${name}.load "${name}-load"; }
    ])
    names)
    # `nix run .#agenix -- -e secrets/x.age` edits a secret.
    // (if inputs ? agenix then {
      agenix = app inputs.agenix.packages.${system}.agenix "agenix";
    } else { }));

  checks = forSystems images;

  # Every part of every container (root file system, startup program,
  # services, home, push and load programs), for `nix build` of one part.
  legacyPackages = forSystems (system: { nix2gpu-parts = built.${system}; });

  hydraJobs = forEach names (name: forSystems (system: built.${system}.${name}.image));

  # Plain data: `nix eval --json .#nix2gpu.<system>.<name>.imageConfig`
  # prints the OCI configuration without instantiating nixpkgs.
  nix2gpu = forSystems (system: forEach names (name:
    let c = byName.${name}; in {
      inherit (c) name tag builder registries imageConfig;
    }));
}
