package push

import (
	"net/http"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// observer watches the registry's answers to learn what happened to each
// blob: remote.Write asks whether a blob exists (HEAD), mounts it from
// another repository (POST ?mount=) or uploads it (PUT ?digest= to finish).
// Reading the protocol's answers reports what the registry really did,
// with no extra requests. It sits below go-containerregistry's retry and
// auth layers, so it sees every attempt; each blob is reported once.
type observer struct {
	inner http.RoundTripper
	emit  func(Event)

	mu   sync.Mutex
	seen map[v1.Hash]EventKind
	// existing are manifest digests the registry said it already has
	// under the pushed tag.
	existing map[v1.Hash]bool
}

func newObserver(inner http.RoundTripper, emit func(Event)) *observer {
	return &observer{inner: inner, emit: emit, seen: map[v1.Hash]EventKind{}, existing: map[v1.Hash]bool{}}
}

func (o *observer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := o.inner.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	path := req.URL.Path
	switch {
	case req.Method == http.MethodHead && blobThere(resp.StatusCode) && strings.Contains(path, "/blobs/sha256:"):
		o.report(BlobSkipped, path[strings.LastIndex(path, "/")+1:])
	case req.Method == http.MethodPost && resp.StatusCode == http.StatusCreated && req.URL.Query().Get("mount") != "":
		o.report(BlobSkipped, req.URL.Query().Get("mount"))
	case req.Method == http.MethodPut && resp.StatusCode == http.StatusCreated && strings.Contains(path, "/blobs/uploads/"):
		o.report(BlobUploaded, req.URL.Query().Get("digest"))
	case req.Method == http.MethodHead && resp.StatusCode == http.StatusOK && strings.Contains(path, "/manifests/"):
		if h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest")); err == nil {
			o.sawManifest(h)
		}
	case req.Method == http.MethodPut && resp.StatusCode == http.StatusCreated && strings.Contains(path, "/manifests/"):
		h, err := v1.NewHash(resp.Header.Get("Docker-Content-Digest"))
		if err == nil {
			o.emit(Event{Kind: ManifestPushed, Digest: h})
		}
	}
	return resp, nil
}

// blobThere reads the answer to a blob existence check: 200, or a redirect
// to the storage that holds it (registries backed by object stores).
func blobThere(status int) bool {
	switch status {
	case http.StatusOK, http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func (o *observer) report(kind EventKind, digest string) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return
	}
	o.mu.Lock()
	if _, dup := o.seen[h]; dup {
		o.mu.Unlock()
		return
	}
	o.seen[h] = kind
	o.mu.Unlock()
	o.emit(Event{Kind: kind, Digest: h})
}

// sawManifest notes that the registry holds digest under the pushed tag.
func (o *observer) sawManifest(digest v1.Hash) {
	o.mu.Lock()
	o.existing[digest] = true
	o.mu.Unlock()
}

// alreadyThere reports every blob in sizes as skipped when the registry
// held the manifest digest under the tag: remote.Write then skips the
// whole image without asking about its blobs.
func (o *observer) alreadyThere(digest v1.Hash, sizes map[v1.Hash]int64) {
	o.mu.Lock()
	found := o.existing[digest]
	o.mu.Unlock()
	if !found {
		return
	}
	for h := range sizes {
		o.report(BlobSkipped, h.String())
	}
}

// counts totals what happened to the blobs in sizes.
func (o *observer) counts(sizes map[v1.Hash]int64) (uploaded, skipped int, bytes int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for h, k := range o.seen {
		size, ok := sizes[h]
		if !ok {
			continue
		}
		switch k {
		case BlobUploaded:
			uploaded++
			bytes += size
		case BlobSkipped:
			skipped++
		}
	}
	return uploaded, skipped, bytes
}
