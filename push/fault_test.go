package push

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nix2gpu/nix2gpu/internal/faultproxy"
	"github.com/nix2gpu/nix2gpu/internal/testregistry"
)

func isBlobUpload(r *http.Request) bool {
	return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
}

func TestPushRetriesConnectionResets(t *testing.T) {
	p, _ := testregistry.StartBehind(t, faultproxy.FirstN(2, faultproxy.Reset, isBlobUpload))
	img := randomImage(t, 2)
	rec := &recorder{}
	opts := fastOptions(rec)
	opts.Attempts = 4
	ref := p.Addr() + "/nix2gpu/resets:1"
	res, err := Push(context.Background(), img, []string{ref}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Uploaded != 3 {
		t.Errorf("result %+v, want 3 uploads", res[0])
	}
	if len(rec.digests(Retrying)) == 0 {
		t.Error("no retry reported after connection resets")
	}
	if got := pulledDigest(t, ref); got != mustDigest(t, img) {
		t.Errorf("registry holds %s, want %s", got, mustDigest(t, img))
	}
}

func TestPushGivesUpOnStalledRegistry(t *testing.T) {
	p, _ := testregistry.StartBehind(t, faultproxy.Always(faultproxy.Stall))
	opts := fastOptions(&recorder{})
	// The stall is the proxy never answering; the timeout is what ends
	// the wait, it asserts nothing about how long anything takes.
	opts.ResponseTimeout = 50 * time.Millisecond
	_, err := Push(context.Background(), randomImage(t, 1), []string{p.Addr() + "/x/stall:1"}, opts)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestPushGivesUpOnPersistent503(t *testing.T) {
	p, _ := testregistry.StartBehind(t, faultproxy.FirstN(1<<30, faultproxy.ServerError, isBlobUpload))
	_, err := Push(context.Background(), randomImage(t, 1), []string{p.Addr() + "/x/busy:1"}, fastOptions(&recorder{}))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}
