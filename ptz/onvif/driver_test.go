package onvif_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/onvif"
	"github.com/camgate/camgate/ptz/onviftest"
)

func ops(cam *onviftest.Camera) string { return strings.Join(cam.Ops(), " ") }

const connectOps = "GetSystemDateAndTime GetCapabilities GetProfiles GetNodes"

func TestCameraClockAnHourOff(t *testing.T) {
	t.Parallel()
	for _, off := range []time.Duration{time.Hour, -time.Hour, 183 * 24 * time.Hour} {
		cam := newCamera(t, onviftest.Options{ClockOffset: off})
		d := newDriver(t, cam, nil)
		ctx := context.Background()
		must(t, d.Connect(ctx))
		must(t, d.GotoPreset(ctx, "1"))
		if got := ops(cam); got != connectOps+" GotoPreset" {
			t.Errorf("offset %v: calls %q", off, got)
		}
		if got := d.ClockOffset(); (got - off).Abs() > 2*time.Second {
			t.Errorf("learned offset %v, camera is %v off", got, off)
		}
	}
}

func TestClockChangeIsLearnedOnce(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, nil)
	ctx := context.Background()
	must(t, d.Connect(ctx))
	cam.Reset()
	cam.SetClockOffset(-time.Hour) // DST went wrong, or the camera rebooted
	must(t, d.GotoPreset(ctx, "1"))
	if got := ops(cam); got != "GotoPreset!ter:NotAuthorized GetSystemDateAndTime GotoPreset" {
		t.Errorf("calls %q: want a refusal, the clock learned again, one retry", got)
	}
}

func TestWrongPasswordIsAnAuthError(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, func(c *onvif.Config) { c.Password = "wrong" })
	err := d.Connect(context.Background())
	if !errors.Is(err, ptz.ErrCameraAuth) {
		t.Fatalf("error %v, want an auth error", err)
	}
	var f *onvif.Fault
	if !errors.As(err, &f) || f.FaultCode() != "ter:NotAuthorized" || f.Code != "env:Sender" {
		t.Errorf("fault %+v", f)
	}
	if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), password) {
		t.Errorf("the error quotes a password: %v", err)
	}
	// Learned once, tried once more: no storm of retries.
	if got := ops(cam); got != "GetSystemDateAndTime GetCapabilities!ter:NotAuthorized GetSystemDateAndTime GetCapabilities!ter:NotAuthorized" {
		t.Errorf("calls %q", got)
	}
}

func TestTimeNeedsAuth(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{TimeNeedsAuth: true})
	d := newDriver(t, cam, nil)
	must(t, d.Connect(context.Background()))
	if got := ops(cam); got != "GetSystemDateAndTime!ter:NotAuthorized GetSystemDateAndTime GetCapabilities GetProfiles GetNodes" {
		t.Errorf("calls %q", got)
	}
}

func TestAdvertisedHostIsReplaced(t *testing.T) {
	t.Parallel()
	// The fake advertises 192.0.2.99:8899; calls must still reach it.
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, nil)
	must(t, d.Connect(context.Background()))
	must(t, d.Stop(context.Background()))
	for _, c := range cam.Calls()[4:] {
		if c.Path != "/onvif/ptz_service" {
			t.Errorf("%s went to %s", c.Op, c.Path)
		}
	}
}

func TestNoStop(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{NoStop: true}})
	d := newDriver(t, cam, nil)
	ctx := context.Background()
	must(t, d.Connect(ctx))
	cam.Reset()
	must(t, d.Move(ctx, ptz.Velocity{Pan: 0.5}))
	must(t, d.Stop(ctx)) // zero velocity works, Stop faults: stopped
	must(t, d.Move(ctx, ptz.Velocity{Pan: 0.5}))
	must(t, d.Stop(ctx)) // Stop is not tried again
	if got := ops(cam); got != "ContinuousMove ContinuousMove Stop!ter:ActionNotSupported ContinuousMove ContinuousMove" {
		t.Errorf("calls %q", got)
	}
	if cam.Moving() {
		t.Error("the camera still moves")
	}
}

