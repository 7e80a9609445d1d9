package push

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

func TestPushRedactsEchoedCredentials(t *testing.T) {
	const user, secret = "robot", "s3cret-token-value"
	// A registry that accepts the login, then refuses every upload quoting
	// the Authorization header, with status. The handler may still be
	// answering a request the previous push gave up on when the next
	// case sets status, so it is read atomically.
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="echo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(int(status.Load()))
			w.Write([]byte(`{"errors":[{"code":"DENIED","message":"refused ` + auth + ` for ` + user + `"}]}`))
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))
	for _, tt := range []struct {
		status int
		want   error
	}{
		{http.StatusServiceUnavailable, ErrUnreachable}, // retried first: the retry events count too
		{http.StatusForbidden, ErrDenied},
	} {
		status.Store(int32(tt.status))
		rec := &recorder{}
		opts := fastOptions(rec)
		opts.Keychain = staticKeychain{authn.FromConfig(authn.AuthConfig{Username: user, Password: secret})}
		_, err := Push(context.Background(), randomImage(t, 1), []string{host + "/x/echo:1"}, opts)
		if !errors.Is(err, tt.want) {
			t.Fatalf("status %d: err = %v, want %v", tt.status, err, tt.want)
		}
		texts := []string{err.Error()}
		for _, e := range rec.events {
			if e.Err != nil {
				texts = append(texts, e.Err.Error())
			}
		}
		if tt.status == http.StatusServiceUnavailable && len(texts) < 2 {
			t.Errorf("no retry reported for a 503: %q", texts)
		}
		for _, text := range texts {
			if strings.Contains(text, secret) || strings.Contains(text, basic) {
				t.Errorf("credential in %q", text)
			}
			if !strings.Contains(text, "refused "+redacted+" for "+user) {
				t.Errorf("registry message lost: %q", text)
			}
		}
	}
}

func TestSecretsRedact(t *testing.T) {
	s := newSecrets()
	s.addHeader("Basic " + base64.StdEncoding.EncodeToString([]byte("u:hunter22")))
	s.addHeader("Bearer tok.en.value")
	s.add("abc") // too short to redact safely
	got := s.redact("pw hunter22, basic dTpodW50ZXIyMg==, raw u:hunter22, bearer tok.en.value, abc")
	want := "pw [redacted], basic [redacted], raw [redacted], bearer [redacted], abc"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
