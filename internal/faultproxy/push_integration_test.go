package faultproxy_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nix2gpu/nix2gpu/cli"
	"github.com/nix2gpu/nix2gpu/image"
	"github.com/nix2gpu/nix2gpu/internal/faultproxy"
	"github.com/nix2gpu/nix2gpu/internal/testregistry"
	"github.com/nix2gpu/nix2gpu/push"
)

// These tests put the fault proxy between push and a real registry
// (docker-registry on 127.0.0.1) and check what a user relies on when the
// network misbehaves. They skip where docker-registry is not installed.

func isCommit(r *http.Request) bool {
	return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func testImage(t *testing.T) v1.Image {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "testdata", "images", "two-layers"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := image.Open(context.Background(), p)
	if err != nil {
		t.Skipf("test image: %v", err)
	}
	return img
}

// committed returns the digests of blob uploads the registry accepted.
func committed(recs []faultproxy.Record) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/blobs/uploads/") && r.Status == http.StatusCreated {
			for _, kv := range strings.Split(r.Query, "&") {
				if d, ok := strings.CutPrefix(kv, "digest="); ok {
					out[strings.ReplaceAll(d, "%3A", ":")]++
				}
			}
		}
	}
	return out
}

// TestRegistryGoesDownMidPush lets the first blob commit through and then
// answers every request with 503, as a registry that falls over would.
// The push must fail as "unreachable" after its bounded retries; once the
// registry is back, the next push must finish without uploading the
// committed blob again.
func TestRegistryGoesDownMidPush(t *testing.T) {
	img := testImage(t)
	var mu sync.Mutex
	commits := 0
	plan := func(_ int, r *http.Request) faultproxy.Fault {
		mu.Lock()
		defer mu.Unlock()
		if commits >= 1 {
			return faultproxy.ServerError
		}
		if isCommit(r) {
			commits++
		}
		return faultproxy.Pass
	}
	p, _ := testregistry.StartBehind(t, plan)
	ref := p.Addr() + "/acme/down:v1"
	opts := push.Options{Jobs: 1, Attempts: 3, Backoff: time.Millisecond, Keychain: authn.NewMultiKeychain()}

	_, err := push.Push(context.Background(), img, []string{ref}, opts)
	if !errors.Is(err, push.ErrUnreachable) {
		t.Fatalf("push through a failing registry: err = %v, want ErrUnreachable", err)
	}
	first := committed(p.Records())
	if len(first) != 1 {
		t.Fatalf("first push committed %v, want exactly one blob", first)
	}
	if n := p.Count(func(r faultproxy.Record) bool { return r.Fault == faultproxy.ServerError }); n < 2 {
		t.Errorf("only %d failed requests seen: push did not retry", n)
	}

	// The registry is back.
	p.SetPlan(nil)
	p.ResetRecords()
	res, err := push.Push(context.Background(), img, []string{ref}, opts)
	if err != nil {
		t.Fatalf("push after recovery: %v", err)
	}
	second := committed(p.Records())
	for d := range first {
		if second[d] > 0 {
			t.Errorf("blob %s was uploaded again after recovery", d)
		}
	}
	layers, _ := img.Layers()
	if want := len(layers) + 1 - len(first); len(second) != want {
		t.Errorf("second push committed %d blobs, want %d (all but the finished one)", len(second), want)
	}
	want, _ := img.Digest()
	if res[0].Digest != want {
		t.Errorf("pushed manifest %s, want %s", res[0].Digest, want)
	}
}

// TestFlakyRegistryFinishes mixes resets and 5xx on the first requests of
// every kind; with retries the push completes and the registry holds the
// image.
func TestFlakyRegistryFinishes(t *testing.T) {
	img := testImage(t)
	p, _ := testregistry.StartBehind(t, faultproxy.Sequence(
		faultproxy.ServerError, faultproxy.Reset, faultproxy.Pass, faultproxy.ServerError,
		faultproxy.Pass, faultproxy.Reset, faultproxy.Pass, faultproxy.ServerError))
	opts := push.Options{Jobs: 2, Attempts: 5, Backoff: time.Millisecond, Keychain: authn.NewMultiKeychain()}
	res, err := push.Push(context.Background(), img, []string{p.Addr() + "/acme/flaky:v1"}, opts)
	if err != nil {
		t.Fatalf("push through a flaky registry: %v", err)
	}
	want, _ := img.Digest()
	if res[0].Digest != want {
		t.Errorf("pushed %s, want %s", res[0].Digest, want)
	}
}

// TestCLIRegistryDownExits3 checks the user's view: a registry that keeps
// failing is an environment problem, exit 3, with a message naming it.
func TestCLIRegistryDownExits3(t *testing.T) {
	p, _ := testregistry.StartBehind(t, faultproxy.Always(faultproxy.ServerError))
	img, err := filepath.Abs(filepath.Join("..", "..", "testdata", "images", "two-layers"))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"nix2gpu", "push", "--attempts", "1", "--image", img, "--to", p.Addr() + "/acme/down:v1"}, &cli.Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] },
		Dir:    t.TempDir(),
	})
	if code != cli.ExitEnv {
		t.Fatalf("exit %d, want %d\n%s%s", code, cli.ExitEnv, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), p.Addr()) {
		t.Errorf("the error does not name the registry %s:\n%s", p.Addr(), stderr.String())
	}
}
