{ system ? "x86_64-linux", config ? { }, overlays ? [ ], ... }:
let
  inherit (import ./fake.nix) fake fakeBuild;
  quote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
  concatMapStrings = f: l: builtins.concatStringsSep "" (map f l);
  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  build = name: record: script: fakeBuild system name record { args = [ "-c" script ]; };

  # tree name record files: a package as real ones are, a store directory.
  # `files` maps paths in it to their text, or to { link = TARGET; } for a
  # symlink; files under bin/ are executable. The record is kept at
  # nix-support/stub-record.json.
  tree = name: record: files: build name record (''
    set -eu
    PATH=/usr/bin:/bin
    mkdir -p "$out/nix-support"
    printf '%s\n' "$record" > "$out/nix-support/stub-record.json"
  '' + concatMapStrings
    (p:
      let
        v = files.${p};
        dst = "\"$out\"/${quote p}";
      in
      "mkdir -p \"$(dirname ${dst})\"\n"
      + (if builtins.isAttrs v then "ln -s ${quote v.link} ${dst}\n"
      else "printf '%s' ${quote v} > ${dst}\n" + (if hasPrefix "bin/" p then "chmod +x ${dst}\n" else "")))
    (builtins.attrNames files));

  # A single-file package (writeText and friends).
  file = name: record: text: executable: build name record ''
    PATH=/usr/bin:/bin
    printf '%s' ${quote text} > "$out"
    ${if executable then "chmod +x \"$out\"" else ""}
  '';

  stubProgram = name: "#!/bin/sh\necho 'stub ${name}: a placeholder from the nix2gpu test inputs' >&2\nexit 1\n";
  # What the packages hold, where the tests look: the programs an image
  # starts, and the CUDA runtime library.
  contents = {
    bashInteractive = { "bin/bash" = stubProgram "bash"; "bin/sh" = { link = "bash"; }; };
    coreutils = { "bin/coreutils" = stubProgram "coreutils"; "bin/ls" = { link = "coreutils"; }; };
    tini = { "bin/tini" = stubProgram "tini"; };
    glibc-bin = { "bin/ldconfig" = stubProgram "ldconfig"; };
    git = { "bin/git" = stubProgram "git"; };
    python312 = { "bin/python3.12" = stubProgram "python3.12"; "bin/python3" = { link = "python3.12"; }; };
  };
  pkg = name: tree name { package = name; } (contents.${name} or { });
  set = prefix: names: builtins.listToAttrs (map (n: { name = n; value = pkg "${prefix}${n}"; }) names);

  # cudaPackages_MAJOR_MINOR: the runtime library is in cudatoolkit and
  # cuda_cudart, as libcudart.so.MAJOR linking to the full version.
  cuda = major: minor:
    let
      prefix = "cudaPackages_${major}_${minor}-";
      cudart = {
        "lib/libcudart.so.${major}" = { link = "libcudart.so.${major}.${minor}.0"; };
        "lib/libcudart.so.${major}.${minor}.0" = "stub CUDA runtime ${major}.${minor}\n";
      };
      withCudart = n: tree "${prefix}${n}" { package = "${prefix}${n}"; } cudart;
    in
    set prefix [ "cudnn" "nccl" "cuda_nvcc" "libcublas" ] // {
      cudatoolkit = withCudart "cudatoolkit";
      cuda_cudart = withCudart "cuda_cudart";
    };

  bash = pkg "bashInteractive";
  script = text: "#!${bash}/bin/bash\n" + text;

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
    cudaPackages_12_6 = cuda "12" "6";
    cudaPackages_12_8 = cuda "12" "8";
    cudaPackages_12_9 = cuda "12" "9";
    cudaPackages_13_0 = cuda "13" "0";
    cudaPackages = final.cudaPackages_12_8;

    writeText = name: text: file name { inherit text; } text false;
    writeTextDir = path: text: tree (baseNameOf path) { inherit path text; } { ${path} = text; };
    writeShellScript = name: text: file name { inherit text; } (script text) true;
    writeShellScriptBin = name: text: tree name { bin = name; inherit text; } { "bin/${name}" = script text; };
    # Argument lists as upstream's, without `...`: a misspelt argument fails.
    # The environment links every file of `paths` under `pathsToLink`, the
    # first package providing a name winning.
    buildEnv =
      { name, paths, pathsToLink ? [ "/" ], extraOutputsToInstall ? [ ], ignoreCollisions ? false
      , checkCollisionContents ? true, postBuild ? "", extraPrefix ? "", manifest ? ""
      , includeClosures ? false, ignoreSingleFileOutputs ? false, nativeBuildInputs ? [ ]
      , buildInputs ? [ ], passthru ? { }, meta ? { } }@args:
      build name args (''
        set -eu
        PATH=/usr/bin:/bin
        mkdir "$out"
        link() {
          pkg=$1
          shift
          for dir; do
            [ -d "$pkg$dir" ] || continue
            find "$pkg$dir" ! -type d | LC_ALL=C sort | while IFS= read -r f; do
              rel=''${f#"$pkg"}
              if [ ! -e "$out$rel" ] && [ ! -L "$out$rel" ]; then
                mkdir -p "$(dirname "$out$rel")"
                ln -s "$f" "$out$rel"
              fi
            done
          done
        }
      '' + concatMapStrings (p: "link ${p} ${toString (map quote pathsToLink)}\n") paths);
    dockerTools.buildLayeredImage =
      { name, tag ? null, fromImage ? null, contents ? [ ], config ? { }, architecture ? null
      , created ? "1970-01-01T00:00:01Z", uid ? 0, gid ? 0, uname ? "root", gname ? "root"
      , maxLayers ? 100, extraCommands ? "", fakeRootCommands ? "", enableFakechroot ? false
      , includeStorePaths ? true, includeNixDB ? false, passthru ? { }, meta ? { } }@args:
      fake system "${name}.tar.gz" args
      // { imageName = name; imageTag = if tag == null then "latest" else tag; };
  };

  # The overlay fixed point, as nixpkgs computes it.
  pkgs = builtins.foldl' (prev: overlay: prev // overlay pkgs prev) (base pkgs) overlays;
in
pkgs
