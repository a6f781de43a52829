package cameras

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/liberrors"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	const (
		secret   = "S3cret/Pass@1"
		withPass = "rtsp://admin:S3cret%2FPass%40" + "1@192.0.2.10:554/stream1"
		noCreds  = "rtsp://192.0.2.10:554/stream1"
	)
	status := func(code base.StatusCode) error {
		return fmt.Errorf("describe: %w", liberrors.ErrClientBadStatusCode{Code: code, Message: base.StatusMessages[code]})
	}
	dial := func(errno syscall.Errno) error {
		return fmt.Errorf("describe: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)})
	}
	mjpeg := []*description.Media{{Type: description.MediaTypeVideo, Formats: []format.Format{&format.MJPEG{}}}}
	audioOnly := []*description.Media{{Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}}}}
	for _, tc := range []struct {
		name   string
		err    error
		url    string
		cause  Cause
		reason string
	}{
		{"wrong password", status(base.StatusUnauthorized), withPass, CauseUnauthorized, "wrong user name or password"},
		{"no credentials", status(base.StatusUnauthorized), noCreds, CauseUnauthorized, "the camera asks for a user name and password; the stream's Url has none"},
		{"forbidden", status(base.StatusForbidden), withPass, CauseUnauthorized, "the camera refuses this user access to the stream"},
		{"auth method", liberrors.ErrClientAuthSetup{Err: errors.New("no supported authentication methods")}, withPass, CauseUnauthorized, "the camera asks for an authentication method camgate does not support"},
		{"no such stream", status(base.StatusNotFound), withPass, CauseNotFound, "no such stream on the camera"},
		{"unsupported transport", fmt.Errorf("setup: %w", liberrors.ErrClientBadStatusCode{Code: base.StatusUnsupportedTransport}), noCreds, CauseTransport, "the camera refuses the RTP transport (set the camera's Transport to tcp or auto)"},
		{"camera busy", status(base.StatusServiceUnavailable), noCreds, CauseCameraError, "the camera answered 503 Service Unavailable"},
		{"odd status", status(599), noCreds, CauseCameraError, "the camera answered 599 an error"},
		{"refused", dial(syscall.ECONNREFUSED), noCreds, CauseRefused, "the camera refused the connection"},
		{"no route", dial(syscall.EHOSTUNREACH), noCreds, CauseUnreachable, "the camera's address cannot be reached"},
		{"no network", dial(syscall.ENETUNREACH), noCreds, CauseUnreachable, "the camera's address cannot be reached"},
		{"unknown host", fmt.Errorf("describe: %w", &net.DNSError{Err: "no such host", Name: "cam.example", IsNotFound: true}), noCreds, CauseUnreachable, "the camera's host name cannot be resolved"},
		{"dial timeout", fmt.Errorf("describe: dial tcp: %w", context.DeadlineExceeded), noCreds, CauseUnreachable, "the camera does not answer"},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, noCreds, CauseUnreachable, "the camera does not answer"},
		{"no answer", fmt.Errorf("describe: %w", liberrors.ErrClientRequestTimedOut{}), noCreds, CauseUnreachable, "the camera does not answer"},
		{"tcp stall", liberrors.ErrClientTCPTimeout{}, noCreds, CauseStalled, "the camera stopped sending video"},
		{"udp stall", liberrors.ErrClientUDPTimeout{}, noCreds, CauseStalled, "the camera stopped sending video"},
		{"closed", io.EOF, noCreds, CauseEnded, "the camera ended the stream"},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, noCreds, CauseEnded, "the camera ended the stream"},
		{"ended without error", nil, noCreds, CauseEnded, "the camera ended the stream"},
		{"MJPEG", unsupported(mjpeg), noCreds, CauseUnsupportedCodec, "the camera sends MJPEG, not H.264 or H.265"},
		{"audio only", unsupported(audioOnly), noCreds, CauseNoVideo, "the camera offers no video"},
		{"no media", unsupported(nil), noCreds, CauseNoVideo, "the camera offers no video"},
		{"bad URL", &badURLError{errors.New(`bad RTSP URL "rtsp://x": not a valid URL`)}, noCreds, CauseBadURL, "the stream's Url is not a valid RTSP URL"},
		{"library text quoting the URL", fmt.Errorf("something odd at %s", withPass), withPass, CauseFailed, "the connection to the camera failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := classify(tc.err, tc.url)
			if f.Cause != tc.cause || f.Reason != tc.reason {
				t.Fatalf("classify(%v) = %s %q, want %s %q", tc.err, f.Cause, f.Reason, tc.cause, tc.reason)
			}
			if f.Detail == "" {
				t.Fatal("Detail is empty: the library's text must stay available")
			}
			if tc.err != nil && !strings.Contains(tc.err.Error(), "admin:") && f.Detail != tc.err.Error() {
				t.Fatalf("Detail = %q, want the error's own text %q", f.Detail, tc.err.Error())
			}
			assertNoSecret(t, "the failure", fmt.Sprintf("%+v %s", f, f.Error()), secret)
		})
	}
}
