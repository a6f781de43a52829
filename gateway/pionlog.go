package gateway

import (
	"context"
	"fmt"
	"log/slog"

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
func (l pionScope) Warn(msg string)              { l.at(slog.LevelWarn, msg) }
func (l pionScope) Warnf(f string, a ...any)     { l.at(slog.LevelWarn, fmt.Sprintf(f, a...)) }
func (l pionScope) Error(msg string)             { l.at(slog.LevelError, msg) }
func (l pionScope) Errorf(f string, a ...any)    { l.at(slog.LevelError, fmt.Sprintf(f, a...)) }
func (l pionScope) at(lv slog.Level, msg string) { l.log.Log(context.Background(), lv, msg) }
