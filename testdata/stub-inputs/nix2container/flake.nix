# Stub nix2container: buildImage with the upstream argument names; the
# result records its arguments and offers the copy programs.
{
  outputs = { self }:
    let
      inherit (import ./fake.nix) fake;
      forSystem = system: {
        nix2container.buildImage =
          { name, tag ? null, config ? { }, copyToRoot ? null, layers ? [ ], maxLayers ? 1
          , perms ? [ ], initializeNixDatabase ? false, fromImage ? "", ... }@args:
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
