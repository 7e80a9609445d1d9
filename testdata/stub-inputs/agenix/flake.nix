# Stub agenix: its command line tool.
{
  outputs = { self }:
    let inherit (import ./fake.nix) fake; in
    {
      packages = {
        x86_64-linux.agenix = fake "x86_64-linux" "agenix" { package = "agenix"; };
        aarch64-linux.agenix = fake "aarch64-linux" "agenix" { package = "agenix"; };
      };
    };
}
