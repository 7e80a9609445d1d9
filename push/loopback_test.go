package push

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/nix2gpu/nix2gpu/internal/testregistry"
)

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		registry string
		want     bool
	}{
		{"127.0.0.1:5000", true},
		{"127.0.0.1", true},
		{"127.8.9.10:443", true},
		{"localhost:5000", true},
		{"LOCALHOST", true},
		{"[::1]:5000", true},
		{"::1", true},
		{"10.0.0.1:5000", false},
		{"192.168.1.2:5000", false},
		{"registry.local:5000", false},
		{"localhost.example.com:5000", false},
		{"ghcr.io", false},
		{"[2001:db8::1]:5000", false},
	}
	for _, tt := range tests {
		if got := isLoopback(tt.registry); got != tt.want {
			t.Errorf("isLoopback(%q) = %v, want %v", tt.registry, got, tt.want)
		}
	}
}

// requestLog is the innermost transport of a push: it sees every request
// that leaves the process (retries, pings and token fetches included).
type requestLog struct {
	inner http.RoundTripper

	mu   sync.Mutex
	reqs []*http.Request
}

func newRequestLog() *requestLog {
	return &requestLog{inner: http.DefaultTransport.(*http.Transport).Clone()}
}

func (l *requestLog) RoundTrip(req *http.Request) (*http.Response, error) {
	l.mu.Lock()
	l.reqs = append(l.reqs, req)
	l.mu.Unlock()
	return l.inner.RoundTrip(req)
}

// take returns the requests logged since the last call as "METHOD
// scheme://host/path" lines, the query left out.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		out = append(out, r.Method+" "+r.URL.Scheme+"://"+r.URL.Host+r.URL.Path)
	}
	l.reqs = nil
	return out
}

func count(lines []string, match func(string) bool) int {
	n := 0
	for _, l := range lines {
		if match(l) {
			n++
		}
	}
	return n
}

func isTLS(l string) bool { return strings.Contains(l, "https://") }
func isBlobCommit(l string) bool {
	return strings.HasPrefix(l, "PUT ") && strings.Contains(l, "/blobs/uploads/")
}
func isBlobRequest(l string) bool {
	return strings.Contains(l, "/blobs/")
}

// TestPushLoopbackRequests pushes to a real registry on 127.0.0.1 and
// checks, request by request, what left the process: never TLS, and for
// an image the tag already names, one HEAD of the tag and nothing else.
func TestPushLoopbackRequests(t *testing.T) {
	reg := testregistry.Start(t)
	imgA, imgB := randomImage(t, 2), randomImage(t, 1)
	repo := reg.Host + "/nix2gpu/loop"
	type step struct {
		name string
		img  v1.Image
		tag  string
		// want: the result's counts; onlyTagCheck: the single request is
		// the HEAD of the tag.
		uploaded, skipped int
		onlyTagCheck      bool
	}
	steps := []step{
		{name: "first push", img: imgA, tag: "v1", uploaded: 3},
		{name: "same image, same tag", img: imgA, tag: "v1", skipped: 3, onlyTagCheck: true},
		{name: "same image, new tag", img: imgA, tag: "v2", skipped: 3},
		{name: "other image, same tag", img: imgB, tag: "v1", uploaded: 2},
		{name: "other image again", img: imgB, tag: "v1", skipped: 2, onlyTagCheck: true},
	}
	rl := newRequestLog()
	for _, s := range steps {
		rec := &recorder{}
		opts := fastOptions(rec)
		opts.Transport = rl
		ref := repo + ":" + s.tag
		res, err := Push(context.Background(), s.img, []string{ref}, opts)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		reqs := rl.take()
		t.Logf("%s, requests:\n%s", s.name, strings.Join(reqs, "\n"))
		want := Result{Ref: ref, Digest: mustDigest(t, s.img), Uploaded: s.uploaded, Skipped: s.skipped}
		if s.uploaded > 0 {
			want.UploadedBytes = sumSizes(t, s.img)
		}
		if len(res) != 1 || res[0] != want {
			t.Errorf("%s: result %+v, want %+v", s.name, res, want)
		}
		if n := count(reqs, isTLS); n != 0 {
			t.Errorf("%s: %d TLS requests to a loopback registry that speaks plain HTTP:\n%s", s.name, n, strings.Join(reqs, "\n"))
		}
		if n := count(reqs, isBlobCommit); n != s.uploaded {
			t.Errorf("%s: %d blob uploads, want %d:\n%s", s.name, n, s.uploaded, strings.Join(reqs, "\n"))
		}
		if s.onlyTagCheck {
			tagCheck := "HEAD http://" + reg.Host + "/v2/nix2gpu/loop/manifests/" + s.tag
			if len(reqs) != 1 || reqs[0] != tagCheck {
				t.Errorf("%s: requests\n%s\nwant only %q", s.name, strings.Join(reqs, "\n"), tagCheck)
			}
			if n := count(reqs, isBlobRequest); n != 0 {
				t.Errorf("%s: %d blob requests for an image the tag already names", s.name, n)
			}
			if got := len(rec.digests(BlobSkipped)); got != s.skipped {
				t.Errorf("%s: %d blobs reported skipped, want %d", s.name, got, s.skipped)
			}
		}
		if got := pulledDigest(t, ref); got != want.Digest {
			t.Errorf("%s: registry holds %s, pushed %s", s.name, got, want.Digest)
		}
	}
	// The registry's own log agrees on the uploads: 3 + 2 blobs.
	reg.Stop()
	if n := testregistry.BlobUploads(reg.Requests()); n != 5 {
		t.Errorf("registry logged %d blob uploads, want 5", n)
	}
}

