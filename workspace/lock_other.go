//go:build !unix

package workspace

// lockDir is a no-op where flock is not available; concurrent compiles of
// one directory are then not serialised.
func lockDir(dir string, exclusive bool) (unlock func(), err error) {
	return func() {}, nil
}
