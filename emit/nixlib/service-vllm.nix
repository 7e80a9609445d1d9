# nix2gpu's vLLM service: an OpenAI-compatible inference server per enabled
# instance of services.vllm, as a process-compose module.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption types;
  instance = { name, ... }: {
    options = {
      enable = mkOption { type = types.bool; default = false; description = "Run this vLLM instance."; };
      package = mkOption { type = types.package; default = pkgs.vllm; description = "The vLLM package; it must provide bin/vllm."; };
      model = mkOption { type = types.str; description = "Model name or path to serve."; };
      host = mkOption { type = types.str; default = "0.0.0.0"; description = "Address to listen on."; };
      port = mkOption { type = types.port; default = 8000; description = "Port of the API."; };
      extraArgs = mkOption { type = types.listOf types.str; default = [ ]; description = "Further command line arguments."; };
    };
  };
  enabled = lib.filterAttrs (_: i: i.enable) config.services.vllm;
in
{
  options.services.vllm = mkOption {
    type = types.attrsOf (types.submodule instance);
    default = { };
    description = "vLLM instances.";
  };
  config.settings.processes = lib.mapAttrs'
    (name: i: lib.nameValuePair "vllm-${name}" {
      command = lib.escapeShellArgs ([
        "${i.package}/bin/vllm"
        "serve" i.model
        "--host" i.host
        "--port" (toString i.port)
      ] ++ i.extraArgs);
      readiness_probe.http_get = { host = "127.0.0.1"; port = i.port; path = "/health"; };
      availability.restart = "on_failure";
    })
    enabled;
}
