//go:build unix

package main

import (
	"log/slog"
	"syscall"
)

// raiseFileLimit raises the soft limit on open file descriptors
// (RLIMIT_NOFILE) to the hard limit and logs the figures in one line. Every
// HTTP connection, WebSocket, camera connection and recording file takes a
// descriptor, and the soft limit a shell or service manager hands out is
// often 1024. Go's runtime already raises it to one below the hard limit
// at start-up on Linux (Go 1.19 and later); doing it here covers the rest
// and shows the figure that Limits.MinFreeFileDescriptors is kept below.
func raiseFileLimit(log *slog.Logger) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		log.Warn("file descriptor limit: cannot read RLIMIT_NOFILE", "error", err)
		return
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
			log.Warn("file descriptor limit: the soft limit stays below the hard limit", "soft", rl.Cur, "hard", rl.Max, "error", err)
			return
		}
		rl = raised
	}
	log.Info("file descriptor limit", "soft", rl.Cur, "hard", rl.Max)
}
