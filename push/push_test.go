package push

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/stream"

	"github.com/nix2gpu/nix2gpu/internal/testregistry"
)

// recorder collects events from concurrent uploads.
type recorder struct {
	mu     sync.Mutex
	events []Event
	hook   func(Event)
}

func (r *recorder) progress(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if r.hook != nil {
		r.hook(e)
	}
}

func (r *recorder) digests(kind EventKind) map[v1.Hash]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[v1.Hash]bool{}
	for _, e := range r.events {
		if e.Kind == kind {
			m[e.Digest] = true
		}
	}
	return m
}

func randomImage(t *testing.T, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(64<<10, layers)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// fastOptions keeps retries short: the tests are about what is retried and
// what is reported, not about the waiting.
func fastOptions(rec *recorder) Options {
	return Options{Backoff: time.Millisecond, Attempts: 2, Progress: rec.progress, Keychain: authn.NewMultiKeychain()}
}

func mustDigest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pulledDigest reads ref back from the registry.
func pulledDigest(t *testing.T, ref string) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(r)
	if err != nil {
		t.Fatalf("reading back %s: %v", ref, err)
	}
	return desc.Digest
}

func TestPushAndRepushRealRegistry(t *testing.T) {
	reg := testregistry.Start(t)
	img := randomImage(t, 3)
	ref := reg.Host + "/nix2gpu/app:v1"

	rec := &recorder{}
	res, err := Push(context.Background(), img, []string{ref}, fastOptions(rec))
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Ref: ref, Digest: mustDigest(t, img), Uploaded: 4, Skipped: 0, UploadedBytes: sumSizes(t, img)}
	if len(res) != 1 || res[0] != want {
		t.Fatalf("first push\n got %+v\nwant %+v", res, want)
	}
	if got := pulledDigest(t, ref); got != want.Digest {
		t.Errorf("registry holds %s, pushed %s", got, want.Digest)
	}
	if n := len(rec.digests(ManifestPushed)); n != 1 {
		t.Errorf("%d manifest events, want 1", n)
	}

	// The same image again, under another tag: every blob is there.
	rec2 := &recorder{}
	ref2 := reg.Host + "/nix2gpu/app:v2"
	res, err = Push(context.Background(), img, []string{ref2}, fastOptions(rec2))
	if err != nil {
		t.Fatal(err)
	}
	want2 := Result{Ref: ref2, Digest: want.Digest, Uploaded: 0, Skipped: 4}
	if len(res) != 1 || res[0] != want2 {
		t.Fatalf("re-push\n got %+v\nwant %+v", res, want2)
	}
	if up := rec2.digests(BlobUploaded); len(up) != 0 {
		t.Errorf("re-push reported uploads: %v", up)
	}

	// The same tag again: the manifest under the tag is this image's, so
	// no blob is asked about; all of them still count as skipped.
	rec3 := &recorder{}
	res, err = Push(context.Background(), img, []string{ref}, fastOptions(rec3))
	if err != nil {
		t.Fatal(err)
	}
	if want3 := (Result{Ref: ref, Digest: want.Digest, Skipped: 4}); res[0] != want3 {
		t.Errorf("same-tag push\n got %+v\nwant %+v", res[0], want3)
	}
	if n := len(rec3.digests(BlobSkipped)); n != 4 {
		t.Errorf("same-tag push reported %d skipped blobs, want 4", n)
	}

	// The registry's own access log agrees: four blob uploads in all, all
	// from the first push. Stopping it first makes the log complete.
	reg.Stop()
	if n := testregistry.BlobUploads(reg.Requests()); n != 4 {
		t.Errorf("registry logged %d blob uploads, want 4", n)
	}
}

func sumSizes(t *testing.T, img v1.Image) int64 {
	t.Helper()
	sizes, err := blobSizes(img)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range sizes {
		n += s
	}
	return n
}

