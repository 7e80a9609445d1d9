package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrUnreachable matches (with errors.Is) every *UnreachableError.
var ErrUnreachable = errors.New("registry unreachable")

// UnreachableError is a registry that could not be reached, or kept failing
// with server errors, after every retry.
type UnreachableError struct {
	Registry string
	Err      error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("registry %s unreachable: %v", e.Registry, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// ErrDenied matches (with errors.Is) a push the registry refused for lack
// of credentials or permission.
var ErrDenied = errors.New("access denied")

// DeniedError is a push the registry refused (401 or 403).
type DeniedError struct {
	Registry string
	Err      error
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("registry %s denied the push (check `docker login %s` or your credential helper): %v", e.Registry, e.Registry, e.Err)
}

func (e *DeniedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// classify wraps err in the error type that tells the caller what to do.
func classify(registry string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	// A TLS failure first: go-containerregistry's ping joins it with the
	// plain-HTTP fallback's answer, which says less.
	if tlsFailure(err) {
		return &UnreachableError{Registry: registry, Err: err}
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return &DeniedError{Registry: registry, Err: err}
		case te.StatusCode >= 500:
			return &UnreachableError{Registry: registry, Err: err}
		}
		return err
	}
	if networkFailure(err) {
		return &UnreachableError{Registry: registry, Err: err}
	}
	return err
}

// tlsFailure reports a registry whose certificate this machine does not
// trust: not worth retrying, but like a network failure it is about the
// environment, not the image.
func tlsFailure(err error) bool {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var rhe tls.RecordHeaderError
	return errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &he) || errors.As(err, &rhe)
}

// networkFailure reports errors of the connection itself, as opposed to
// the registry answering with an error.
func networkFailure(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &de) ||
		(errors.As(err, &ne) && ne.Timeout()) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// retryable says which failures are worth another attempt: the network
// ones (a registry restarting refuses connections for a moment), server
// errors, rate limits and the errors go-containerregistry marks temporary.
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if networkFailure(err) || errors.Is(err, io.EOF) {
		return true
	}
	var te *transport.Error
	if errors.As(err, &te) {
		// Server errors count whatever code the body gives: a proxy
		// in front of the registry knows nothing of registry codes.
		return te.Temporary() || te.StatusCode >= 500 ||
			te.StatusCode == http.StatusTooManyRequests || te.StatusCode == http.StatusRequestTimeout
	}
	return false
}
