package rtc

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// pionLogger routes pion's logs into slog. pion is chatty at debug and
// trace, so only warnings and errors pass unless slog is at debug.
type pionLogger struct{ log *slog.Logger }

func (f pionLogger) NewLogger(scope string) logging.LeveledLogger {
	return pionScope{log: f.log.With("scope", scope)}
}

type pionScope struct{ log *slog.Logger }

func (l pionScope) Trace(string)          {}
func (l pionScope) Tracef(string, ...any) {}
func (l pionScope) Debug(msg string)      { l.at(slog.LevelDebug, msg) }
func (l pionScope) Debugf(f string, a ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.at(slog.LevelDebug, fmt.Sprintf(f, a...))
	}
}
func (l pionScope) Info(msg string) { l.at(slog.LevelDebug, msg) }
func (l pionScope) Infof(f string, a ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.at(slog.LevelDebug, fmt.Sprintf(f, a...))
	}
}
func (l pionScope) Warn(msg string)              { l.warn(msg) }
func (l pionScope) Warnf(f string, a ...any)     { l.warn(fmt.Sprintf(f, a...)) }
func (l pionScope) warn(msg string)              { l.at(warnLevel(msg), msg) }
func (l pionScope) Error(msg string)             { l.at(slog.LevelError, msg) }
func (l pionScope) Errorf(f string, a ...any)    { l.at(slog.LevelError, fmt.Sprintf(f, a...)) }
func (l pionScope) at(lv slog.Level, msg string) { l.log.Log(context.Background(), lv, msg) }

// warnLevel is the level of a pion warning: debug for those that every
// session's normal end produces (its readers see their streams and sockets
// closed under them) or that a normal start produces (a DTLS packet before
// its endpoint exists, which pion queues; a browser's mDNS candidate with
// mDNS off; checks before the client's first candidate). Three a session
// made 600 warnings when 200 viewers left, drowning the ones an operator
// can act on.
func warnLevel(msg string) slog.Level {
	closeNoise := []string{
		"stream is already closed",  // Failed to accept RTP/RTCP stream …
		"read/write on closed pipe", // Failed to read from candidate …
		"no endpoint for packet",    // mux: … adding to queue
		// Every browser that hides its address sends a .local candidate;
		// with WebRTC.MDNS "disabled" (the default) pion ignores it, and
		// camgate tries the signaling address in its place.
		"mDNS candidate added, but mDNS is disabled",
		// camgate's agent starts its checks when the answer arrives; until
		// the client's first candidate or check it has no pair to check,
		// at every tick. A client that trickles, or sends no candidates at
		// all (go2rtc), is in that state at the start of every session.
		"Failed to ping without candidate pairs",
	}
	for _, n := range closeNoise {
		if strings.Contains(msg, n) {
			return slog.LevelDebug
		}
	}
	return slog.LevelWarn
}
