package appsettings

import "testing"

// Files and variables may write a value of a fixed set in any case; it is
// stored in its constant's spelling, so that nothing after the load
// compares case-insensitively.
func TestEnumsDecodeInAnyCase(t *testing.T) {
	file := `{
		"Http": {"ForwardedHeader": "x-real-ip"},
		"WebRTC": {"MDNS": "QUERY", "RtpClock": "90KHZ"},
		"Cameras": [{"Id": "` + camA + `", "Transport": "Tcp",
			"Streams": [{"Id": "` + streamA + `", "Url": "rtsp://192.0.2.10/x"}],
			"Ptz": {"Driver": "Simulated", "Quirks": {"StopMode": "ZEROVELOCITY"}}}],
		"Logging": {"Level": "Warn"}
	}`
	got, err := build([]layer{{"appsettings.json", []byte(file)}}, []string{"CAMGATE__Cameras__0__Ptz__Driver=ONVIF",
		"CAMGATE__Cameras__0__Ptz__Url=http://192.0.2.10/onvif/device_service", "CAMGATE__WebRTC__RtpClock= MS "}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cam := got.Cameras[0]
	if got.Http.ForwardedHeader != HeaderXRealIP || got.WebRTC.MDNS != MDNSQuery || got.WebRTC.RtpClock != RtpClockMs ||
		cam.Transport != TransportTCP || cam.Ptz.Driver != PtzOnvif || cam.Ptz.Quirks.StopMode != StopZeroVelocity ||
		got.Logging.Level != LogWarn {
		t.Errorf("got %q %q %q %q %q %q %q", got.Http.ForwardedHeader, got.WebRTC.MDNS, got.WebRTC.RtpClock,
			cam.Transport, cam.Ptz.Driver, cam.Ptz.Quirks.StopMode, got.Logging.Level)
	}
}

// A value outside the set is refused at load, naming where it came from,
// the setting and the values it may take.
func TestEnumsRefuseOtherValues(t *testing.T) {
	file := `{
		"Http": {"ForwardedHeader": "forwarded"},
		"WebRTC": {"MDNS": "on", "RtpClock": 90000},
		"Cameras": [{"Transport": "http", "Ptz": {"Driver": "pelco", "Quirks": {"StopMode": "halt"}}}],
		"Logging": {"Level": "loud"}
	}`
	_, err := build([]layer{{"appsettings.json", []byte(file)}}, []string{"CAMGATE__WebRTC__MDNS=yes"}, nil)
	checkErrors(t, err, []string{
		`appsettings.json: Http.ForwardedHeader: the RFC 7239 "Forwarded" header is not supported; have the proxy send "X-Forwarded-For" (or "X-Real-IP")`,
		`appsettings.json: WebRTC.MDNS: must be "query" or "disabled" (got "on")`,
		`appsettings.json: WebRTC.RtpClock: want a string, got a number`,
		`appsettings.json: Cameras[0].Transport: must be "udp", "tcp" or "auto" (got "http")`,
		`appsettings.json: Cameras[0].Ptz.Driver: must be "", "onvif" or "simulated" (got "pelco")`,
		`appsettings.json: Cameras[0].Ptz.Quirks.StopMode: must be "both", "zeroVelocity" or "stop" (got "halt")`,
		`appsettings.json: Logging.Level: must be "debug", "info", "warn" or "error" (got "loud")`,
		`environment variable CAMGATE__WebRTC__MDNS: WebRTC.MDNS: must be "query" or "disabled" (got "yes")`,
	})
}
