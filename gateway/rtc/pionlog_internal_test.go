package rtc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// pion's warnings of a normal session's start and end are debug lines;
// other warnings stay warnings.
func TestPionCloseNoiseIsDebug(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := pionLogger{log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}.NewLogger("pc")
	log.Warn("Failed to accept RTP stream is already closed")
	log.Warnf("Failed to read from candidate %s: %v", "udp4 host 127.0.0.1:5000", "io: read/write on closed pipe")
	log.Warnf("Warning: mux: no endpoint for packet starting with %d, adding to queue size(%d)", 21, 0)
	log.Warnf("Remote mDNS candidate added, but mDNS is disabled: (%s)", "0b6a3a5e-2f2c-4b8e-9d39-3c8e1f0c7a11.local")
	log.Warn("Failed to ping without candidate pairs. Connection is not possible yet.")
	log.Warnf("Failed to handle inbound message from %s: %v", "udp4 host 127.0.0.1:5000", "the DTLS handshake timed out")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"level=DEBUG", "level=DEBUG", "level=DEBUG", "level=DEBUG", "level=DEBUG", "level=WARN"}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Fatalf("line %d = %q, want %s", i, lines[i], w)
		}
	}
}
