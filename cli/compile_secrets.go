package cli

import "github.com/nix2gpu/nix2gpu/compiler"

// hasSecrets reports whether any container decrypts age files, which the
// flake reads from its own directory.
func hasSecrets(cs []*compiler.Container) bool {
	for _, c := range cs {
		if len(c.Secrets) > 0 {
			return true
		}
	}
	return false
}
