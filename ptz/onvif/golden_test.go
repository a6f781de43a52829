package onvif_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/ptz/onvif"
	"github.com/camgate/camgate/ptz/onviftest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the requests the driver sends")

const (
	user     = "operator"
	password = "s3cr3t-P4ss"
)

func newDriver(t *testing.T, cam *onviftest.Camera, mod func(*onvif.Config)) *onvif.Driver {
	t.Helper()
	cfg := onvif.Config{URL: cam.URL, Username: user, Password: password, CallTimeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	d, err := onvif.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func newCamera(t *testing.T, opts onviftest.Options) *onviftest.Camera {
	t.Helper()
	if opts.Username == "" {
		opts.Username, opts.Password = user, password
	}
	cam := onviftest.New(opts)
	t.Cleanup(cam.Close)
	return cam
}

func f(v float64) *float64 { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestGoldenRequests sends every operation once and compares each request
// with its golden file (nonce, Created and digest normalized). Run with
// -update to rewrite them after a deliberate change.
func TestGoldenRequests(t *testing.T) {
	t.Parallel()
	cam := newCamera(t, onviftest.Options{})
	d := newDriver(t, cam, nil)
	ctx := context.Background()
	must(t, d.Connect(ctx))
	must(t, d.Move(ctx, ptz.Velocity{Pan: -0.5}))
	must(t, d.Move(ctx, ptz.Velocity{Zoom: 0.5}))
	must(t, d.Stop(ctx))
	must(t, d.RelativeMove(ctx, ptz.Vector{Pan: f(0.1), Zoom: f(-0.2)}))
	must(t, d.AbsoluteMove(ctx, ptz.Vector{Pan: f(0.5), Tilt: f(-0.5), Zoom: f(0.25)}))
	must(t, d.GotoHome(ctx))
	_, err := d.Presets(ctx)
	must(t, err)
	must(t, d.GotoPreset(ctx, "1"))
	tok, err := d.SetPreset(ctx, "Door <2>", "")
	must(t, err)
	must(t, d.RemovePreset(ctx, tok))
	must(t, d.SetAux(ctx, 1, true))
	_, err = d.Status(ctx)
	must(t, err)

	calls := cam.Calls()
	dir := filepath.Join("testdata", "golden")
	if *update {
		old, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		for _, o := range old {
			os.Remove(o)
		}
	}
	var names []string
	for i, c := range calls {
		if c.Fault != "" {
			t.Errorf("%s: fault %s", c.Op, c.Fault)
		}
		name := fmt.Sprintf("%02d-%s.xml", i+1, c.Op)
		names = append(names, name)
		got := onviftest.Normalize(c.Body)
		path := filepath.Join(dir, name)
		if *update {
			must(t, os.WriteFile(path, []byte(got), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run go test ./ptz/onvif -update)", name, err)
			continue
		}
		if got != string(want) {
			t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
		}
	}
	if !*update {
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		if len(files) != len(names) {
			t.Errorf("%d golden files, %d requests: %v (run -update)", len(files), len(names), names)
		}
	}
	checkSchema(t, calls)
}

var (
	panTilt = regexp.MustCompile(`<tt:PanTilt[^>]*>`)
	zoom    = regexp.MustCompile(`<tt:Zoom[^>]*>`)
)

// checkSchema checks what the generated libraries get wrong: x and y on
// every PanTilt, x on every Zoom, no space attribute, no empty Timeout or
// Speed, a whole-second Timeout.
func checkSchema(t *testing.T, calls []onviftest.Call) {
	t.Helper()
	for _, c := range calls {
		for _, el := range panTilt.FindAllString(c.Body, -1) {
			if !strings.Contains(el, ` x="`) || !strings.Contains(el, ` y="`) {
				t.Errorf("%s: %s lacks x or y", c.Op, el)
			}
		}
		for _, el := range zoom.FindAllString(c.Body, -1) {
			if !strings.Contains(el, ` x="`) {
				t.Errorf("%s: %s lacks x", c.Op, el)
			}
		}
		for _, bad := range []string{"space=", "<tptz:Timeout></tptz:Timeout>", "<tptz:Timeout/>", "Speed"} {
			if strings.Contains(c.Body, bad) {
				t.Errorf("%s sends %s", c.Op, bad)
			}
		}
		if c.Timeout != "" && !regexp.MustCompile(`^PT[1-9][0-9]*S$`).MatchString(c.Timeout) {
			t.Errorf("%s: Timeout %q is not whole seconds", c.Op, c.Timeout)
		}
		if c.Op != "GetSystemDateAndTime" && !c.Authenticated {
			t.Errorf("%s was not authenticated", c.Op)
		}
		if strings.Contains(c.Body, password) {
			t.Errorf("%s carries the password in clear", c.Op)
		}
	}
}