func TestStopModes(t *testing.T) {
	t.Parallel()
	for mode, want := range map[onvif.StopMode]string{
		onvif.StopBoth:         "ContinuousMove Stop",
		onvif.StopZeroVelocity: "ContinuousMove",
		onvif.StopStop:         "Stop",
	} {
		cam := newCamera(t, onviftest.Options{})
		d := newDriver(t, cam, func(c *onvif.Config) { c.Quirks.StopMode = mode })
		must(t, d.Connect(context.Background()))
		cam.Reset()
		must(t, d.Stop(context.Background()))
		if got := ops(cam); got != want {
			t.Errorf("%s: calls %q, want %q", mode, got, want)
		}
	}
	// "stop" on a camera without Stop falls back to zero velocity.
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{NoStop: true}})
	d := newDriver(t, cam, func(c *onvif.Config) { c.Quirks.StopMode = onvif.StopStop })
	must(t, d.Connect(context.Background()))
	cam.Reset()
	must(t, d.Stop(context.Background()))
	if got := ops(cam); got != "Stop!ter:ActionNotSupported ContinuousMove" {
		t.Errorf("calls %q", got)
	}
	// NoStop never sends Stop.
	cam = newCamera(t, onviftest.Options{})
	d = newDriver(t, cam, func(c *onvif.Config) { c.Quirks.NoStop = true })
	must(t, d.Connect(context.Background()))
	cam.Reset()
	must(t, d.Stop(context.Background()))
	if got := ops(cam); got != "ContinuousMove" {
		t.Errorf("NoStop: calls %q", got)
	}
}

func TestDiagonal(t *testing.T) {
	t.Parallel()
	// A camera that refuses diagonals: the first one faults and is sent
	// again as a pan; later ones go as a pan at once.
	cam := newCamera(t, onviftest.Options{Faults: onviftest.Faults{RejectDiagonal: true}})
	d := newDriver(t, cam, nil)
	ctx := context.Background()
	must(t, d.Connect(ctx))
	cam.Reset()
	must(t, d.Move(ctx, ptz.Velocity{Pan: -0.5, Tilt: 0.5}))
	must(t, d.Move(ctx, ptz.Velocity{Pan: 0.5, Tilt: -0.5}))
	must(t, d.Move(ctx, ptz.Velocity{Pan: 0.2, Tilt: -0.5}))
	calls := cam.Calls()
	if got := ops(cam); got != "ContinuousMove!ter:InvalidArgVal ContinuousMove ContinuousMove ContinuousMove" {
		t.Fatalf("calls %q", got)
	}
	for i, want := range [][2]float64{{-0.5, 0}, {0.5, 0}, {0, -0.5}} {
		c := calls[i+1]
		if *c.Pan != want[0] || *c.Tilt != want[1] {
			t.Errorf("move %d: x=%v y=%v, want %v", i, *c.Pan, *c.Tilt, want)
		}
	}

	// The quirk: never a diagonal.
	cam = newCamera(t, onviftest.Options{Faults: onviftest.Faults{RejectDiagonal: true}})
	d = newDriver(t, cam, func(c *onvif.Config) { c.Quirks.NoDiagonal = true })
	must(t, d.Connect(ctx))
	cam.Reset()
	must(t, d.Move(ctx, ptz.Velocity{Pan: -0.5, Tilt: -0.5}))
	if got := ops(cam); got != "ContinuousMove" || *cam.Calls()[0].Tilt != 0 {
		t.Errorf("NoDiagonal: calls %q", got)
	}
}

func TestNoTimeoutAndInversion(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, func(c *onvif.Config) {
		c.Quirks = onvif.Quirks{NoTimeout: true, InvertPan: true, InvertTilt: true}
	})
	ctx := context.Background()
	must(t, d.Connect(ctx))
	cam.Reset()
	must(t, d.Move(ctx, ptz.Velocity{Pan: 0.5, Tilt: 0.25}))
	must(t, d.RelativeMove(ctx, ptz.Vector{Pan: f(0.1)}))
	st, err := d.Status(ctx)
	must(t, err)
	c := cam.Calls()
	if c[0].Timeout != "" || strings.Contains(c[0].Body, "Timeout") {
		t.Errorf("Timeout sent: %s", c[0].Body)
	}
	if *c[0].Pan != -0.5 || *c[0].Tilt != -0.25 {
		t.Errorf("velocity not inverted: %v %v", *c[0].Pan, *c[0].Tilt)
	}
	if !strings.Contains(c[1].Body, `<tt:PanTilt x="-0.1" y="0">`) {
		t.Errorf("translation not inverted: %s", c[1].Body)
	}
	if *st.Pan != -0.5 || *st.Tilt != 0.25 || *st.Zoom != 0.1 || st.MoveStatus != ptz.MoveMoving {
		t.Errorf("status %v %v %v %s (inversions undone)", *st.Pan, *st.Tilt, *st.Zoom, st.MoveStatus)
	}
	if d.RefreshInterval() != 0 {
		t.Error("NoTimeout with a refresh interval")
	}
}

