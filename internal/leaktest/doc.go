// Package leaktest holds end-to-end tests that plant known fake secrets
// (an age file's clear-text marker, registry credentials, tailscale auth
// keys, env files) around a project, run the real CLI in-process, and
// check that none of them appears in anything nix2gpu writes or prints.
// It has no non-test code.
package leaktest
