# Stands in for services-flake's module tree.
{ ... }: { }
