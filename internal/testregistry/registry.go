// Package testregistry runs a real registry, the Debian docker-registry
// (CNCF distribution), on 127.0.0.1 for tests, with its storage in a
// temporary directory that survives a restart.
package testregistry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix2gpu/nix2gpu/internal/faultproxy"
)

// Binary is the registry program the tests run.
const Binary = "docker-registry"

// startTimeout bounds how long Start waits for the registry to listen.
const startTimeout = 30 * time.Second

// Registry is one running registry process.
type Registry struct {
	// Host is "127.0.0.1:PORT", the registry part of image references.
	Host string
	// Root is the storage directory.
	Root string

	config string
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited and its output is read

	mu       sync.Mutex
	requests []Request
	log      strings.Builder
}

// Request is one line of the registry's access log.
type Request struct {
	Method, Path string
	Status       int
}

// ErrNotInstalled is returned by Launch when docker-registry is not on PATH.
var ErrNotInstalled = errors.New(Binary + " is not installed (Debian package docker-registry)")

// Start runs a registry on a free port of 127.0.0.1 and stops it when the
// test ends. The test is skipped when docker-registry is not installed.
func Start(t testing.TB) *Registry {
	t.Helper()
	r, err := Launch(t.TempDir())
	if errors.Is(err, ErrNotInstalled) {
		t.Skipf("%v; CI installs it", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// Launch runs a registry on a free port of 127.0.0.1 with its config and
// storage under dir. The caller must Stop it.
func Launch(dir string) (*Registry, error) {
	if _, err := exec.LookPath(Binary); err != nil {
		return nil, ErrNotInstalled
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	r := &Registry{Root: filepath.Join(dir, "storage"), Host: addr}
	r.config = filepath.Join(dir, "config.yml")
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: nix2gpu-test-secret
`, r.Root, r.Host)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	if err := r.start(); err != nil {
		return nil, err
	}
	return r, nil
}

// freeAddr finds a port nobody listens on. The registry binds it a moment
// later; on a test machine nothing else races for it.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

var listening = regexp.MustCompile(`msg="listening on `)

func (r *Registry) start() error {
	cmd := exec.Command(Binary, "serve", r.config)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", Binary, err)
	}
	r.cmd = cmd
	r.done = make(chan struct{})
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.readAccessLog(stdout) }()
	go func() { defer wg.Done(); r.readLog(stderr, ready) }()
	go func() {
		wg.Wait()
		cmd.Wait()
		close(r.done)
	}()

	// The registry logs "listening on" once its socket is bound; from then
	// on connections queue until it serves them, so no polling is needed
	// to know it is up. The timeout only bounds a registry that never
	// starts (a bad config, a port taken).
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	select {
	case <-ready:
	case <-r.done:
		r.cmd = nil
		return fmt.Errorf("%s exited before listening:\n%s", Binary, r.Log())
	case <-ctx.Done():
		r.Stop()
		return fmt.Errorf("%s did not listen within %v:\n%s", Binary, startTimeout, r.Log())
	}
	if err := r.ping(ctx); err != nil {
		r.Stop()
		return fmt.Errorf("registry not answering: %w\n%s", err, r.Log())
	}
	return nil
}

func (r *Registry) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.Host+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v2/: %s", resp.Status)
	}
	return nil
}

func (r *Registry) readLog(rd io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(nil, 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		r.mu.Lock()
		r.log.WriteString(line)
		r.log.WriteByte('\n')
		r.mu.Unlock()
		if !signalled && listening.MatchString(line) {
			close(ready)
			signalled = true
		}
	}
	io.Copy(io.Discard, rd)
}

// accessLine matches the combined log format the registry writes to stdout:
// 127.0.0.1 - - [date] "PUT /v2/x/blobs/uploads/…?digest=… HTTP/1.1" 201 0 "" "agent"
var accessLine = regexp.MustCompile(`"([A-Z]+) (\S+) HTTP/[0-9.]+" ([0-9]{3}) `)

func (r *Registry) readAccessLog(rd io.Reader) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := accessLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		status, _ := strconv.Atoi(m[3])
		r.mu.Lock()
		r.requests = append(r.requests, Request{Method: m[1], Path: m[2], Status: status})
		r.mu.Unlock()
	}
	io.Copy(io.Discard, rd)
}

// Requests returns the requests the registry has logged so far. The access
// log is written after each response, so a request whose response the
// client has seen may still be missing; call Stop first for a complete list.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

// BlobUploads counts completed blob uploads (PUT …/blobs/uploads/…?digest=
// answered 201) in reqs.
func BlobUploads(reqs []Request) int {
	n := 0
	for _, q := range reqs {
		if q.Method == http.MethodPut && strings.Contains(q.Path, "/blobs/uploads/") && strings.Contains(q.Path, "digest=") && q.Status == http.StatusCreated {
			n++
		}
	}
	return n
}

// Log returns what the registry wrote to stderr.
func (r *Registry) Log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// Stop kills the registry at once, as a crash or a pulled cable would, and
// waits for it to exit. Stopping a stopped registry does nothing.
func (r *Registry) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

// Restart starts the registry again on the same address and storage.
func (r *Registry) Restart() error {
	r.Stop()
	return r.start()
}

// StartBehind starts a registry as Start does and puts a fault-injecting
// proxy in front of it, closed when the test ends. Clients talk to the
// proxy's Addr.
func StartBehind(t testing.TB, plan faultproxy.Plan) (*faultproxy.Proxy, *Registry) {
	t.Helper()
	reg := Start(t)
	p, err := faultproxy.New("http://"+reg.Host, plan)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, reg
}
