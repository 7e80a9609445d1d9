# A home-manager module that makes a configuration written for another
# user (say "john") apply to root, the usual user in a container.
{ lib, ... }:
{
  home.username = lib.mkForce "root";
  home.homeDirectory = lib.mkForce "/root";
}
