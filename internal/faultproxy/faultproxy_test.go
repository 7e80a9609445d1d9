package faultproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

func upstream(t *testing.T) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Echo the Host so the test can check it is kept.
		w.Header().Set("X-Seen-Host", r.Host)
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

func newProxy(t *testing.T, plan Plan) *Proxy {
	t.Helper()
	p, err := New(upstream(t).URL, plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// client does not reuse connections, so that a fault on one request
// cannot leak into the next.
func client() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestFaults(t *testing.T) {
	p := newProxy(t, Sequence(ServerError, Reset, Pass))
	c := client()

	// 1: injected 503.
	resp, err := c.Get(p.URL() + "/a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("first request: status %d, want 503", resp.StatusCode)
	}

	// 2: connection reset.
	_, err = c.Get(p.URL() + "/b")
	if err == nil {
		t.Fatal("second request: want a reset, got an answer")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Errorf("second request: want connection reset, got %v", err)
	}

	// 3 and later: forwarded, Host kept.
	for i := 0; i < 2; i++ {
		resp, err = c.Get(p.URL() + "/c")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hello /c" {
			t.Errorf("passed request: body %q", body)
		}
		if got := resp.Header.Get("X-Seen-Host"); got != p.Addr() {
			t.Errorf("upstream saw Host %q, want the proxy's %q", got, p.Addr())
		}
	}

	want := []Record{
		{"GET", "/a", "", ServerError, 503},
		{"GET", "/b", "", Reset, 0},
		{"GET", "/c", "", Pass, 200},
		{"GET", "/c", "", Pass, 200},
	}
	got := p.Records()
	if len(got) != len(want) {
		t.Fatalf("records: got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestStall checks that a stalled request holds until the client gives up
// (here: its context is cancelled once the proxy has seen the request),
// with no clock involved.
func TestStall(t *testing.T) {
	seen := make(chan struct{})
	p := newProxy(t, func(n int, r *http.Request) Fault {
		close(seen)
		return Stall
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-seen
		cancel()
	}()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.URL()+"/slow", nil)
	_, err := client().Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("stalled request: want context.Canceled, got %v", err)
	}
}

// TestCloseReleasesStalls checks that Close ends stalled connections, so
// a test never hangs on its own proxy.
func TestCloseReleasesStalls(t *testing.T) {
	seen := make(chan struct{})
	p := newProxy(t, func(int, *http.Request) Fault {
		close(seen)
		return Stall
	})
	go func() {
		<-seen
		_ = p.Close()
	}()
	_, err := client().Get(p.URL() + "/slow")
	if err == nil {
		t.Fatal("stalled request answered after Close")
	}
}

func TestFirstNAndSetPlan(t *testing.T) {
	isPut := func(r *http.Request) bool { return r.Method == http.MethodPut }
	p := newProxy(t, FirstN(2, ServerError, isPut))
	c := client()
	statuses := []int{}
	for _, m := range []string{"GET", "PUT", "GET", "PUT", "PUT"} {
		req, _ := http.NewRequest(m, p.URL()+"/x", strings.NewReader("body"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	want := []int{200, 503, 200, 503, 200}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	if n := p.Count(func(r Record) bool { return r.Fault == ServerError }); n != 2 {
		t.Errorf("Count(5xx) = %d, want 2", n)
	}

	p.SetPlan(Always(ServerError))
	p.ResetRecords()
	resp, err := c.Get(p.URL() + "/y")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || len(p.Records()) != 1 {
		t.Errorf("after SetPlan: status %d, %d records", resp.StatusCode, len(p.Records()))
	}
}

func TestNewRejectsNonLoopback(t *testing.T) {
	for _, u := range []string{"http://example.org", "https://127.0.0.1:1", "127.0.0.1:5000", "http://10.0.0.1:5000"} {
		if p, err := New(u, nil); err == nil {
			p.Close()
			t.Errorf("New(%q) accepted a non-loopback or non-http upstream", u)
		}
	}
}
