# Stub nix2container: buildImage with the upstream argument names; the
# result records its arguments and offers the copy programs.
{
  outputs = { self }:
    let
      inherit (import ./fake.nix) fake;
      forSystem = system: {
        nix2container.buildImage =
          # Upstream's argument list, without `...`: a misspelt argument fails here.
          { name, tag ? null, config ? { }, layers ? [ ], copyToRoot ? null, fromImage ? ""
          , arch ? null, perms ? [ ], maxLayers ? 1, initializeNixDatabase ? false
          , nixUid ? 0, nixGid ? 0, created ? null, contents ? null, meta ? { } }@args:
          let image = fake system "image-${name}.json" args; in
          image // {
            imageName = name;
            imageTag = tag;
            copyTo = fake system "copy-to" { inherit image; };
            copyToRegistry = fake system "copy-to-registry" { inherit image; };
            copyToDockerDaemon = fake system "copy-to-docker-daemon" { inherit image; };
          };
      };
    in
    {
      packages = {
        x86_64-linux = forSystem "x86_64-linux";
        aarch64-linux = forSystem "aarch64-linux";
      };
    };
}
