package cli

import (
	"reflect"
	"testing"

	"github.com/nix2gpu/nix2gpu/compiler"
)

func TestWithTag(t *testing.T) {
	got := withTag([]string{
		"ghcr.io/acme/app",
		"localhost:5000/app",
		"ghcr.io/acme/app:pinned",
		"registry.local:5000/team/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}, "v1")
	want := []string{
		"ghcr.io/acme/app:v1",
		"localhost:5000/app:v1",
		"ghcr.io/acme/app:pinned",
		"registry.local:5000/team/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("withTag\n got %q\nwant %q", got, want)
	}
	if got := withTag([]string{"r.io/a"}, ""); got[0] != "r.io/a:latest" {
		t.Errorf("empty tag: %q", got[0])
	}
}

func TestSelectContainers(t *testing.T) {
	p := &compiler.Project{Containers: []*compiler.Container{{Name: "comfyui"}, {Name: "vllm"}}}
	tests := []struct {
		args    []string
		want    []string
		wantErr string
	}{
		{nil, []string{"comfyui", "vllm"}, ""},
		{[]string{"vllm", "comfyui", "vllm"}, []string{"vllm", "comfyui"}, ""},
		{[]string{"vlm"}, nil, `unknown container "vlm" (did you mean "vllm"?); the project has: comfyui, vllm`},
		{[]string{"zzzzzz"}, nil, `unknown container "zzzzzz"; the project has: comfyui, vllm`},
	}
	for _, tt := range tests {
		got, err := selectContainers(p, tt.args)
		if tt.wantErr != "" {
			ee, ok := err.(*ExitError)
			if !ok || ee.Code != ExitUsage || err.Error() != tt.wantErr {
				t.Errorf("selectContainers(%q) error %v, want usage error %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("selectContainers(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}
