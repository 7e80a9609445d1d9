// Package editor holds the editor integration test: it drives the real
// YAML language server (npm yaml-language-server, pinned in package.json)
// over stdio with nix2gpu's JSON Schema and checks that completion, hover
// and diagnostics work as a user sees them in VS Code or Neovim.
//
// The package has no code of its own; the test lives in lsp_test.go. Run
// `npm ci` in this directory once to install the pinned server.
package editor
