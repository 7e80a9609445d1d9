// Package push uploads an image to registries with go-containerregistry:
// blobs in parallel and streamed from their source, blobs the registry
// already holds skipped, transient failures retried with backoff, and
// credentials taken from the user's Docker configuration. It never prints;
// callers watch Events.
package push

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/stream"
)

// Defaults for Options' zero values.
const (
	DefaultJobs     = 4
	DefaultAttempts = 3
	DefaultBackoff  = time.Second
	// DefaultResponseTimeout bounds the wait for a registry's answer once
	// a request (with its body) is sent, so a registry that accepts a
	// connection and never answers does not hang the push.
	DefaultResponseTimeout = 2 * time.Minute
)

// tagCheckTimeout bounds the check of a loopback registry's tag before a
// push (see loopback.go).
var tagCheckTimeout = 10 * time.Second

// Options tune a push. The zero value is ready to use.
type Options struct {
	// Jobs bounds how many blobs upload at once.
	Jobs int
	// Attempts bounds how often one request or one blob upload is tried
	// before the registry counts as unreachable.
	Attempts int
	// Backoff is the wait before the first retry; each later wait is three
	// times longer.
	Backoff time.Duration
	// Keychain finds credentials; nil means the Docker config file and its
	// credential helpers (authn.DefaultKeychain).
	Keychain authn.Keychain
	// Transport is the HTTP transport; nil means go-containerregistry's
	// default with ResponseTimeout.
	Transport http.RoundTripper
	// ResponseTimeout bounds the wait for each answer when Transport is
	// nil; zero means DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// UserAgent is added to requests when not empty.
	UserAgent string
	// Insecure allows plain HTTP (and untrusted certificates' fallback to
	// it) for every registry. Loopback, *.local and private-network
	// registries get it without asking.
	Insecure bool
	// secrets, set by Push, collects the credentials sent so that error
	// text never shows them.
	secrets *secrets
	// plain, set by Push, knows the registries that answered plain HTTP.
	plain *plainHTTP

	// Progress, when not nil, is called for every event. It may be called
	// from several goroutines at once, but never twice at once for the same
	// blob.
	Progress func(Event)
}

// EventKind says what happened to a blob or manifest.
type EventKind int

const (
	// BlobSkipped: the registry already had the blob (or mounted it from
	// another repository), nothing was uploaded.
	BlobSkipped EventKind = iota
	// BlobUploaded: the blob was uploaded and committed.
	BlobUploaded
	// Retrying: a request failed in a way worth retrying (Event.Err).
	Retrying
	// ManifestPushed: the manifest was stored under Event.Ref.
	ManifestPushed
)

