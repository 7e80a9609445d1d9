# Stub services-flake: only the process-compose module output.
{
  outputs = { self }: { processComposeModules.default = ./services-flake-module.nix; };
}
