# Assembles one container image: the root file system (packages, startup
# script, /etc files), then the image with the chosen builder, and the
# push and load programs.
{ inputs, system, pkgs, container }:
let
  c = container;
  spec = c.withPkgs pkgs;
  lines = builtins.concatStringsSep "\n";
  optional = cond: x: if cond then [ x ] else [ ];
  quote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";

  # The NVIDIA runtime injects the host driver libraries at run time (never
  # baked in). The legacy hook uses /usr/local/nvidia, CDI mounts them into
  # the distribution's library directory; ldconfig at start indexes both.
  triplet = if system == "aarch64-linux" then "aarch64-linux-gnu" else "x86_64-linux-gnu";
  ldSoConf = pkgs.writeTextDir "etc/ld.so.conf" (lines [
    "/usr/local/nvidia/lib64"
    "/usr/local/nvidia/lib"
    "/usr/lib64"
    "/usr/lib/${triplet}"
    "/lib/${triplet}"
    ""
  ]);

  user = c.imageConfig.User or "root";
  homeDir = if user == "root" then "/root" else "/home/${user}";
  passwd = pkgs.writeTextDir "etc/passwd" (lines ([
    "root:x:0:0:root:/root:/bin/bash"
    "sshd:x:74:74:sshd privilege separation:/var/empty:/bin/false"
    "nobody:x:65534:65534:nobody:/var/empty:/bin/false"
  ] ++ optional (user != "root") "${user}:x:1000:1000::${homeDir}:/bin/bash" ++ [ "" ]));
  group = pkgs.writeTextDir "etc/group" (lines ([
    "root:x:0:"
    "sshd:x:74:"
    "nogroup:x:65534:"
  ] ++ optional (user != "root") "${user}:x:1000:" ++ [ "" ]));

  confValue = v:
    if builtins.isList v then builtins.concatStringsSep " " (map confValue v)
    else if builtins.isBool v then (if v then "true" else "false")
    else toString v;
  nixConf = pkgs.writeTextDir "etc/nix/nix.conf" (lines
    (map (k: "${k} = ${confValue spec.nixConfig.${k}}") (builtins.attrNames spec.nixConfig) ++ [ "" ]));

  home =
    if spec.home == null then null
    else inputs.home-manager.lib.homeManagerConfiguration {
      inherit pkgs;
      extraSpecialArgs = { inherit inputs; };
      modules = spec.home.modules ++ [
        {
          home.username = user;
          home.homeDirectory = homeDir;
          home.stateVersion = spec.home.stateVersion;
          home.packages = spec.home.packages;
          programs = spec.home.programs;
        }
      ] ++ optional spec.home.forceRootUser ./force-root-user.nix;
    };

  services =
    if spec.services == { } then null
    else (import inputs.process-compose-flake.lib { inherit pkgs; }).makeProcessCompose {
      name = "nix2gpu-services";
      modules = [ inputs.services-flake.processComposeModules.default ]
        ++ spec.serviceModules
        ++ [ { services = spec.services; } ];
    };

  startup = import ./startup.nix {
    inherit pkgs services home;
    name = c.name;
    settings = spec.startup;
    homeDirectory = homeDir;
  };

  root = pkgs.buildEnv {
    name = "${c.name}-root";
    paths = spec.packages ++ [
      pkgs.bashInteractive
      pkgs.coreutils
      pkgs.tini
      pkgs.glibc.bin # ldconfig
      startup
      ldSoConf
      passwd
      group
    ]
    ++ optional (spec.nixConfig != { }) nixConf
    ++ optional spec.startup.ssh.enable pkgs.openssh
    ++ optional spec.startup.tailscale.enable pkgs.tailscale;
    pathsToLink = [ "/bin" "/etc" "/lib" "/share" ];
    # CUDA libraries (cudnn, nccl, ...) live in their "lib" output.
    extraOutputsToInstall = [ "lib" ];
  };

  maxLayers = if c.maxLayers > 0 then c.maxLayers else 100;

  image =
    if c.builder == "nix2container" then
      inputs.nix2container.packages.${system}.nix2container.buildImage {
        name = c.name;
        tag = c.tag;
        config = c.imageConfig;
        copyToRoot = [ root ];
        inherit maxLayers;
        initializeNixDatabase = false;
      }
    else
      pkgs.dockerTools.buildLayeredImage {
        name = c.name;
        tag = c.tag;
        contents = [ root ];
        config = c.imageConfig;
        inherit maxLayers;
      };

  refs = map (r: "${r}:${c.tag}") c.registries;
  pushOne =
    if c.builder == "nix2container" then
      ref: "${image.copyTo}/bin/copy-to ${quote "docker://${ref}"} \"$@\""
    else
      ref: "${pkgs.skopeo}/bin/skopeo copy ${quote "docker-archive:${image}"} ${quote "docker://${ref}"} \"$@\"";
  push = pkgs.writeShellScriptBin "${c.name}-push" (lines (
    if refs == [ ] then [
      "echo ${quote "${c.name}: no registries configured in nix2gpu.yaml"} >&2"
      "exit 1"
    ] else [ "set -e" ] ++ map pushOne refs));
  load = pkgs.writeShellScriptBin "${c.name}-load" (
    if c.builder == "nix2container" then
      "exec ${image.copyToDockerDaemon}/bin/copy-to-docker-daemon \"$@\""
    else
      "docker load < ${image}");
in
{
  inherit spec image root startup services home push load;
}
