package push

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// answer is a RoundTripper that answers every request with one status.
type answer struct {
	status int
	header http.Header
}

func (a answer) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: a.status, Header: a.header, Body: io.NopCloser(strings.NewReader(""))}, nil
}

func TestObserver(t *testing.T) {
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	h, _ := v1.NewHash(d)
	tests := []struct {
		name   string
		method string
		url    string
		status int
		header http.Header
		want   []EventKind
	}{
		{"blob exists", "HEAD", "/v2/a/blobs/" + d, 200, nil, []EventKind{BlobSkipped}},
		{"blob in object storage", "HEAD", "/v2/a/blobs/" + d, 307, nil, []EventKind{BlobSkipped}},
		{"blob missing", "HEAD", "/v2/a/blobs/" + d, 404, nil, nil},
		{"mounted", "POST", "/v2/a/blobs/uploads/?mount=" + d + "&from=b", 201, nil, []EventKind{BlobSkipped}},
		{"mount refused, upload starts", "POST", "/v2/a/blobs/uploads/?mount=" + d + "&from=b", 202, nil, nil},
		{"upload committed", "PUT", "/v2/a/blobs/uploads/uuid?digest=" + d, 201, nil, []EventKind{BlobUploaded}},
		{"upload failed", "PUT", "/v2/a/blobs/uploads/uuid?digest=" + d, 400, nil, nil},
		{"manifest pushed", "PUT", "/v2/a/manifests/v1", 201, http.Header{"Docker-Content-Digest": {d}}, []EventKind{ManifestPushed}},
		{"manifest check", "HEAD", "/v2/a/manifests/v1", 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []EventKind
			o := newObserver(answer{tt.status, tt.header}, func(e Event) {
				if e.Digest != h {
					t.Errorf("event digest %s, want %s", e.Digest, h)
				}
				got = append(got, e.Kind)
			})
			req := httptest.NewRequest(tt.method, "http://r.example"+tt.url, nil)
			// Twice: each blob is reported once.
			for range 2 {
				resp, err := o.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			}
			if tt.want == nil {
				if len(got) != 0 {
					t.Errorf("events %v, want none", got)
				}
				return
			}
			if tt.want[0] == ManifestPushed {
				tt.want = append(tt.want, ManifestPushed) // manifests are not deduplicated
			}
			if len(got) != len(tt.want) || got[0] != tt.want[0] {
				t.Errorf("events %v, want %v", got, tt.want)
			}
		})
	}
}