// TestPushLoopbackTLSRegistry: a loopback registry that speaks only TLS
// answers the plain HTTP tag check with an error; the push goes on over
// TLS, and so does a repeated one.
func TestPushLoopbackTLSRegistry(t *testing.T) {
	srv := httptest.NewUnstartedServer(quietRegistry())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	rl := &requestLog{inner: srv.Client().Transport} // trusts the test certificate
	ref := strings.TrimPrefix(srv.URL, "https://") + "/x/tls:1"
	img := randomImage(t, 1)
	for _, name := range []string{"first push", "repeated push"} {
		opts := fastOptions(&recorder{})
		opts.Transport = rl
		res, err := Push(context.Background(), img, []string{ref}, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res[0].Digest != mustDigest(t, img) {
			t.Errorf("%s: result %+v", name, res[0])
		}
		reqs := rl.take()
		if count(reqs, isTLS) == 0 {
			t.Errorf("%s: no TLS request:\n%s", name, strings.Join(reqs, "\n"))
		}
	}
}

func TestPlainHTTPTransport(t *testing.T) {
	rl := &requestLog{inner: answer{status: http.StatusOK}}
	p := newPlainHTTP(rl)
	p.learn("127.0.0.1:5000")
	tests := []struct {
		url      string
		refused  bool
		reachRL  bool
		describe string
	}{
		{"https://127.0.0.1:5000/v2/", true, false, "TLS to a registry that answered plain HTTP"},
		{"http://127.0.0.1:5000/v2/", false, true, "plain HTTP to it"},
		{"https://127.0.0.1:5001/v2/", false, true, "TLS to another port"},
		{"https://ghcr.io/v2/", false, true, "TLS elsewhere"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, tt.url, nil)
		resp, err := p.RoundTrip(req)
		var poe *plainOnlyError
		if refused := errors.As(err, &poe); refused != tt.refused {
			t.Errorf("%s: err = %v, refused %v, want %v", tt.describe, err, refused, tt.refused)
		}
		if err == nil {
			resp.Body.Close()
		}
		if got := len(rl.take()) == 1; got != tt.reachRL {
			t.Errorf("%s: sent %v, want %v", tt.describe, got, tt.reachRL)
		}
		if tt.refused && retryable(err) {
			t.Errorf("%s: refusal counts as retryable", tt.describe)
		}
	}
}

// stubConn is a connection that does nothing, to tell wrapped from bare.
type stubConn struct{ net.Conn }

func TestCopyToLoopbackWrapsOnlyLoopback(t *testing.T) {
	dial := copyToLoopback(func(context.Context, string, string) (net.Conn, error) { return stubConn{}, nil })
	tests := []struct {
		addr   string
		copied bool
	}{
		{"127.0.0.1:5000", true},
		{"[::1]:5000", true},
		{"localhost:5000", true},
		{"10.1.2.3:5000", false},
		{"ghcr.io:443", false},
	}
	for _, tt := range tests {
		c, err := dial(context.Background(), "tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, copied := c.(*copyingConn); copied != tt.copied {
			t.Errorf("dial %s: %T, want copying %v", tt.addr, c, tt.copied)
		}
	}

	// The transport a push builds dials that way.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tr, ok := transportOf(Options{}).(*http.Transport)
	if !ok {
		t.Fatalf("transportOf: %T", transportOf(Options{}))
	}
	c, err := tr.DialContext(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, copied := c.(*copyingConn); !copied {
		t.Errorf("the push transport dials 127.0.0.1 as %T, want a copying connection", c)
	}
}

// TestCopyingConnSendsEverything sends bodies of sizes around the copy
// buffer's through a loopback connection, as net/http hands them over (a
// LimitedReader), and checks what arrives.
func TestCopyingConnSendsEverything(t *testing.T) {
	sizes := []int{0, 1, loopbackCopyBuffer - 1, loopbackCopyBuffer, loopbackCopyBuffer + 1, 3*loopbackCopyBuffer + 5}
	for _, size := range sizes {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan []byte, 1)
		go func() {
			defer l.Close()
			c, err := l.Accept()
			if err != nil {
				got <- nil
				return
			}
			defer c.Close()
			b, _ := io.ReadAll(c)
			got <- b
		}()
		dial := copyToLoopback((&net.Dialer{}).DialContext)
		c, err := dial(context.Background(), "tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		want := bytes.Repeat([]byte("nix2gpu!"), size/8+1)[:size]
		// One byte more than the limit: the copy must stop at the limit.
		src := &io.LimitedReader{R: bytes.NewReader(append(want, 'X')), N: int64(size)}
		n, err := c.(io.ReaderFrom).ReadFrom(src)
		if err != nil || n != int64(size) {
			t.Errorf("size %d: ReadFrom = %d, %v", size, n, err)
		}
		if err := c.(*copyingConn).CloseWrite(); err != nil {
			t.Errorf("size %d: CloseWrite: %v", size, err)
		}
		if b := <-got; !bytes.Equal(b, want) {
			t.Errorf("size %d: received %d bytes, want %d equal ones", size, len(b), len(want))
		}
		c.Close()
	}
}

// failingReader fails after some bytes, as a layer file on a failing disk.
type failingReader struct{ left int }

var errDisk = errors.New("disk failed")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, errDisk
	}
	n := min(len(p), r.left)
	r.left -= n
	return n, nil
}

