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
    buildEnv = args: fake system args.name args;
    dockerTools.buildLayeredImage = args:
      fake system "${args.name}.tar.gz" args // { imageName = args.name; imageTag = args.tag or "latest"; };
  };

  # The overlay fixed point, as nixpkgs computes it.
  pkgs = builtins.foldl' (prev: overlay: prev // overlay pkgs prev) (base pkgs) overlays;
in
pkgs
