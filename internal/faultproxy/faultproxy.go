// Package faultproxy is a loopback HTTP proxy for tests that injects the
// failures real registries show: 5xx answers, connection resets and
// stalled connections. It forwards everything else to one upstream
// server unchanged, and records every request so that a test can assert
// what a client did (for example, that a retried push did not upload a
// finished blob again).
//
// It listens on 127.0.0.1 only. Faults are chosen per request by a Plan;
// plans are deterministic (counted, never timed), so tests built on them
// need no sleeps.
package faultproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// Fault is what the proxy does with one request.
type Fault int

const (
	// Pass forwards the request upstream.
	Pass Fault = iota
	// ServerError answers 503 Service Unavailable without forwarding.
	ServerError
	// Reset drops the connection with a TCP RST before any answer.
	Reset
	// Stall accepts the request and then never answers; the connection
	// stays open until the client gives up or the proxy closes.
	Stall
)

func (f Fault) String() string {
	switch f {
	case Pass:
		return "pass"
	case ServerError:
		return "5xx"
	case Reset:
		return "reset"
	case Stall:
		return "stall"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// A Plan decides the fault for the n-th request (0-based) the proxy sees.
// It is called with the proxy's lock held, one request at a time.
type Plan func(n int, r *http.Request) Fault

// Always applies f to every request.
func Always(f Fault) Plan { return func(int, *http.Request) Fault { return f } }

// Sequence applies faults[i] to the i-th request and passes every request
// after the sequence ends.
func Sequence(faults ...Fault) Plan {
	return func(n int, _ *http.Request) Fault {
		if n < len(faults) {
			return faults[n]
		}
		return Pass
	}
}

// FirstN applies f to the first n requests that match, then passes. match
// nil matches every request. The count is kept in the returned Plan, so
// use a fresh one per test.
func FirstN(n int, f Fault, match func(*http.Request) bool) Plan {
	hits := 0
	return func(_ int, r *http.Request) Fault {
		if match != nil && !match(r) {
			return Pass
		}
		if hits < n {
			hits++
			return f
		}
		return Pass
	}
}

// Record is one request the proxy saw and what it did with it. Status is
// the upstream answer's status for passed requests, 503 for ServerError
// and 0 for resets and stalls.
type Record struct {
	Method string
	Path   string
	Query  string // raw query, e.g. digest=sha256:… on a blob upload's last request
	Fault  Fault
	Status int
}

// Proxy forwards HTTP requests from a loopback listener to an upstream.
type Proxy struct {
	ln     net.Listener
	srv    *http.Server
	rp     *httputil.ReverseProxy
	closed chan struct{}

	mu      sync.Mutex
	plan    Plan
	n       int
	records []Record
}

// New starts a proxy in front of upstream (an http:// URL on loopback)
// that applies plan; a nil plan passes everything. Close it when done.
func New(upstream string, plan Plan) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: upstream %q: %w", upstream, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: upstream %q: want http://host:port", upstream)
	}
	if err := requireLoopback(u.Hostname()); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	if plan == nil {
		plan = Always(Pass)
	}
	p := &Proxy{ln: ln, plan: plan, closed: make(chan struct{})}
	p.rp = httputil.NewSingleHostReverseProxy(u)
	// The incoming Host header is kept, so a registry builds upload
	// Locations that point back at the proxy and later requests of the
	// same upload pass through it too.
	p.rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve)}
	go p.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	return p, nil
}

func requireLoopback(host string) error {
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("faultproxy: upstream host %q is not loopback", host)
}

// Addr is the proxy's host:port, e.g. to build an image reference.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy's base URL.
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// SetPlan replaces the plan and restarts the request count, e.g. to let
// the registry "come back" between two pushes.
func (p *Proxy) SetPlan(plan Plan) {
	if plan == nil {
		plan = Always(Pass)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan, p.n = plan, 0
}

// Records returns a copy of every request seen so far, in order.
func (p *Proxy) Records() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Record(nil), p.records...)
}

// ResetRecords forgets the requests seen so far.
func (p *Proxy) ResetRecords() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = nil
}

// Count returns how many recorded requests satisfy match.
func (p *Proxy) Count(match func(Record) bool) int {
	n := 0
	for _, r := range p.Records() {
		if match(r) {
			n++
		}
	}
	return n
}

// Close stops the proxy and releases every stalled connection.
func (p *Proxy) Close() error {
	select {
	case <-p.closed:
		return nil
	default:
		close(p.closed)
	}
	return p.srv.Close()
}

func (p *Proxy) decide(r *http.Request) (Fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.plan(p.n, r)
	p.n++
	p.records = append(p.records, Record{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Fault: f})
	return f, len(p.records) - 1
}

func (p *Proxy) setStatus(i, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records[i].Status = status
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	f, i := p.decide(r)
	switch f {
	case ServerError:
		// Drain what the client sent so the answer is read as an answer
		// and not as a broken pipe.
		_, _ = io.Copy(io.Discard, r.Body)
		p.setStatus(i, http.StatusServiceUnavailable)
		http.Error(w, "faultproxy: injected failure", http.StatusServiceUnavailable)
	case Reset:
		p.reset(w)
	case Stall:
		p.stall(w, r)
	default:
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		p.rp.ServeHTTP(sw, r)
		p.setStatus(i, sw.status)
	}
}

// reset closes the client's connection with SO_LINGER 0, which makes the
// kernel send RST instead of FIN: the client sees "connection reset by
// peer".
func (p *Proxy) reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// stall holds the connection without answering until the client hangs up
// or the proxy closes; it never waits on a clock.
func (p *Proxy) stall(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	gone := make(chan struct{})
	go func() {
		// A read returns when the client closes its end (EOF or reset).
		_, _ = io.Copy(io.Discard, conn)
		close(gone)
	}()
	select {
	case <-gone:
	case <-p.closed:
	case <-r.Context().Done():
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Flush keeps streamed answers streaming through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
