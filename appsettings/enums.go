package appsettings

import (
	"errors"
	"slices"
	"strings"
)

// A setting whose value is one of a fixed set has a type of its own.
// Files and environment variables may write the value in any case: decoding
// (UnmarshalText) stores it in the spelling of its constant and refuses
// anything else at load, with an error that names the setting and the
// allowed values. The rest of camgate compares the constants and never
// parses the text again. The empty string decodes to the zero value, which
// stands for "not set" where a default fills it (Transport, StopMode) and is
// otherwise refused by Validate.

// MDNSMode is what camgate does with browsers' mDNS candidates
// (WebRTC.MDNS).
type MDNSMode string

// The values of WebRTC.MDNS.
const (
	// MDNSQuery resolves mDNS candidates on the local network.
	MDNSQuery MDNSMode = "query"
	// MDNSDisabled ignores them.
	MDNSDisabled MDNSMode = "disabled"
)

func (MDNSMode) values() []MDNSMode { return []MDNSMode{MDNSQuery, MDNSDisabled} }

// UnmarshalText reads the mode in any case.
func (m *MDNSMode) UnmarshalText(text []byte) error { return parseEnum(m, text) }

// RtpClock is the unit of video RTP timestamps (WebRTC.RtpClock).
type RtpClock string

// The values of WebRTC.RtpClock.
const (
	// RtpClockMs counts milliseconds, as Milestone XProtect does.
	RtpClockMs RtpClock = "ms"
	// RtpClock90kHz is the standard H.264 clock.
	RtpClock90kHz RtpClock = "90kHz"
)

func (RtpClock) values() []RtpClock { return []RtpClock{RtpClockMs, RtpClock90kHz} }

// UnmarshalText reads the clock in any case.
func (c *RtpClock) UnmarshalText(text []byte) error { return parseEnum(c, text) }

// Transport is a camera's RTSP transport (Cameras[n].Transport).
type Transport string

// The values of Cameras[n].Transport.
const (
	TransportUDP Transport = "udp"
	TransportTCP Transport = "tcp"
	// TransportAuto tries UDP first and TCP when no UDP packet arrives.
	TransportAuto Transport = "auto"
)

func (Transport) values() []Transport { return []Transport{TransportUDP, TransportTCP, TransportAuto} }

// UnmarshalText reads the transport in any case.
func (t *Transport) UnmarshalText(text []byte) error { return parseEnum(t, text) }

// PtzDriver is the driver of a camera's PTZ (Cameras[n].Ptz.Driver).
type PtzDriver string

// The values of Cameras[n].Ptz.Driver.
const (
	// PtzNone: the camera has no PTZ.
	PtzNone PtzDriver = ""
	// PtzOnvif steers the camera over ONVIF.
	PtzOnvif PtzDriver = "onvif"
	// PtzSimulated is a camera that exists only in memory.
	PtzSimulated PtzDriver = "simulated"
)

func (PtzDriver) values() []PtzDriver { return []PtzDriver{PtzNone, PtzOnvif, PtzSimulated} }

// UnmarshalText reads the driver in any case.
func (d *PtzDriver) UnmarshalText(text []byte) error { return parseEnum(d, text) }

// StopMode is how a PTZ move is stopped (Cameras[n].Ptz.Quirks.StopMode).
type StopMode string

// The values of Cameras[n].Ptz.Quirks.StopMode.
const (
	// StopBoth sends a zero-velocity ContinuousMove, then Stop.
	StopBoth StopMode = "both"
	// StopZeroVelocity sends only the zero-velocity ContinuousMove.
	StopZeroVelocity StopMode = "zeroVelocity"
	// StopStop sends only Stop.
	StopStop StopMode = "stop"
)

func (StopMode) values() []StopMode { return []StopMode{StopBoth, StopZeroVelocity, StopStop} }

// UnmarshalText reads the mode in any case.
func (m *StopMode) UnmarshalText(text []byte) error { return parseEnum(m, text) }

// ForwardedHeader is the header in which trusted proxies pass the client
// address (Http.ForwardedHeader).
type ForwardedHeader string

// The values of Http.ForwardedHeader.
const (
	// HeaderXForwardedFor is the de-facto standard chain "client, proxy1,
	// proxy2": each proxy appends the address it received the request from.
	HeaderXForwardedFor ForwardedHeader = "X-Forwarded-For"
	// HeaderXRealIP holds one address, set by the one proxy in front of
	// camgate (nginx's proxy_set_header X-Real-IP $remote_addr).
	HeaderXRealIP ForwardedHeader = "X-Real-IP"
)

func (ForwardedHeader) values() []ForwardedHeader {
	return []ForwardedHeader{HeaderXForwardedFor, HeaderXRealIP}
}

// UnmarshalText reads the header name in any case. RFC 7239's Forwarded
// gets a message of its own: it is the header one would expect to work.
func (h *ForwardedHeader) UnmarshalText(text []byte) error {
	if isRFC7239(string(text)) {
		return errors.New(rfc7239Unsupported)
	}
	return parseEnum(h, text)
}

const rfc7239Unsupported = `the RFC 7239 "Forwarded" header is not supported; have the proxy send "X-Forwarded-For" (or "X-Real-IP")`

func isRFC7239(name string) bool { return strings.EqualFold(strings.TrimSpace(name), "Forwarded") }

// LogLevel is what is logged (Logging.Level).
type LogLevel string

// The values of Logging.Level, which log/slog's Level reads.
const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

func (LogLevel) values() []LogLevel { return []LogLevel{LogDebug, LogInfo, LogWarn, LogError} }

// UnmarshalText reads the level in any case.
func (l *LogLevel) UnmarshalText(text []byte) error { return parseEnum(l, text) }

// enum is a settings type with a fixed set of values.
type enum[T ~string] interface {
	~string
	values() []T
}

// parseEnum is the UnmarshalText of every enum type: the value in any case,
// stored in its constant's spelling; "" is the zero value.
func parseEnum[T enum[T]](dst *T, text []byte) error {
	if len(text) == 0 {
		var zero T
		*dst = zero
		return nil
	}
	for _, v := range (*dst).values() {
		if strings.EqualFold(string(text), string(v)) {
			*dst = v
			return nil
		}
	}
	return errors.New(enumRule((*dst).values(), string(text)))
}

// enumValid is Validate's check of an enum setting, for settings that were
// built in Go rather than decoded: the value must be one of the constants,
// exactly.
func enumValid[T enum[T]](v *validator, path string, value T) {
	if !slices.Contains(value.values(), value) {
		v.fail(path, enumRule(value.values(), string(value)))
	}
}

// enumRule is the message for a value outside the set:
// `must be "a", "b" or "c" (got "x")`.
func enumRule[T ~string](values []T, got string) string {
	names := make([]string, len(values))
	for i, v := range values {
		names[i] = string(v)
	}
	return "must be " + orList(names) + " (got " + quote(got) + ")"
}
