//go:build !unix

package capture

import (
	"io"
	"os"
)

// lockDir creates the file at path; without flock, it locks nothing.
func lockDir(path string) (io.Closer, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
}
