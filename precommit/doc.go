// Package precommit tests the pre-commit hooks declared in the repository's
// .pre-commit-hooks.yaml with the real pre-commit tool, in a temporary git
// repository. It has no code of its own.
package precommit