func TestCopyingConnReportsReadErrors(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go io.Copy(io.Discard, b)
	c := &copyingConn{Conn: a}
	n, err := c.ReadFrom(&failingReader{left: 10})
	if !errors.Is(err, errDisk) || n != 10 {
		t.Errorf("ReadFrom = %d, %v; want 10, %v", n, err, errDisk)
	}
}

// TestTagCheckGivesUpOnStalledRegistry: the check before a push waits for
// a loopback registry only briefly, even when the caller's transport has
// no timeout; the full push then deals with the registry.
func TestTagCheckGivesUpOnStalledRegistry(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	old := tagCheckTimeout
	tagCheckTimeout = 50 * time.Millisecond
	defer func() { tagCheckTimeout = old }()

	ref, err := name.ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/x/stall:1")
	if err != nil {
		t.Fatal(err)
	}
	img := randomImage(t, 1)
	sizes, err := blobSizes(img)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{plain: newPlainHTTP(&http.Transport{})}
	opts.Transport = opts.plain
	done := make(chan bool, 1)
	go func() {
		_, ok := alreadyTagged(context.Background(), img, ref, sizes, opts)
		done <- ok
	}()
	select {
	case ok := <-done:
		if ok {
			t.Error("a registry that never answered counts as holding the image")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the tag check is still waiting for a stalled registry")
	}
}