func TestPushResumesAfterRegistryCrash(t *testing.T) {
	reg := testregistry.Start(t)
	img := randomImage(t, 5)
	ref := reg.Host + "/nix2gpu/crash:latest"

	// Kill the registry as soon as the first blob is committed. With one
	// job the blobs go one by one, so the rest of the push meets a dead
	// registry.
	rec := &recorder{}
	var once sync.Once
	rec.hook = func(e Event) {
		if e.Kind == BlobUploaded {
			once.Do(reg.Stop)
		}
	}
	opts := fastOptions(rec)
	opts.Jobs = 1
	_, err := Push(context.Background(), img, []string{ref}, opts)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("push to a dead registry: err = %v, want ErrUnreachable", err)
	}
	var ue *UnreachableError
	if !errors.As(err, &ue) || ue.Registry != reg.Host {
		t.Errorf("error %v does not name registry %s", err, reg.Host)
	}
	first := rec.digests(BlobUploaded)
	if len(first) != 1 {
		t.Fatalf("first push uploaded %d blobs before the crash, want 1", len(first))
	}
	if len(rec.digests(Retrying)) == 0 {
		t.Error("no retries reported before giving up")
	}

	// Same storage, same address: the next push finishes and does not send
	// the committed blob again.
	if err := reg.Restart(); err != nil {
		t.Fatal(err)
	}
	rec2 := &recorder{}
	res, err := Push(context.Background(), img, []string{ref}, fastOptions(rec2))
	if err != nil {
		t.Fatal(err)
	}
	second, skipped := rec2.digests(BlobUploaded), rec2.digests(BlobSkipped)
	for h := range first {
		if second[h] {
			t.Errorf("blob %s uploaded again", h)
		}
		if !skipped[h] {
			t.Errorf("blob %s not reported as skipped", h)
		}
	}
	if res[0].Uploaded != 5 || res[0].Skipped != 1 {
		t.Errorf("second push %+v, want 5 uploaded, 1 skipped", res[0])
	}
	if got := pulledDigest(t, ref); got != mustDigest(t, img) {
		t.Errorf("registry holds %s, want %s", got, mustDigest(t, img))
	}
}

func TestPushUnreachable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	rec := &recorder{}
	_, err = Push(context.Background(), randomImage(t, 1), []string{addr + "/x/y:z"}, fastOptions(rec))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), "pushing "+addr+"/x/y:z") {
		t.Errorf("error %q does not name the reference", err)
	}
}

// flaky wraps a handler and answers the first n requests of each kind that
// match with status, as an overloaded registry would.
func flaky(h http.Handler, n int32, status int, match func(*http.Request) bool) http.Handler {
	var failed atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match(r) && failed.Add(1) <= n {
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}`, status)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestPushRetriesServerErrors(t *testing.T) {
	srv := httptest.NewServer(flaky(quietRegistry(), 2, http.StatusServiceUnavailable,
		func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/")
		}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	img := randomImage(t, 2)
	rec := &recorder{}
	opts := fastOptions(rec)
	opts.Attempts = 4
	res, err := Push(context.Background(), img, []string{host + "/r/img:1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Uploaded != 3 {
		t.Errorf("result %+v, want 3 uploads", res[0])
	}
	var retries int
	for _, e := range rec.events {
		if e.Kind == Retrying {
			retries++
		}
	}
	if retries < 2 {
		t.Errorf("%d retries reported, want at least 2", retries)
	}
}

func TestPushGivesUpOnPersistentServerErrors(t *testing.T) {
	srv := httptest.NewServer(flaky(quietRegistry(), 1<<30, http.StatusBadGateway,
		func(r *http.Request) bool { return r.Method == http.MethodPost }))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	_, err := Push(context.Background(), randomImage(t, 1), []string{host + "/r/img:1"}, fastOptions(&recorder{}))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestPushDenied(t *testing.T) {
	srv := httptest.NewServer(flaky(quietRegistry(), 1<<30, http.StatusForbidden,
		func(r *http.Request) bool { return r.Method == http.MethodPost }))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	_, err := Push(context.Background(), randomImage(t, 1), []string{host + "/r/img:1"}, fastOptions(&recorder{}))
	if !errors.Is(err, ErrDenied) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrDenied", err)
	}
}

// staticKeychain hands out one credential for every registry.
type staticKeychain struct{ auth authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.auth, nil }

// basicAuth serves next only to requests that log in as user with
// secret, counting them in authed; any other request is asked to log in,
// as a registry with Basic auth does.
func basicAuth(user, secret string, authed *atomic.Int32, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != secret {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}`, http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		next.ServeHTTP(w, r)
	})
}

func TestPushSendsCredentialsAndNeverShowsThem(t *testing.T) {
	const user, secret = "ci-bot", "s3cr3t-t0ken"
	inner := quietRegistry()
	var authed atomic.Int32
	srv := httptest.NewServer(basicAuth(user, secret, &authed, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			http.Error(w, `{"errors":[{"code":"DENIED","message":"read-only"}]}`, http.StatusForbidden)
			return
		}
		inner.ServeHTTP(w, r)
	})))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	opts := fastOptions(&recorder{})
	opts.Keychain = staticKeychain{authn.FromConfig(authn.AuthConfig{Username: user, Password: secret})}
	_, err := Push(context.Background(), randomImage(t, 1), []string{host + "/r/img:1"}, opts)
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("err = %v, want ErrDenied", err)
	}
	if authed.Load() == 0 {
		t.Error("no request carried the credentials")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the secret: %v", err)
	}
}

