# nix2gpu's ComfyUI service: a process-compose module in the style of
# services-flake, one process per enabled instance of services.comfyui.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  instance = { name, ... }: {
    options = {
      enable = mkOption { type = types.bool; default = false; description = "Run this ComfyUI instance."; };
      package = mkOption { type = types.package; default = pkgs.comfyui; description = "The ComfyUI package; it must provide bin/comfyui."; };
      host = mkOption { type = types.str; default = "0.0.0.0"; description = "Address to listen on."; };
      port = mkOption { type = types.port; default = 8188; description = "Port of the web UI and API."; };
      dataDir = mkOption { type = types.str; default = "./data/${name}"; description = "Models, inputs and outputs."; };
      extraArgs = mkOption { type = types.listOf types.str; default = [ ]; description = "Further command line arguments."; };
    };
  };
  enabled = lib.filterAttrs (_: i: i.enable) config.services.comfyui;
in
{
  options.services.comfyui = mkOption {
    type = types.attrsOf (types.submodule instance);
    default = { };
    description = "ComfyUI instances.";
  };
  config.settings.processes = lib.mapAttrs'
    (name: i: lib.nameValuePair "comfyui-${name}" {
      command = lib.escapeShellArgs ([
        "${i.package}/bin/comfyui"
        "--listen" i.host
        "--port" (toString i.port)
        "--base-directory" i.dataDir
      ] ++ i.extraArgs);
      readiness_probe.http_get = { host = "127.0.0.1"; port = i.port; path = "/"; };
      availability.restart = "on_failure";
    })
    enabled;
}
