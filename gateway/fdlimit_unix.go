//go:build unix

package gateway

import "syscall"

// openFileLimit is the process's soft limit on open files (0: unknown);
// Http.MaxConnections is kept to half of it.
func openFileLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return uint64(r.Cur) // int64 on some BSDs
}
