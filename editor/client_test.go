package editor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// rpcMessage is any JSON-RPC 2.0 message: a request (ID and Method), a
// notification (Method only) or a response (ID and Result or Error).
type rpcMessage struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// The subset of LSP types the test reads.
type (
	position struct {
		Line      int `json:"line"`
		Character int `json:"character"`
	}
	lspRange struct {
		Start position `json:"start"`
		End   position `json:"end"`
	}
	lspDiagnostic struct {
		Range    lspRange `json:"range"`
		Severity int      `json:"severity"`
		Message  string   `json:"message"`
		Source   string   `json:"source"`
	}
	publishDiagnostics struct {
		URI         string          `json:"uri"`
		Version     *int            `json:"version"`
		Diagnostics []lspDiagnostic `json:"diagnostics"`
	}
	completionItem struct {
		Label  string `json:"label"`
		Kind   int    `json:"kind"`
		Detail string `json:"detail"`
	}
	completionList struct {
		IsIncomplete bool             `json:"isIncomplete"`
		Items        []completionItem `json:"items"`
	}
	hover struct {
		Contents json.RawMessage `json:"contents"`
	}
)

// lspClient speaks the Language Server Protocol to one server process over
// its stdin and stdout, with Content-Length framing. Server-to-client
// requests are answered by the read loop: workspace/configuration with the
// client's settings, everything else (capability registration, …) with null.
type lspClient struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *lockedBuffer

	settings map[string]any // section name -> value for workspace/configuration

	writeMu sync.Mutex

	mu       sync.Mutex
	nextID   int
	pending  map[string]chan rpcMessage
	readErr  error
	readDone chan struct{}

	// configured is closed once the server has pulled its configuration.
	configured     chan struct{}
	configuredOnce sync.Once

	diags chan publishDiagnostics
}

// lockedBuffer collects the server's stderr for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer starts the language server command and its read loop.
func startServer(t testing.TB, settings map[string]any, name string, args ...string) *lspClient {
	t.Helper()
	cmd := exec.Command(name, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &lspClient{
		t:          t,
		cmd:        cmd,
		stdin:      stdin,
		stderr:     &lockedBuffer{},
		settings:   settings,
		pending:    map[string]chan rpcMessage{},
		readDone:   make(chan struct{}),
		configured: make(chan struct{}),
		// Large enough for every publication of a short test; the read
		// loop drops rather than blocks if a server ever floods it.
		diags: make(chan publishDiagnostics, 256),
	}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go c.readLoop(bufio.NewReader(stdout))
	t.Cleanup(func() {
		// A server that ignored shutdown/exit must not outlive the test.
		_ = stdin.Close()
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			t.Logf("language server stderr:\n%s", c.stderr.String())
		}
	})
	return c
}

// readFrame reads one Content-Length framed message body.
func readFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("malformed header %q", line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return nil, fmt.Errorf("bad Content-Length %q: %w", value, err)
			}
			length = n
		}
	}
	if length < 0 {
		return nil, errors.New("message without Content-Length")
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("reading %d-byte body: %w", length, err)
	}
	return body, nil
}

func (c *lspClient) readLoop(r *bufio.Reader) {
	defer close(c.readDone)
	for {
		body, err := readFrame(r)
		if err != nil {
			c.mu.Lock()
			c.readErr = err
			c.mu.Unlock()
			return
		}
		var m rpcMessage
		if err := json.Unmarshal(body, &m); err != nil {
			c.mu.Lock()
			c.readErr = fmt.Errorf("decoding %q: %w", body, err)
			c.mu.Unlock()
			return
		}
		switch {
		case m.Method != "" && len(m.ID) > 0:
			c.answer(m)
		case m.Method != "":
			c.notification(m)
		case len(m.ID) > 0:
			c.mu.Lock()
			ch := c.pending[string(m.ID)]
			delete(c.pending, string(m.ID))
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}
}

// answer replies to a request the server sent to the client.
func (c *lspClient) answer(m rpcMessage) {
	var result any
	if m.Method == "workspace/configuration" {
		var p struct {
			Items []struct {
				Section string `json:"section"`
			} `json:"items"`
		}
		_ = json.Unmarshal(m.Params, &p)
		values := make([]any, len(p.Items))
		for i, it := range p.Items {
			values[i] = c.settings[it.Section]
		}
		result = values
		defer c.configuredOnce.Do(func() { close(c.configured) })
	}
	res, _ := json.Marshal(result)
	_ = c.write(rpcMessage{JSONRPC: "2.0", ID: m.ID, Result: res})
}

func (c *lspClient) notification(m rpcMessage) {
	if m.Method != "textDocument/publishDiagnostics" {
		return // window/logMessage, telemetry and the like
	}
	var p publishDiagnostics
	if err := json.Unmarshal(m.Params, &p); err != nil {
		return
	}
	select {
	case c.diags <- p:
	default:
	}
}

func (c *lspClient) write(m rpcMessage) error {
	m.JSONRPC = "2.0"
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if _, err := fmt.Fprintf(c.stdin, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err = c.stdin.Write(body)
	return err
}

// call sends a request and waits for its response or ctx's deadline.
func (c *lspClient) call(ctx context.Context, method string, params, result any) error {
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.nextID++
	id := json.RawMessage(strconv.Itoa(c.nextID))
	ch := make(chan rpcMessage, 1)
	c.pending[string(id)] = ch
	c.mu.Unlock()
	if err := c.write(rpcMessage{ID: id, Method: method, Params: p}); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %w", method, m.Error)
		}
		if result == nil || len(m.Result) == 0 {
			return nil
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			return fmt.Errorf("%s: decoding result %s: %w", method, m.Result, err)
		}
		return nil
	case <-c.readDone:
		return fmt.Errorf("%s: server closed its output: %v", method, c.err())
	case <-ctx.Done():
		return fmt.Errorf("%s: no response: %w", method, ctx.Err())
	}
}

