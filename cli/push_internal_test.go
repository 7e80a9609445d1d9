package cli

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nix2gpu/nix2gpu/compiler"
	"github.com/nix2gpu/nix2gpu/push"
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

func TestPushLogTerminal(t *testing.T) {
	var out strings.Builder
	l := &pushLog{w: &out, live: true, width: 60}
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	l.event(push.Event{Kind: push.BlobUploaded, Ref: "r.io/a:1", Digest: h, Size: 1500})
	l.event(push.Event{Kind: push.BlobSkipped, Ref: "r.io/a:1", Digest: h, Size: 10})
	l.event(push.Event{Kind: push.Retrying, Ref: "r.io/a:1", Err: errors.New("connection reset")})
	l.event(push.Event{Kind: push.BlobSkipped, Ref: "r.io/b:1", Digest: h})
	l.finish()
	want := "\r\x1b[Kr.io/a:1: 1 uploaded (1.5 kB), 0 already there" +
		"\r\x1b[Kr.io/a:1: 1 uploaded (1.5 kB), 1 already there" +
		"\r\x1b[Kr.io/a:1: retrying after: connection reset\n" +
		"\r\x1b[Kr.io/a:1: 1 uploaded (1.5 kB), 1 already there" +
		"\r\x1b[K\r\x1b[Kr.io/b:1: 0 uploaded (0 B), 1 already there" +
		"\r\x1b[K"
	if got := out.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestPushLogPlain(t *testing.T) {
	var out strings.Builder
	l := &pushLog{w: &out, width: 80}
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	l.event(push.Event{Kind: push.BlobUploaded, Ref: "r.io/a:1", Digest: h, Size: 1500})
	l.event(push.Event{Kind: push.BlobSkipped, Ref: "r.io/a:1", Digest: h, Size: 10})
	l.event(push.Event{Kind: push.ManifestPushed, Ref: "r.io/a:1", Digest: h})
	l.finish()
	want := "r.io/a:1: uploaded sha256:abababababab (1.5 kB)\nr.io/a:1: exists   sha256:abababababab (10 B)\n"
	if got := out.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
