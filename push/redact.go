package push

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
)

// redacted is the text that replaces a credential in error messages.
const redacted = "[redacted]"

// secrets collects the credentials a push sends, so that error text a
// registry echoes back (some quote the Authorization header they refused)
// never carries them to a terminal or a CI log.
type secrets struct {
	mu   sync.Mutex
	vals map[string]bool
}

func newSecrets() *secrets { return &secrets{vals: map[string]bool{}} }

// add records values; short ones are ignored, as replacing them would
// mangle ordinary words.
func (s *secrets) add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if len(v) >= 4 {
			s.vals[v] = true
		}
	}
}

// addConfig records everything secret in an auth config.
func (s *secrets) addConfig(c *authn.AuthConfig) {
	if c == nil {
		return
	}
	s.add(c.Password, c.Auth, c.IdentityToken, c.RegistryToken)
	if c.Username != "" && c.Password != "" {
		s.add(base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password)))
	}
}

// addHeader records the credential of an Authorization header: the whole
// value, the token after the scheme and, for Basic, the decoded password.
func (s *secrets) addHeader(h string) {
	if h == "" {
		return
	}
	s.add(h)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok {
		return
	}
	s.add(token)
	if strings.EqualFold(scheme, "basic") {
		if raw, err := base64.StdEncoding.DecodeString(token); err == nil {
			if _, pass, ok := strings.Cut(string(raw), ":"); ok {
				s.add(pass, string(raw))
			}
		}
	}
}

func (s *secrets) redact(text string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Longest first, so a value containing another is replaced whole.
	for {
		longest := ""
		for v := range s.vals {
			if strings.Contains(text, v) && len(v) > len(longest) {
				longest = v
			}
		}
		if longest == "" {
			return text
		}
		text = strings.ReplaceAll(text, longest, redacted)
	}
}

// redactedError shows err's message without the push's credentials and
// keeps err reachable for errors.Is and errors.As.
type redactedError struct {
	err error
	s   *secrets
}

func (e *redactedError) Error() string { return e.s.redact(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

func (s *secrets) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{err: err, s: s}
}

// recordingKeychain notes the credentials its authenticators hand out.
type recordingKeychain struct {
	kc authn.Keychain
	s  *secrets
}

func (k recordingKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := k.kc.Resolve(r)
	if err != nil || a == authn.Anonymous {
		// Anonymous is compared by identity; it must stay itself.
		return a, err
	}
	return recordingAuthenticator{a, k.s}, nil
}

type recordingAuthenticator struct {
	authn.Authenticator
	s *secrets
}

func (a recordingAuthenticator) Authorization() (*authn.AuthConfig, error) {
	c, err := a.Authenticator.Authorization()
	a.s.addConfig(c)
	return c, err
}

// recordingTransport notes the Authorization header of every request,
// which also catches bearer tokens obtained from a token service.
type recordingTransport struct {
	inner http.RoundTripper
	s     *secrets
}

func (t recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.s.addHeader(req.Header.Get("Authorization"))
	return t.inner.RoundTrip(req)
}
