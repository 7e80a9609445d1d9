package emit_test

import (
	"fmt"
	"testing"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/emit"
)

func BenchmarkGenerate1000(b *testing.B) {
	p := &compiler.Project{Systems: []string{"x86_64-linux", "aarch64-linux"}}
	for i := 0; i < 1000; i++ {
		p.Containers = append(p.Containers, &compiler.Container{
			Name:     fmt.Sprintf("c%04d", i),
			CUDA:     &compiler.CUDA{Version: "12.8", PackageSet: "cudaPackages_12_8", Capabilities: []string{"9.0"}},
			Packages: []compiler.AttrPath{{"git"}, {"python312Packages", "torch"}},
			Env:      []compiler.EnvVar{{Name: "A", Value: "b"}, {Name: "HF_HOME", Value: "/workspace/hf"}},
			Labels:   []compiler.Label{{Name: "org.opencontainers.image.source", Value: "https://example.org"}},
			Ports:    []compiler.Port{{Number: 8188, Protocol: "tcp"}},
			Startup:  "echo ready\n",
		})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := emit.Generate(p); err != nil {
			b.Fatal(err)
		}
	}
}
