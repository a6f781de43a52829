package ptz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/camgate/camgate/ptz"
)

// call is one driver call as the fake saw it.
type call struct {
	op  string
	arg string
	at  time.Time
}

func (c call) String() string {
	if c.arg == "" {
		return c.op
	}
	return c.op + "(" + c.arg + ")"
}

// fakeDriver records every call with the (synctest) time it came, and can
// fail or hold up calls by operation name.
type fakeDriver struct {
	mu       sync.Mutex
	calls    []call
	errs     map[string]error
	gates    map[string]chan struct{} // a call waits until its gate closes or its ctx ends
	refresh  time.Duration
	features *ptz.Features
	presets  []ptz.Preset
	zoom     float64
	closed   bool
}

func newFake() *fakeDriver {
	return &fakeDriver{errs: map[string]error{}, gates: map[string]chan struct{}{},
		presets: []ptz.Preset{{Token: "1", Name: "Gate"}, {Token: "2", Name: "Yard"}}}
}

func (f *fakeDriver) record(ctx context.Context, op, arg string) error {
	f.mu.Lock()
	f.calls = append(f.calls, call{op: op, arg: arg, at: time.Now()})
	err, gate := f.errs[op], f.gates[op]
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (f *fakeDriver) setErr(op string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[op] = err
}

func (f *fakeDriver) gate(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gates[op] = make(chan struct{})
}

func (f *fakeDriver) ungate(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.gates[op]; g != nil {
		close(g)
	}
	delete(f.gates, op)
}

// log returns the calls so far, as strings.
func (f *fakeDriver) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = c.String()
	}
	return out
}

func (f *fakeDriver) callList() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// reset forgets the calls so far.
func (f *fakeDriver) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

func vel(v ptz.Velocity) string { return fmt.Sprintf("%g,%g,%g", v.Pan, v.Tilt, v.Zoom) }

func vec(v ptz.Vector) string {
	s := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	return s(v.Pan) + "," + s(v.Tilt) + "," + s(v.Zoom)
}

func (f *fakeDriver) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}
func (f *fakeDriver) Connect(ctx context.Context) error { return f.record(ctx, "Connect", "") }
func (f *fakeDriver) Move(ctx context.Context, v ptz.Velocity) error {
	return f.record(ctx, "Move", vel(v))
}
func (f *fakeDriver) Stop(ctx context.Context) error { return f.record(ctx, "Stop", "") }
func (f *fakeDriver) RelativeMove(ctx context.Context, t ptz.Vector) error {
	return f.record(ctx, "RelativeMove", vec(t))
}
func (f *fakeDriver) AbsoluteMove(ctx context.Context, p ptz.Vector) error {
	return f.record(ctx, "AbsoluteMove", vec(p))
}
func (f *fakeDriver) GotoHome(ctx context.Context) error { return f.record(ctx, "GotoHome", "") }
func (f *fakeDriver) Presets(ctx context.Context) ([]ptz.Preset, error) {
	if err := f.record(ctx, "Presets", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ptz.Preset(nil), f.presets...), nil
}
func (f *fakeDriver) GotoPreset(ctx context.Context, token string) error {
	return f.record(ctx, "GotoPreset", token)
}
func (f *fakeDriver) SetPreset(ctx context.Context, name, token string) (string, error) {
	if err := f.record(ctx, "SetPreset", name+"|"+token); err != nil {
		return "", err
	}
	if token == "" {
		token = "9"
	}
	return token, nil
}
func (f *fakeDriver) RemovePreset(ctx context.Context, token string) error {
	return f.record(ctx, "RemovePreset", token)
}
func (f *fakeDriver) SetAux(ctx context.Context, n int, on bool) error {
	return f.record(ctx, "SetAux", fmt.Sprintf("%d,%v", n, on))
}
func (f *fakeDriver) Status(ctx context.Context) (ptz.Status, error) {
	if err := f.record(ctx, "Status", ""); err != nil {
		return ptz.Status{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	pan, tilt, zoom := 0.5, -0.25, f.zoom
	return ptz.Status{Pan: &pan, Tilt: &tilt, Zoom: &zoom, MoveStatus: ptz.MoveUnknown}, nil
}
func (f *fakeDriver) RefreshInterval() time.Duration { return f.refresh }
func (f *fakeDriver) Features() ptz.Features {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.features != nil {
		return *f.features
	}
	return ptz.Features{Move: true, Zoom: true, Stop: true, Home: true, Presets: true, Relative: true,
		Absolute: true, Status: true, Aux: []int{1, 2, 3, 4}}
}

// fault is a driver error with a camera code, as the ONVIF driver returns.
type fault struct{ code string }

func (f fault) Error() string     { return "fault " + f.code }
func (f fault) FaultCode() string { return f.code }
func (f fault) Unwrap() error     { return ptz.ErrCameraFault }

// req builds a request of method from its params written as JSON, or
// panics. (The wire format and its checks are package signaling's; these
// tests need the values only.)
func req(method string, params string) ptz.Request {
	m, ok := ptz.LookupMethod(method)
	if !ok {
		panic("no method " + method)
	}
	r := ptz.Request{Method: m}
	if params == "" {
		return r
	}
	var p struct {
		Direction       string
		AuxNumber       json.Number
		On              bool
		Token, Name     string
		Pan, Tilt, Zoom *float64
		X, Y            json.Number
	}
	if err := json.Unmarshal([]byte(params), &p); err != nil {
		panic(err)
	}
	if p.Direction != "" {
		if r.Direction, ok = ptz.LookupDirection(p.Direction); !ok {
			panic("no direction " + p.Direction)
		}
	}
	aux, _ := p.AuxNumber.Int64()
	r.Aux, r.On, r.Token, r.Name, r.Pan, r.Tilt, r.Zoom = int(aux), p.On, p.Token, p.Name, p.Pan, p.Tilt, p.Zoom
	r.X, _ = p.X.Float64()
	r.Y, _ = p.Y.Float64()
	return r
}

func move(dir string) ptz.Request { return req("ptzMove", `{"direction":"`+dir+`"}`) }

func joined(s []string) string { return strings.Join(s, " ") }