func (k EventKind) String() string {
	switch k {
	case BlobSkipped:
		return "skipped"
	case BlobUploaded:
		return "uploaded"
	case Retrying:
		return "retrying"
	case ManifestPushed:
		return "pushed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one step of a push.
type Event struct {
	Kind EventKind
	// Ref is the reference being pushed, with its tag.
	Ref string
	// Digest is the blob's or manifest's digest.
	Digest v1.Hash
	// Size is the blob's size in bytes, when known.
	Size int64
	// Err is the failure being retried.
	Err error
}

// Result is what one reference's push did.
type Result struct {
	Ref string
	// Digest is the manifest digest: Ref@Digest names exactly what was pushed.
	Digest v1.Hash
	// Uploaded and Skipped count blobs (layers and config).
	Uploaded, Skipped int
	// UploadedBytes is the size of the uploaded blobs.
	UploadedBytes int64
}

// Push uploads img to every reference in refs and returns a result for each
// reference that succeeded, in the order of refs. A reference that fails
// does not stop the others; the error joins every failure, each wrapped
// with its reference. Unreachable registries are *UnreachableError.
//
// Different registries are pushed to at the same time. References on one
// registry go one after another, and each after the first reads the image
// back from the first, so the registry mounts its blobs across
// repositories instead of receiving them again. (An image whose layers can
// be read only once, like stream.Layer, can go to one registry only.)
func Push(ctx context.Context, img v1.Image, refs []string, opts Options) ([]Result, error) {
	type outcome struct {
		res Result
		err error
	}
	// Every credential the push resolves or sends is noted, and every
	// error it returns or reports is shown without them: registries have
	// been seen to quote the Authorization header they refused.
	// From here on Keychain, Transport, plain and secrets are all set.
	sec := newSecrets()
	kc := opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts.plain = newPlainHTTP(transportOf(opts))
	opts.Transport = recordingTransport{inner: opts.plain, s: sec}
	opts.Keychain = recordingKeychain{kc: kc, s: sec}
	opts.secrets = sec

	outcomes := make([]outcome, len(refs))
	parsed := make([]name.Reference, len(refs))
	byRegistry := map[string][]int{} // registry -> indexes into refs, in order
	var order []string
	var nameOpts []name.Option
	if opts.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	for i, r := range refs {
		ref, err := name.ParseReference(r, nameOpts...)
		if err != nil {
			outcomes[i].err = sec.wrap(fmt.Errorf("pushing %s: bad reference: %w", r, err))
			continue
		}
		parsed[i] = ref
		reg := ref.Context().RegistryStr()
		if _, ok := byRegistry[reg]; !ok {
			order = append(order, reg)
		}
		byRegistry[reg] = append(byRegistry[reg], i)
	}
	var wg sync.WaitGroup
	for _, reg := range order {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			var first name.Reference
			for _, i := range idx {
				ref := parsed[i]
				src := img
				if first != nil {
					src = mountable(ctx, img, first, opts)
				}
				res, err := pushOne(ctx, src, ref, opts)
				if err != nil {
					outcomes[i].err = sec.wrap(fmt.Errorf("pushing %s: %w", refs[i], err))
					continue
				}
				if first == nil {
					first = ref
				}
				outcomes[i].res = res
			}
		}(byRegistry[reg])
	}
	wg.Wait()

	var results []Result
	var errs []error
	for _, o := range outcomes {
		if o.err != nil {
			errs = append(errs, o.err)
		} else {
			results = append(results, o.res)
		}
	}
	return results, errors.Join(errs...)
}

// mountable returns img as read from prev, whose layers go-containerregistry
// mounts when pushing to the same registry. It falls back to img itself
// when prev cannot be read or does not hold the same image.
func mountable(ctx context.Context, img v1.Image, prev name.Reference, opts Options) v1.Image {
	want, err := img.Digest()
	if err != nil {
		return img
	}
	rimg, err := remote.Image(prev.Context().Digest(want.String()),
		remote.WithContext(ctx), remote.WithTransport(opts.Transport), remote.WithAuthFromKeychain(opts.Keychain))
	if err != nil {
		return img
	}
	return rimg
}

func pushOne(ctx context.Context, img v1.Image, tag name.Reference, opts Options) (Result, error) {
	ref := tag.String()
	// Layers whose digest is only known once read (stream.Layer) are
	// hashed while they upload; their sizes are filled in afterwards.
	sizes, err := blobSizes(img)
	if err != nil && !errors.Is(err, stream.ErrNotComputed) {
		return Result{}, fmt.Errorf("reading image: %w", err)
	}
	// sizes is only read while blobs upload, and completed after.
	emit := func(e Event) {
		e.Ref = ref
		if e.Kind == BlobSkipped || e.Kind == BlobUploaded {
			e.Size = sizes[e.Digest]
		}
		if opts.Progress != nil {
			opts.Progress(e)
		}
	}
	obs := newObserver(opts.Transport, emit)
	digest, ok := alreadyTagged(ctx, img, tag, sizes, opts)
	if ok {
		// Every blob is there, as the manifest that names them is.
		obs.sawManifest(digest)
	} else {
		if err := remote.Write(tag, img, remoteOptions(ctx, opts, obs, emit)...); err != nil {
			return Result{}, classify(tag.Context().RegistryStr(), err)
		}
		if digest, err = img.Digest(); err != nil {
			return Result{}, fmt.Errorf("reading image: %w", err)
		}
		if sizes == nil {
			if sizes, err = blobSizes(img); err != nil {
				return Result{}, fmt.Errorf("reading image: %w", err)
			}
		}
	}
	obs.alreadyThere(digest, sizes)
	res := Result{Ref: ref, Digest: digest}
	res.Uploaded, res.Skipped, res.UploadedBytes = obs.counts(sizes)
	return res, nil
}

// alreadyTagged returns img's digest and true when tag, on a loopback
// registry, already names exactly img (see loopback.go). Images whose
// digest is known only after upload (stream layers) are never checked.
func alreadyTagged(ctx context.Context, img v1.Image, tag name.Reference, sizes map[v1.Hash]int64, opts Options) (v1.Hash, bool) {
	if sizes == nil || !isLoopback(tag.Context().RegistryStr()) {
		return v1.Hash{}, false
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, false
	}
	mt, err := img.MediaType()
	if err != nil {
		mt = ""
	}
	// A registry that is down or stalled is the full push's to report,
	// with its retries; the check waits for it only briefly.
	wait := tagCheckTimeout
	if opts.ResponseTimeout > 0 && opts.ResponseTimeout < wait {
		wait = opts.ResponseTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if !tagHolds(ctx, opts.Transport, opts.plain, tag, digest, mt, opts.UserAgent) {
		return v1.Hash{}, false
	}
	return digest, true
}

func transportOf(opts Options) http.RoundTripper {
	if opts.Transport != nil {
		return opts.Transport
	}
	base, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return remote.DefaultTransport
	}
	t := base.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	t.DialContext = copyToLoopback(dial)
	t.ResponseHeaderTimeout = opts.ResponseTimeout
	if t.ResponseHeaderTimeout <= 0 {
		t.ResponseHeaderTimeout = DefaultResponseTimeout
	}
	return t
}

func remoteOptions(ctx context.Context, opts Options, rt http.RoundTripper, emit func(Event)) []remote.Option {
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	attempts := opts.Attempts
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	backoff := opts.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	o := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(opts.Keychain),
		remote.WithJobs(jobs),
		remote.WithRetryBackoff(remote.Backoff{Duration: backoff, Factor: 3, Jitter: 0.1, Steps: attempts}),
		remote.WithRetryStatusCodes(http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout),
		remote.WithRetryPredicate(func(err error) bool {
			if ctx.Err() != nil || !retryable(err) {
				return false
			}
			emit(Event{Kind: Retrying, Err: opts.secrets.wrap(err)})
			return true
		}),
	}
	if opts.UserAgent != "" {
		o = append(o, remote.WithUserAgent(opts.UserAgent))
	}
	return o
}

// blobSizes maps the digest of every blob of img (config and layers) to
// its size, from the manifest alone, without reading any layer.
func blobSizes(img v1.Image) (map[v1.Hash]int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	sizes := map[v1.Hash]int64{m.Config.Digest: m.Config.Size}
	for _, l := range m.Layers {
		sizes[l.Digest] = l.Size
	}
	return sizes, nil
}
