package schema

import (
	"testing"

	"github.com/nix2gpu/nix2gpu/config"
)

// FuzzValidate feeds arbitrary YAML through the parser and Validate:
// validation must never panic, and every diagnostic must carry a path
// and a position in the file.
func FuzzValidate(f *testing.F) {
	for _, src := range edgeInputs {
		f.Add(src)
	}
	for _, src := range errorInputs() {
		f.Add(src)
	}
	s, err := Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		file, ds := config.Parse("nix2gpu.yaml", []byte(src), config.Limits{})
		if ds.HasErrors() || file == nil {
			return
		}
		for _, d := range s.Validate(file) {
			if d.Message == "" {
				t.Errorf("diagnostic without a message: %+v", d)
			}
			if d.Range.Filename != "nix2gpu.yaml" {
				t.Errorf("diagnostic without the file name: %+v", d)
			}
		}
	})
}
