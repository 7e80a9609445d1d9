# Stub nix2container: buildImage with the upstream argument names. The
# result is a real nix2container image file (format version 1: the config,
# and layers of store paths with the digest and size of the tar nix2container
# makes of them), built from the closure of copyToRoot as upstream builds it;
# `stubRecord` keeps the arguments for golden files. It offers the copy
# programs as records.
{
  outputs = { self }:
    let
      inherit (import ./fake.nix) fake fakeBuild;
      toList = v: if builtins.isList v then v else [ v ];
      forSystem = system: {
        nix2container.buildImage =
          # Upstream's argument list, without `...`: a misspelt argument fails here.
          { name, tag ? null, config ? { }, layers ? [ ], copyToRoot ? null, fromImage ? ""
          , arch ? null, perms ? [ ], maxLayers ? 1, initializeNixDatabase ? false
          , nixUid ? 0, nixGid ? 0, created ? "0001-01-01T00:00:00Z", contents ? null, meta ? { } }@args:
          assert layers == [ ] && fromImage == "" && perms == [ ] && !initializeNixDatabase
            || throw "the stub nix2container supports copyToRoot and config only";
          let
            roots = toList (if copyToRoot == null then (if contents == null then [ ] else contents) else copyToRoot);
            # As upstream: the config is a store file, its closure goes in
            # the image (not the file itself).
            configFile = derivation {
              inherit system;
              name = "config.json";
              builder = "/bin/sh";
              args = [ "-c" "printf '%s' \"$config\" > \"$out\"" ];
              config = builtins.toJSON config;
            };
            graphs = [ configFile ] ++ roots;
            image = fakeBuild system "image-${name}.json" args {
              args = [ "-c" "PATH=/usr/bin:/bin exec sh ${./build-image.sh} ${./layer-tar.sh} \"$out\"" ];
              inherit configFile maxLayers created;
              roots = toString roots;
              arch = if arch != null then arch else if system == "aarch64-linux" then "arm64" else "amd64";
              exportReferencesGraph = builtins.concatLists
                (builtins.genList (i: [ "closure-${toString i}" (builtins.elemAt graphs i) ]) (builtins.length graphs));
            } // {
              imageName = name;
              imageTag = tag;
              copyTo = fake system "copy-to" { inherit image; };
              copyToRegistry = fake system "copy-to-registry" { inherit image; };
              copyToDockerDaemon = fake system "copy-to-docker-daemon" { inherit image; };
            };
          in
          image;
      };
    in
    {
      packages = {
        x86_64-linux = forSystem "x86_64-linux";
        aarch64-linux = forSystem "aarch64-linux";
      };
    };
}
