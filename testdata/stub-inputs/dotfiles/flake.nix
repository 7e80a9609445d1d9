# Stub of a user's dotfiles flake, as examples/custom-home uses one.
{
  outputs = { self }: {
    homeModules.john = {
      programs.git.userName = "John Doe";
      home.sessionVariables.EDITOR = "nvim";
    };
  };
}
