//go:build unix

package oauth

import (
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of the file at path, if that file
// exists. Only root may change owners; for anyone else the owner is already
// theirs, and a failure is harmless (the file stays readable by its writer).
func keepOwner(f *os.File, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(st.Uid), int(st.Gid))
	}
}