func (c *lspClient) notify(method string, params any) error {
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return c.write(rpcMessage{Method: method, Params: p})
}

func (c *lspClient) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// initialize performs the handshake and waits until the server has pulled
// its settings, so that schema associations are in place before any
// document is opened.
func (c *lspClient) initialize(ctx context.Context, rootURI string) error {
	params := map[string]any{
		"processId": nil,
		"rootUri":   rootURI,
		"capabilities": map[string]any{
			"workspace": map[string]any{
				"configuration":          true,
				"didChangeConfiguration": map[string]any{"dynamicRegistration": true},
			},
			"textDocument": map[string]any{
				"completion": map[string]any{
					"completionItem": map[string]any{"snippetSupport": true, "documentationFormat": []string{"markdown", "plaintext"}},
				},
				"hover":              map[string]any{"contentFormat": []string{"markdown", "plaintext"}},
				"publishDiagnostics": map[string]any{"relatedInformation": true},
			},
		},
		"workspaceFolders": []map[string]any{{"uri": rootURI, "name": "root"}},
	}
	var res struct {
		Capabilities map[string]any `json:"capabilities"`
	}
	if err := c.call(ctx, "initialize", params, &res); err != nil {
		return err
	}
	if res.Capabilities["completionProvider"] == nil || res.Capabilities["hoverProvider"] == nil {
		return fmt.Errorf("server lacks completion or hover: %v", res.Capabilities)
	}
	if err := c.notify("initialized", map[string]any{}); err != nil {
		return err
	}
	select {
	case <-c.configured:
		return nil
	case <-c.readDone:
		return fmt.Errorf("server exited during initialisation: %v", c.err())
	case <-ctx.Done():
		return fmt.Errorf("server never asked for workspace/configuration: %w", ctx.Err())
	}
}

func (c *lspClient) didOpen(uri, text string) error {
	return c.notify("textDocument/didOpen", map[string]any{
		"textDocument": map[string]any{"uri": uri, "languageId": "yaml", "version": 1, "text": text},
	})
}

func (c *lspClient) completion(ctx context.Context, uri string, pos position) ([]completionItem, error) {
	var raw json.RawMessage
	err := c.call(ctx, "textDocument/completion", map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"position":     pos,
	}, &raw)
	if err != nil {
		return nil, err
	}
	// The result is a CompletionList or a bare array of items.
	var list completionList
	if err := json.Unmarshal(raw, &list); err == nil && list.Items != nil {
		return list.Items, nil
	}
	var items []completionItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("completion result %s: %w", raw, err)
	}
	return items, nil
}

// hover returns the hover text, whatever shape the server chose for it.
func (c *lspClient) hover(ctx context.Context, uri string, pos position) (string, error) {
	var h *hover
	err := c.call(ctx, "textDocument/hover", map[string]any{
		"textDocument": map[string]any{"uri": uri},
		"position":     pos,
	}, &h)
	if err != nil || h == nil {
		return "", err
	}
	var markup struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(h.Contents, &markup) == nil && markup.Value != "" {
		return markup.Value, nil
	}
	var s string
	if json.Unmarshal(h.Contents, &s) == nil {
		return s, nil
	}
	return string(h.Contents), nil
}

// waitDiagnostics waits for a publication for uri that satisfies ok and
// returns it. Servers publish more than once (an early empty list, then the
// schema-aware one), so earlier publications are skipped.
func (c *lspClient) waitDiagnostics(ctx context.Context, uri string, ok func([]lspDiagnostic) bool) ([]lspDiagnostic, error) {
	var last []lspDiagnostic
	for {
		select {
		case p := <-c.diags:
			if p.URI != uri {
				continue
			}
			last = p.Diagnostics
			if ok(p.Diagnostics) {
				return p.Diagnostics, nil
			}
		case <-c.readDone:
			return last, fmt.Errorf("server closed its output: %v", c.err())
		case <-ctx.Done():
			return last, fmt.Errorf("no matching diagnostics for %s: %w", uri, ctx.Err())
		}
	}
}

// shutdown asks the server to stop and waits for the process.
func (c *lspClient) shutdown(ctx context.Context) error {
	if err := c.call(ctx, "shutdown", nil, nil); err != nil {
		return err
	}
	if err := c.notify("exit", nil); err != nil {
		return err
	}
	_ = c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = c.cmd.Process.Kill()
		<-done
		return fmt.Errorf("server did not exit: %w", ctx.Err())
	}
}
