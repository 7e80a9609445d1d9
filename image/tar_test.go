package image

import (
	"archive/tar"
	"errors"
	"io"
	"testing"
)

func readTarNames(t *testing.T, r io.Reader) []string {
	t.Helper()
	var names []string
	tr := tar.NewReader(r)
	for i := 0; i < 100000; i++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	t.Fatal("too many entries")
	return nil
}
