# The container's startup program, run by tini as PID 1. Every value from
# the configuration reaches the shell through `quote`, never unquoted.
{ pkgs, name, settings, services, home, homeDirectory }:
let
  s = settings;
  lines = builtins.concatStringsSep "\n";
  optionals = cond: xs: if cond then xs else [ ];
  quote = x: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString x) + "'";
  bin = "${pkgs.coreutils}/bin";

  userStartup = pkgs.writeShellScript "${name}-user-startup" s.script;

  secretLines = builtins.concatMap
    (sec: [
      "${bin}/mkdir -p \"$(${bin}/dirname ${quote sec.path})\""
      "${pkgs.age}/bin/age --decrypt ${builtins.concatStringsSep " " (map (i: "-i ${quote i}") s.identityPaths)} -o ${quote sec.path} ${quote sec.file}"
      "${bin}/chmod ${quote sec.mode} ${quote sec.path}"
    ] ++ optionals (sec.owner != "") [ "${bin}/chown ${quote sec.owner} ${quote sec.path}" ])
    s.secrets;

  ssh = s.ssh;
  sshdConfig = pkgs.writeText "${name}-sshd_config" (lines [
    "Port ${toString ssh.port}"
    "PermitRootLogin prohibit-password"
    "PasswordAuthentication no"
    "AuthorizedKeysFile .ssh/authorized_keys"
    "HostKey /var/lib/sshd/ssh_host_ed25519_key"
    ssh.config
    ""
  ]);
  authorizedKeys = pkgs.writeText "${name}-authorized_keys" (lines (ssh.authorizedKeys ++ [ "" ]));
  sshLines = optionals ssh.enable [
    # Host keys live outside /etc, which may be a read-only link into the store.
    "${bin}/mkdir -p /var/lib/sshd /var/empty ${quote "${homeDirectory}/.ssh"}"
    "[ -f /var/lib/sshd/ssh_host_ed25519_key ] || ${pkgs.openssh}/bin/ssh-keygen -q -t ed25519 -N '' -f /var/lib/sshd/ssh_host_ed25519_key"
    "${bin}/cp ${authorizedKeys} ${quote "${homeDirectory}/.ssh/authorized_keys"}"
    "${bin}/chmod 700 ${quote "${homeDirectory}/.ssh"}"
    "${bin}/chmod 600 ${quote "${homeDirectory}/.ssh/authorized_keys"}"
    "${pkgs.openssh}/bin/sshd -f ${sshdConfig}"
  ];

  ts = s.tailscale;
  tsSocket = "/run/tailscale/tailscaled.sock";
  tailscaleLines = optionals ts.enable [
    "${bin}/mkdir -p /var/lib/tailscale /run/tailscale"
    "${pkgs.tailscale}/bin/tailscaled --tun=userspace-networking --state=/var/lib/tailscale/tailscaled.state --socket=${tsSocket} &"
    # Wait (at most ten seconds) for the daemon's socket.
    "i=0; while [ ! -S ${tsSocket} ] && [ \"$i\" -lt 100 ]; do ${bin}/sleep 0.1; i=$((i + 1)); done"
    # The key stays in its file: tailscale reads it itself.
    "${pkgs.tailscale}/bin/tailscale --socket=${tsSocket} up --auth-key=${quote "file:${ts.authKeyFile}"}${if ts.hostname == "" then "" else " --hostname=${quote ts.hostname}"} ${builtins.concatStringsSep " " (map quote ts.extraArgs)}"
  ];

  # The image has no Nix database, so home-manager's own activation (which
  # installs packages with nix-env) cannot run; the generation is linked
  # into place instead: the profile, then the managed files.
  homeLines = optionals (home != null) [
    "${bin}/ln -sfn ${home.config.home.path} \"$HOME/.nix-profile\""
    "${bin}/cp -rP --no-preserve=mode -f ${home.config.home-files}/. \"$HOME/\""
  ];

  runServices = "${services}/bin/nix2gpu-services";
  finalLines =
    if services != null then [
      "if [ \"$#\" -gt 0 ]; then"
      "  PC_DISABLE_TUI=true ${runServices} &"
      "  exec \"$@\""
      "fi"
      "if [ -t 0 ] && [ -t 1 ]; then"
      "  exec ${runServices}"
      "fi"
      "PC_DISABLE_TUI=true exec ${runServices}"
    ] else [
      "if [ \"$#\" -gt 0 ]; then"
      "  exec \"$@\""
      "fi"
      "exec ${bin}/sleep infinity"
    ];
in
pkgs.writeShellScriptBin "nix2gpu-startup" (lines ([
  "set -eu"
  "export HOME=\"\${HOME:-${homeDirectory}}\""
  "export USER=\"\${USER:-$(${bin}/id -un)}\""
  "${bin}/mkdir -p /tmp /run /var/empty /var/log /var/lib \"$HOME\""
  "${bin}/chmod 1777 /tmp"
  # Index the driver libraries the NVIDIA runtime injected (see /etc/ld.so.conf).
  # Explicit paths: nixpkgs' glibc otherwise keeps its cache in the store.
  "${pkgs.glibc.bin}/bin/ldconfig -f /etc/ld.so.conf -C /etc/ld.so.cache 2>/dev/null || true"
]
++ secretLines
++ sshLines
++ tailscaleLines
++ homeLines
++ optionals (s.script != "") [ "${userStartup}" ]
++ finalLines
++ [ "" ]))
