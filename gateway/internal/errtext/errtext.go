// Package errtext writes what the gateway's layers put into error texts
// and log lines: a client's input quoted and bounded, a library's message
// cut short, a wait in whole seconds (signaling.Caller names a caller). rtc, signaling and
// the HTTP shell share it so that every error reads the same.
package errtext

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxQuoted bounds how much of a library's error message, which may quote
// the client's input in full, goes into an error answer.
const MaxQuoted = 160

// Truncate cuts s to n bytes and marks the cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Quote quotes what a client sent for an error text or a log line:
// escaped as %q does (invalid UTF-8 as \xNN, control characters as \n or
// \u00NN) and cut at a whole character so that the quoted text is at most
// n bytes between its quotes, plus "…" when something was cut. Quoting
// after cutting (%q of Truncate) could make an error text four times
// longer than its bound on invalid UTF-8.
func Quote(s string, n int) string {
	b := make([]byte, 0, min(len(s), n)+8)
	b = append(b, '"')
	var one [16]byte
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		q := strconv.AppendQuote(one[:0], s[i:i+size])
		q = q[1 : len(q)-1] // without its own quotes
		if len(b)-1+len(q) > n {
			b = append(b, `"…`...)
			return string(b)
		}
		b = append(b, q...)
		i += size
	}
	return string(append(b, '"'))
}

// Seconds is a Retry-After value: whole seconds, rounded up, at least 1.
func Seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
