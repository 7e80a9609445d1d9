{ system ? "x86_64-linux", config ? { }, overlays ? [ ], ... }:
let
  inherit (import ./fake.nix) fake;
  pkg = name: fake system name { package = name; };
  set = prefix: names: builtins.listToAttrs (map (n: { name = n; value = pkg "${prefix}${n}"; }) names);
  cuda = version: set "${version}-" [ "cudatoolkit" "cudnn" "nccl" "cuda_cudart" "cuda_nvcc" "libcublas" ];

  base = final: set "" [
    "age" "bashInteractive" "coreutils" "curl" "fd" "git" "htop" "jq" "neovim"
    "openssh" "postgresql" "process-compose" "python312" "redis" "ripgrep"
    "skopeo" "tailscale" "tini" "comfyui" "vllm"
  ] // {
    inherit system;
    # What the stub was instantiated with, for tests.
    stubConfig = config;
    glibc = pkg "glibc" // { bin = pkg "glibc-bin"; };
    python312Packages = set "python3.12-" [ "numpy" "torch" ];
    cudaPackages_12_6 = cuda "cudaPackages_12_6";
    cudaPackages_12_8 = cuda "cudaPackages_12_8";
    cudaPackages_12_9 = cuda "cudaPackages_12_9";
    cudaPackages_13_0 = cuda "cudaPackages_13_0";
    cudaPackages = final.cudaPackages_12_8;

    writeText = name: text: fake system name { inherit text; };
    writeTextDir = path: text: fake system (baseNameOf path) { inherit path text; };
    writeShellScript = name: text: fake system name { inherit text; };
    writeShellScriptBin = name: text: fake system name { bin = name; inherit text; };
    # Argument lists as upstream's, without `...`: a misspelt argument fails.
    buildEnv =
      { name, paths, pathsToLink ? [ "/" ], extraOutputsToInstall ? [ ], ignoreCollisions ? false
      , checkCollisionContents ? true, postBuild ? "", extraPrefix ? "", manifest ? ""
      , includeClosures ? false, ignoreSingleFileOutputs ? false, nativeBuildInputs ? [ ]
      , buildInputs ? [ ], passthru ? { }, meta ? { } }@args:
      fake system name args;
    dockerTools.buildLayeredImage =
      { name, tag ? null, fromImage ? null, contents ? [ ], config ? { }, architecture ? null
      , created ? "1970-01-01T00:00:01Z", uid ? 0, gid ? 0, uname ? "root", gname ? "root"
      , maxLayers ? 100, extraCommands ? "", fakeRootCommands ? "", enableFakechroot ? false
      , includeStorePaths ? true, includeNixDB ? false, passthru ? { }, meta ? { } }@args:
      fake system "${name}.tar.gz" args // { imageName = name; imageTag = if tag == null then "latest" else tag; };
  };

  # The overlay fixed point, as nixpkgs computes it.
  pkgs = builtins.foldl' (prev: overlay: prev // overlay pkgs prev) (base pkgs) overlays;
in
pkgs
