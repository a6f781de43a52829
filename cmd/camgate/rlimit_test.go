//go:build unix

package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
)

// Start-up raises the soft file-descriptor limit to the hard one and says
// so in one line. Not parallel: it changes the test process's limit.
func TestRaiseFileLimit(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Max < 64 {
		t.Skipf("hard limit %d", rl.Max)
	}
	// Go's runtime raised it to one below the hard limit; lower it a
	// little more, as a service manager's default would.
	lowered := rl
	lowered.Cur = rl.Max - 16
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Skipf("cannot lower the soft limit: %v", err)
	}
	var buf bytes.Buffer
	raiseFileLimit(slog.New(slog.NewTextHandler(&buf, nil)))
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur != rl.Max {
		t.Fatalf("soft limit %d after raiseFileLimit, want the hard limit %d", now.Cur, rl.Max)
	}
	out := strings.TrimSpace(buf.String())
	want := fmt.Sprintf("soft=%d hard=%d", rl.Max, rl.Max)
	if strings.Count(out, "\n") != 0 || !strings.Contains(out, "level=INFO") || !strings.Contains(out, want) {
		t.Fatalf("log %q, want one INFO line with %s", out, want)
	}
}
