//go:build !unix

package gateway

// openFileLimit is unknown where there is no RLIMIT_NOFILE:
// Http.MaxConnections applies as set.
func openFileLimit() uint64 { return 0 }
