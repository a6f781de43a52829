package cameras

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"rtsp://admin:secret@10.0.0.5:554/Streaming/Channels/101", "rtsp://10.0.0.5:554/Streaming/Channels/101"},
		{"rtsp://admin@cam.local/live", "rtsp://cam.local/live"},
		{"rtsp://:secret@cam.local/live", "rtsp://cam.local/live"},
		{"rtsp://admin:p%40ss%2Fw%3Ard@cam.local/live?channel=1", "rtsp://cam.local/live?channel=1"},
		{"rtsps://user:pw@[fe80::1]:322/x", "rtsps://[fe80::1]:322/x"},
		{"rtsp://cam.local:554/live", "rtsp://cam.local:554/live"},
		{"", ""},
		// Unparsable: replaced entirely, since the password could be anywhere.
		{"rtsp://admin:secret@cam.local:55x4/live", "(unparsable URL)"},
		{"rtsp://admin:sec ret@cam.local/live", "(unparsable URL)"},
		{"rtsp://admin:secret@cam local/live", "(unparsable URL)"},
		{"rtsp://admin:secret@cam.local/li\x7fve", "(unparsable URL)"},
		{"://admin:secret@cam.local", "(unparsable URL)"},
		{"rtsp://admin:secret@cam.local/%zz", "(unparsable URL)"},
	} {
		if got := redactURL(tc.in); got != tc.want {
			t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestScrubText(t *testing.T) {
	t.Parallel()
	const camURL = "rtsp://admin:Hunter2-Secret@cam.local/live"
	for _, tc := range []struct{ name, msg, rawURL, want string }{
		{"password in the text", "describe: auth failed for admin:Hunter2-Secret", camURL, "describe: auth failed for admin:***"},
		{"every occurrence", "Hunter2-Secret and Hunter2-Secret", camURL, "*** and ***"},
		{"whole URL quoted", `dial "` + camURL + `": refused`, camURL, `dial "rtsp://admin:***@cam.local/live": refused`},
		{"nothing to scrub", "connect: connection refused", camURL, "connect: connection refused"},
		{"empty message", "", camURL, ""},
		{"URL without a password", "admin was refused", "rtsp://admin@cam.local/live", "admin was refused"},
		{"URL without user info", "Hunter2-Secret", "rtsp://cam.local/live", "Hunter2-Secret"},
		// A password with characters a URL escapes: a library that quotes the
		// URL quotes it escaped, an error about the credentials shows it plain.
		{"escaped password, quoted URL", `play "rtsp://admin:p%40ss%2Fw%3Ard@cam.local/live" failed`,
			"rtsp://admin:p%40ss%2Fw%3Ard@cam.local/live", `play "rtsp://admin:***@cam.local/live" failed`},
		{"needlessly escaped password, quoted URL", `play "rtsp://admin:p%21ss@cam.local/live" failed`,
			"rtsp://admin:p%21ss@cam.local/live", `play "rtsp://admin:***@cam.local/live" failed`},
		{"escaped password, plain text", "bad credentials p@ss/w:rd",
			"rtsp://admin:p%40ss%2Fw%3Ard@cam.local/live", "bad credentials ***"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scrubText(tc.msg, tc.rawURL); got != tc.want {
				t.Errorf("scrubText(%q) = %q, want %q", tc.msg, got, tc.want)
			}
		})
	}
}

func TestScrubSecretKeepsTheErrorChain(t *testing.T) {
	t.Parallel()
	const camURL = "rtsp://admin:Hunter2-Secret@cam.local/live"
	base := fmt.Errorf("open admin:Hunter2-Secret: %w", fs.ErrPermission)
	got := scrubSecret(base, camURL)
	if strings.Contains(got.Error(), "Hunter2-Secret") {
		t.Fatalf("scrubSecret left the password: %q", got)
	}
	if !errors.Is(got, fs.ErrPermission) {
		t.Fatalf("scrubSecret(%v) lost the wrapped error", got)
	}

	clean := errors.New("connection refused")
	if got := scrubSecret(clean, camURL); got != clean { //nolint:errorlint // the very same value: not rewrapped
		t.Fatalf("an error without the password was rewrapped: %#v", got)
	}
	if got := scrubSecret(clean, "rtsp://admin:x@bad host/"); got != clean { //nolint:errorlint // the very same value: not rewrapped
		t.Fatalf("an unparsable URL changed the error: %#v", got)
	}
}
