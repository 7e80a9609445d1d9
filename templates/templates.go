// Package templates holds the starting points `nix2gpu init` writes: one
// commented nix2gpu.yaml per template, embedded in the binary.
package templates

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

// DefaultSchemaURL is where the published JSON Schema lives; editors fetch
// it from the modeline on a template's first line.
const DefaultSchemaURL = "https://raw.githubusercontent.com/nix2gpu/nix2gpu/main/schema/nix2gpu.schema.json"

// Default is the template init uses when none is named.
const Default = "basic"

// schemaPlaceholder marks where the schema reference goes in a template.
const schemaPlaceholder = "@SCHEMA@"

//go:embed *.yaml
var files embed.FS

// descriptions are the one-line summaries `nix2gpu init --list` shows.
var descriptions = map[string]string{
	"basic":    "one CUDA image with a few tools",
	"comfyui":  "ComfyUI served by process-compose, built with nix2container",
	"services": "a GPU worker with postgres and redis from services-flake",
	"home":     "a development image configured with home-manager",
}

// Template describes one template.
type Template struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// List returns the templates sorted by name.
func List() []Template {
	var out []Template
	for name, d := range descriptions {
		out = append(out, Template{Name: name, Description: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the template names sorted.
func Names() []string {
	var names []string
	for _, t := range List() {
		names = append(names, t.Name)
	}
	return names
}

// Render returns the text of the named template with its schema modeline
// pointing at schemaRef (a URL, or a path relative to the written file).
func Render(name, schemaRef string) ([]byte, error) {
	if _, ok := descriptions[name]; !ok {
		return nil, fmt.Errorf("unknown template %q (have %s)", name, strings.Join(Names(), ", "))
	}
	b, err := files.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	if strings.ContainsAny(schemaRef, "\n\r") {
		return nil, fmt.Errorf("schema reference %q spans lines", schemaRef)
	}
	return []byte(strings.Replace(string(b), schemaPlaceholder, schemaRef, 1)), nil
}