func TestPushSeveralRefs(t *testing.T) {
	srv := httptest.NewServer(quietRegistry())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img := randomImage(t, 2)
	refs := []string{host + "/a/img:1", host + "/b/img:1"}
	res, err := Push(context.Background(), img, refs, fastOptions(&recorder{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Ref != refs[0] || res[1].Ref != refs[1] || res[0].Digest != res[1].Digest {
		t.Fatalf("results %+v", res)
	}
	// The second repository mounts the blobs the first one received.
	if res[0].Uploaded != 3 || res[1].Uploaded != 0 || res[1].Skipped != 3 {
		t.Errorf("uploads: first %+v, second %+v; want the second to mount all 3 blobs", res[0], res[1])
	}

	// A bad reference fails alone; the good one still goes.
	res, err = Push(context.Background(), img, []string{"UPPER/case:tag", refs[0]}, fastOptions(&recorder{}))
	if err == nil || len(res) != 1 || res[0].Ref != refs[0] {
		t.Errorf("results %+v, err %v", res, err)
	}
}

// quietRegistry is go-containerregistry's in-memory registry without its
// request log.
func quietRegistry() http.Handler {
	return registry.New(registry.Logger(log.New(io.Discard, "", 0)))
}

func TestPushHashesStreamedLayersWhileUploading(t *testing.T) {
	srv := httptest.NewServer(quietRegistry())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	// A stream layer knows its digest only after it has been read once:
	// the push computes it on the way to the registry.
	layer := stream.NewLayer(io.NopCloser(strings.NewReader(strings.Repeat("nix2gpu layer data\n", 4096))))
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	ref := host + "/stream/img:1"
	res, err := Push(context.Background(), img, []string{ref}, fastOptions(rec))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Uploaded != 2 || res[0].UploadedBytes == 0 {
		t.Errorf("result %+v, want 2 uploads with their sizes", res[0])
	}
	if got := pulledDigest(t, ref); got != res[0].Digest {
		t.Errorf("registry holds %s, result says %s", got, res[0].Digest)
	}
}

func TestPushUntrustedCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(quietRegistry())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
	srv.StartTLS()
	defer srv.Close()
	// httptest's certificate is for 127.0.0.1 but signed by nobody this
	// process trusts; "localhost" makes go-containerregistry try HTTPS
	// first, and the plain HTTP fallback finds a TLS server.
	host := strings.Replace(strings.TrimPrefix(srv.URL, "https://"), "127.0.0.1", "localhost", 1)
	_, err := Push(context.Background(), randomImage(t, 1), []string{host + "/x/tls:1"}, fastOptions(&recorder{}))
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestPushSeveralRegistries(t *testing.T) {
	a := httptest.NewServer(quietRegistry())
	defer a.Close()
	b := httptest.NewServer(quietRegistry())
	defer b.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	hostA, hostB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	refs := []string{hostA + "/x/img:1", dead + "/x/img:1", hostB + "/x/img:1", hostA + "/y/img:1"}
	res, err := Push(context.Background(), randomImage(t, 2), refs, fastOptions(&recorder{}))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), dead) {
		t.Errorf("err = %v, want the dead registry unreachable", err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Ref)
	}
	want := []string{refs[0], refs[2], refs[3]}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("results for %q, want %q in order", got, want)
	}
	if len(res) == 3 && (res[1].Uploaded != 3 || res[2].Uploaded != 0) {
		t.Errorf("second registry uploaded %d, mount on the first uploaded %d", res[1].Uploaded, res[2].Uploaded)
	}
}

func TestPushInsecure(t *testing.T) {
	srv := httptest.NewServer(quietRegistry())
	defer srv.Close()
	// Every host name leads to the test registry, which speaks plain HTTP.
	addr := strings.TrimPrefix(srv.URL, "http://")
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	ref := "registry.example:5000/x/plain:1"

	opts := fastOptions(&recorder{})
	opts.Transport = tr
	if _, err := Push(context.Background(), randomImage(t, 1), []string{ref}, opts); err == nil {
		t.Fatal("plain HTTP to a non-local registry worked without Insecure")
	}
	opts.Insecure = true
	res, err := Push(context.Background(), randomImage(t, 1), []string{ref}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Uploaded != 2 {
		t.Errorf("result %+v", res[0])
	}
}

func TestPushUsesDockerConfigCredentials(t *testing.T) {
	const user, secret = "robot", "from-docker-config"
	var authed atomic.Int32
	srv := httptest.NewServer(basicAuth(user, secret, &authed, quietRegistry()))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	// The same file `docker login` writes; a nil Keychain reads it.
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))
	cfg := `{"auths": {"` + host + `": {"auth": "` + auth + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)

	rec := &recorder{}
	opts := Options{Backoff: time.Millisecond, Attempts: 2, Progress: rec.progress}
	res, err := Push(context.Background(), randomImage(t, 1), []string{host + "/private/img:1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if authed.Load() == 0 || res[0].Uploaded != 2 {
		t.Errorf("authenticated requests %d, result %+v", authed.Load(), res[0])
	}
	for _, e := range rec.events {
		if e.Err != nil && strings.Contains(e.Err.Error(), secret) {
			t.Errorf("event shows the secret: %v", e.Err)
		}
	}
}