func TestSlowCameraTimesOut(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, func(c *onvif.Config) { c.CallTimeout = 200 * time.Millisecond })
	ctx := context.Background()
	must(t, d.Connect(ctx))
	cam.Set(onviftest.Faults{Slow: true})
	err := d.GotoPreset(ctx, "1")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a timeout", err)
	}
	cam.Set(onviftest.Faults{})
	must(t, d.GotoPreset(ctx, "1"))
}

func TestFeaturesFromTheNode(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{NoHome: true, NoZoom: true})
	d := newDriver(t, cam, nil)
	must(t, d.Connect(context.Background()))
	f := d.Features()
	if f.Home || f.Zoom || !f.Presets || !f.Relative || !f.Absolute || !slices.Equal(f.Aux, []int{1, 2, 3}) {
		t.Errorf("features %+v", f)
	}
	err := d.GotoHome(context.Background())
	if !errors.Is(err, ptz.ErrNotSupported) {
		t.Errorf("home: %v", err)
	}
	// A home preset stands in for the home position.
	d = newDriver(t, cam, func(c *onvif.Config) { c.HomePreset = "1" })
	must(t, d.Connect(context.Background()))
	cam.Reset()
	must(t, d.GotoHome(context.Background()))
	if got := ops(cam); got != "GotoPreset" {
		t.Errorf("calls %q", got)
	}
}

func TestAux(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, nil)
	ctx := context.Background()
	must(t, d.Connect(ctx))
	cam.Reset()
	must(t, d.SetAux(ctx, 1, true))  // tt:Wiper|On
	must(t, d.SetAux(ctx, 2, false)) // tt:IRLamp|Off
	must(t, d.SetAux(ctx, 3, true))  // tt:Washer|On
	must(t, d.SetAux(ctx, 3, false)) // one-shot: nothing to send
	if err := d.SetAux(ctx, 4, true); !errors.Is(err, ptz.ErrNotSupported) {
		t.Errorf("aux 4: %v", err)
	}
	var data []string
	for _, c := range cam.Calls() {
		i := strings.Index(c.Body, "<tptz:AuxiliaryData>")
		j := strings.Index(c.Body, "</tptz:AuxiliaryData>")
		data = append(data, c.Body[i+len("<tptz:AuxiliaryData>"):j])
	}
	if !slices.Equal(data, []string{"tt:Wiper|On", "tt:IRLamp|Off", "tt:Washer|On"}) {
		t.Errorf("aux data %q", data)
	}

	// A node without aux commands: configured names, via the device service.
	cam = newCamera(t, onviftest.Options{AuxCommands: []string{}})
	d = newDriver(t, cam, func(c *onvif.Config) { c.AuxCommands = []string{"tt:Relay1"} })
	must(t, d.Connect(ctx))
	cam.Reset()
	must(t, d.SetAux(ctx, 1, false))
	c := cam.Calls()[0]
	if c.Path != "/onvif/device_service" || !strings.Contains(c.Body, "<tds:AuxiliaryCommand>tt:Relay1|Off</tds:AuxiliaryCommand>") {
		t.Errorf("device aux: %s %s", c.Path, c.Body)
	}
}

func TestPresetNotFound(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, nil)
	err := d.GotoPreset(context.Background(), "nope")
	if !errors.Is(err, ptz.ErrNotFound) || !errors.Is(err, ptz.ErrCameraFault) {
		t.Errorf("error %v", err)
	}
}

func TestProfileChoice(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	for token, ok := range map[string]bool{"Profile_0": true, "ptzstream": true, "Profile_9": false} {
		d := newDriver(t, cam, func(c *onvif.Config) { c.ProfileToken = token })
		err := d.Connect(context.Background())
		if (err == nil) != ok {
			t.Errorf("profile %q: %v", token, err)
		}
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "rtsp://192.0.2.1/x", "http://", "http://admin:" + password + "@192.0.2.1/onvif/device_service"} {
		_, err := onvif.New(onvif.Config{URL: u}, nil)
		if err == nil {
			t.Errorf("%q accepted", u)
		} else if strings.Contains(err.Error(), password) {
			t.Errorf("error quotes the password: %v", err)
		}
	}
}
