// Package onvif is camgate's ONVIF PTZ driver: a small hand-written SOAP
// client for the operations camgate needs (see messages.go for why not a
// generated library), WS-Security UsernameToken digests stamped with the
// camera's own clock, per-call timeouts, a capability probe, and quirk
// flags for the many cameras that do not follow the specification.
//
// Operations: device GetSystemDateAndTime, GetCapabilities, GetServices,
// SendAuxiliaryCommand; media GetProfiles; PTZ GetNodes, ContinuousMove,
// Stop, RelativeMove, AbsoluteMove, GotoHomePosition, GetPresets,
// GotoPreset, SetPreset, RemovePreset, SendAuxiliaryCommand, GetStatus.
package onvif

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/camgate/camgate/ptz/driver"
)

// StopMode says how a move is stopped.
type StopMode string

// The stop modes.
const (
	// StopBoth sends a zero-velocity ContinuousMove, then Stop.
	StopBoth StopMode = "both"
	// StopZeroVelocity sends only the zero-velocity ContinuousMove (what
	// Milestone's own ONVIF driver does).
	StopZeroVelocity StopMode = "zeroVelocity"
	// StopStop sends only Stop.
	StopStop StopMode = "stop"
)

// Quirks are per-camera workarounds.
type Quirks struct {
	// InvertPan and InvertTilt reverse an axis in every command and in the
	// reported position (ceiling mounts; cameras with +x = left).
	InvertPan, InvertTilt bool
	// NoTimeout never sends Timeout with ContinuousMove (cameras that
	// reject it). The watchdog stops moves anyway.
	NoTimeout bool
	// StopMode: StopBoth (default), StopZeroVelocity or StopStop.
	StopMode StopMode
	// NoDiagonal sends a diagonal move as its dominant axis only (pan
	// when both are equal), for cameras that fault on, or mishandle,
	// combined pan and tilt. A camera that faults on a diagonal gets this
	// by itself for the rest of the run.
	NoDiagonal bool
	// NoStop never sends Stop (zero velocity only). A camera that answers
	// Stop with ActionNotSupported gets this by itself.
	NoStop bool
}

// Config configures a Driver.
type Config struct {
	// URL is the device service, e.g. http://192.0.2.10/onvif/device_service.
	// The service addresses the camera advertises keep their path but get
	// this URL's scheme, host and port (cameras often advertise a wrong IP).
	URL string
	// Username and Password for WS-Security. An empty Username sends no
	// credentials.
	Username, Password string
	// ProfileToken selects the media profile (by token or name); empty
	// picks the first profile with a PTZ configuration.
	ProfileToken string
	// HomePreset, when set, is the preset token that "home" goes to, for
	// cameras without a home position.
	HomePreset string
	// AuxCommands maps aux number n to AuxCommands[n-1], an auxiliary
	// command without its state ("tt:Wiper"); setAux sends "tt:Wiper|On"
	// or "|Off". Empty: taken from what the camera advertises.
	AuxCommands []string
	// MoveTimeout is the Timeout sent with ContinuousMove, in whole
	// seconds (Tapo and others accept nothing else), as a safety net if
	// camgate dies mid-move; while a move goes on it is sent again every
	// MoveTimeout/2. Default 1s.
	MoveTimeout time.Duration
	// CallTimeout bounds each SOAP call. Default 3s.
	CallTimeout time.Duration
	Quirks      Quirks
	// HTTPClient is the client to use; default one with keep-alive and no
	// overall timeout (CallTimeout applies per call).
	HTTPClient *http.Client
}

// clockRefresh is how old a learned clock offset may get before it is
// learned again.
const clockRefresh = 15 * time.Minute

// reconnectEvery bounds how often a failed probe is retried.
const reconnectEvery = 10 * time.Second

// Driver drives one ONVIF PTZ camera. Its methods are called from the
// controller's goroutine; Features and ClockOffset may be called from any.
type Driver struct {
	cfg  Config
	log  *slog.Logger
	base *url.URL
	c    *client

	mu          sync.Mutex // guards what Features reads
	probed      bool
	lastProbe   time.Time
	ptzURL      string
	mediaURL    string
	profile     string
	node        string
	hasZoom     bool
	home        bool
	presets     bool
	relative    bool
	absolute    bool
	auxNames    []string // by aux number − 1; "" = none
	auxOnly     map[string]bool
	auxViaPTZ   bool
	noDiagonal  bool
	noStop      bool
	last        driver.Velocity // the velocity the camera was last told
	lastPTSent  bool
	lastZSent   bool
	clockWarned bool
}

// New checks cfg and returns a driver. It makes no call: the controller
// calls Connect.
func New(cfg Config, log *slog.Logger) (*Driver, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("onvif: the device URL must be an http:// or https:// URL with a host")
	}
	if u.User != nil {
		return nil, errors.New("onvif: put the credentials in Username and Password, not in the URL")
	}
	if cfg.MoveTimeout <= 0 {
		cfg.MoveTimeout = time.Second
	}
	cfg.MoveTimeout = time.Duration(math.Ceil(cfg.MoveTimeout.Seconds())) * time.Second
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 3 * time.Second
	}
	if cfg.Quirks.StopMode == "" {
		cfg.Quirks.StopMode = StopBoth
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 1,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	d := &Driver{cfg: cfg, log: log, base: u,
		c:    &client{http: hc, user: cfg.Username, password: cfg.Password, timeout: cfg.CallTimeout},
		home: true, presets: true, relative: true, absolute: true, hasZoom: true,
		noDiagonal: cfg.Quirks.NoDiagonal, noStop: cfg.Quirks.NoStop || cfg.Quirks.StopMode == StopZeroVelocity,
	}
	d.c.learn = d.learnClock
	d.setAux(nil)
	return d, nil
}

// Close drops idle connections.
func (d *Driver) Close() error {
	d.c.http.CloseIdleConnections()
	return nil
}

// ClockOffset is the camera's clock minus the local clock, as learned.
func (d *Driver) ClockOffset() time.Duration {
	o, _ := d.c.clock()
	return o
}

// Features says what the camera can do, as probed (optimistic before).
func (d *Driver) Features() driver.Features {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := driver.Features{Move: true, Zoom: d.hasZoom, Stop: true, Home: d.home || d.cfg.HomePreset != "",
		Presets: d.presets, Relative: d.relative, Absolute: d.absolute, Status: true}
	for i, n := range d.auxNames {
		if n != "" {
			f.Aux = append(f.Aux, i+1)
		}
	}
	return f
}

// RefreshInterval is half the Timeout sent with moves; zero with NoTimeout.
func (d *Driver) RefreshInterval() time.Duration {
	if d.cfg.Quirks.NoTimeout {
		return 0
	}
	return d.cfg.MoveTimeout / 2
}

// Connect learns the camera's clock, finds its services, picks the profile
// and probes the PTZ node.
func (d *Driver) Connect(ctx context.Context) error {
	d.mu.Lock()
	d.lastProbe = time.Now()
	d.mu.Unlock()
	if err := d.learnClock(ctx); err != nil {
		return err
	}
	if err := d.findServices(ctx); err != nil {
		return err
	}
	if err := d.findProfile(ctx); err != nil {
		return err
	}
	d.probeNode(ctx)
	d.mu.Lock()
	d.probed = true
	d.mu.Unlock()
	d.log.Info("onvif camera connected", "profile", d.profile, "clockOffset", d.ClockOffset().Round(time.Millisecond).String())
	return nil
}

// ready connects if that has not worked yet (at most every 10 s), and
// re-learns an old clock offset.
func (d *Driver) ready(ctx context.Context) error {
	d.mu.Lock()
	probed, last := d.probed, d.lastProbe
	d.mu.Unlock()
	if !probed {
		if time.Since(last) < reconnectEvery && !last.IsZero() {
			return fmt.Errorf("%w: not connected to the camera yet", errNotConnected)
		}
		return d.Connect(ctx)
	}
	if _, at := d.c.clock(); time.Since(at) > clockRefresh {
		if err := d.learnClock(ctx); err != nil {
			d.log.Warn("onvif: cannot refresh the camera's clock offset", "error", err)
		}
	}
	return nil
}

var errNotConnected = errors.New("onvif")

// learnClock asks the camera for its time without credentials (the call
// is PRE_AUTH) and keeps offset = cameraUTC − the middle of the round trip.
// A camera that wants credentials for it gets them, stamped with the local
// clock.
func (d *Driver) learnClock(ctx context.Context) error {
	var r getSystemDateAndTimeResponse
	t0 := time.Now()
	err := d.c.do(ctx, d.cfg.URL, "GetSystemDateAndTime", getSystemDateAndTime{}, &r, false)
	var f *Fault
	if errors.As(err, &f) && f.auth() && d.c.user != "" {
		d.c.setOffset(0)
		t0 = time.Now()
		err = d.c.do(ctx, d.cfg.URL, "GetSystemDateAndTime", getSystemDateAndTime{}, &r, true)
	}
	t1 := time.Now()
	if err != nil {
		return err
	}
	u := r.SystemDateAndTime.UTCDateTime
	if u == nil {
		return errors.New("onvif GetSystemDateAndTime: the camera sent no UTCDateTime")
	}
	cam := time.Date(u.Date.Year, time.Month(u.Date.Month), u.Date.Day, u.Time.Hour, u.Time.Minute, u.Time.Second, 0, time.UTC)
	// The camera's seconds are truncated: its time is half a second later
	// on average.
	mid := t0.Add(t1.Sub(t0) / 2)
	off := cam.Add(500 * time.Millisecond).Sub(mid)
	if off.Abs() < time.Second {
		off = 0 // within the camera's own resolution
	}
	d.c.setOffset(off)
	if off.Abs() > 5*time.Second {
		d.mu.Lock()
		warn := !d.clockWarned
		d.clockWarned = true
		d.mu.Unlock()
		if warn {
			d.log.Warn("onvif: the camera's clock is off; signing requests with the camera's time (set up NTP on the camera)",
				"offset", off.Round(time.Second).String())
		}
	}
	return nil
}

// findServices reads the media and PTZ service addresses.
func (d *Driver) findServices(ctx context.Context) error {
	var media, ptz string
	var caps getCapabilitiesResponse
	err := d.c.call(ctx, d.cfg.URL, "GetCapabilities", getCapabilities{Category: "All"}, &caps, true)
	if err == nil {
		media, ptz = caps.Capabilities.Media.XAddr, caps.Capabilities.PTZ.XAddr
	} else {
		if errors.Is(err, driver.ErrCameraAuth) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		var svc getServicesResponse
		if err2 := d.c.call(ctx, d.cfg.URL, "GetServices", getServices{}, &svc, true); err2 != nil {
			return err
		}
		for _, s := range svc.Service {
			switch strings.TrimSpace(s.Namespace) {
			case nsTRT:
				media = s.XAddr
			case nsTPTZ:
				ptz = s.XAddr
			}
		}
	}
	if strings.TrimSpace(ptz) == "" {
		return fmt.Errorf("onvif: the camera has no PTZ service: %w", driver.ErrNotSupported)
	}
	d.mu.Lock()
	d.ptzURL = d.rebase(ptz)
	d.mediaURL = d.cfg.URL
	if strings.TrimSpace(media) != "" {
		d.mediaURL = d.rebase(media)
	}
	d.mu.Unlock()
	return nil
}

// rebase keeps an advertised address's path and query on the configured
// scheme, host and port.
func (d *Driver) rebase(xaddr string) string {
	u, err := url.Parse(strings.TrimSpace(xaddr))
	if err != nil {
		return d.cfg.URL
	}
	u.Scheme, u.Host, u.User = d.base.Scheme, d.base.Host, nil
	return u.String()
}

// findProfile picks the configured profile (by token or name) or the first
// with a PTZ configuration.
func (d *Driver) findProfile(ctx context.Context) error {
	var r getProfilesResponse
	if err := d.c.call(ctx, d.media(), "GetProfiles", getProfiles{}, &r, true); err != nil {
		return err
	}
	pick := -1
	for i, p := range r.Profiles {
		if d.cfg.ProfileToken != "" {
			if p.Token == d.cfg.ProfileToken || (pick < 0 && strings.EqualFold(strings.TrimSpace(p.Name), d.cfg.ProfileToken)) {
				pick = i
			}
			continue
		}
		if p.PTZConfiguration != nil {
			pick = i
			break
		}
	}
	if pick < 0 {
		if d.cfg.ProfileToken != "" {
			return fmt.Errorf("onvif: the camera has no media profile %q", d.cfg.ProfileToken)
		}
		return fmt.Errorf("onvif: no media profile of the camera has a PTZ configuration: %w", driver.ErrNotSupported)
	}
	p := r.Profiles[pick]
	d.mu.Lock()
	d.profile = p.Token
	if p.PTZConfiguration != nil {
		d.node = p.PTZConfiguration.NodeToken
	}
	d.mu.Unlock()
	return nil
}

func (d *Driver) media() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mediaURL
}

func (d *Driver) ptz() (url, profile string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ptzURL, d.profile
}

// probeNode reads the PTZ node: home, presets, spaces, aux commands. A
// camera that does not answer keeps the optimistic defaults.
func (d *Driver) probeNode(ctx context.Context) {
	u, _ := d.ptz()
	var r getNodesResponse
	if err := d.c.call(ctx, u, "GetNodes", getNodes{}, &r, true); err != nil {
		d.log.Info("onvif: GetNodes failed; assuming every PTZ feature", "error", err)
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(r.PTZNode, func(n ptzNode) bool { return n.Token == d.node })
	if i < 0 {
		if len(r.PTZNode) == 0 {
			return
		}
		i = 0
	}
	n := r.PTZNode[i]
	sp := n.SupportedPTZSpaces
	d.hasZoom = len(sp.ContinuousZoomVelocitySpace) > 0
	d.relative = len(sp.RelativePanTiltTranslationSpace) > 0 || len(sp.RelativeZoomTranslationSpace) > 0
	d.absolute = len(sp.AbsolutePanTiltPositionSpace) > 0 || len(sp.AbsoluteZoomPositionSpace) > 0
	if n.HomeSupported != nil {
		d.home = *n.HomeSupported
	}
	if n.MaximumNumberOfPresets != nil {
		d.presets = *n.MaximumNumberOfPresets > 0
	}
	d.setAuxLocked(n.AuxiliaryCommands)
}

func (d *Driver) setAux(advertised []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.setAuxLocked(advertised)
}

// setAuxLocked builds the aux map: the configured commands, or the
// advertised ones paired "X|On"/"X|Off" in advertised order (at most 4).
// A command advertised with "|On" only is one-shot: "off" does nothing.
func (d *Driver) setAuxLocked(advertised []string) {
	d.auxViaPTZ = len(advertised) > 0
	d.auxOnly = map[string]bool{}
	var names []string
	hasOff := map[string]bool{}
	for _, a := range advertised {
		a = strings.TrimSpace(a)
		base, state, _ := strings.Cut(a, "|")
		if strings.EqualFold(state, "off") {
			hasOff[base] = true
		}
		if base != "" && !slices.Contains(names, base) {
			names = append(names, base)
		}
	}
	for _, n := range names {
		if !hasOff[n] {
			d.auxOnly[n] = true
		}
	}
	if len(d.cfg.AuxCommands) > 0 {
		names = d.cfg.AuxCommands
	}
	if len(names) > 4 {
		names = names[:4]
	}
	d.auxNames = slices.Clone(names)
}

// ---- motion ----

func (d *Driver) invert(pan, tilt float64) (float64, float64) {
	if d.cfg.Quirks.InvertPan {
		pan = -pan
	}
	if d.cfg.Quirks.InvertTilt {
		tilt = -tilt
	}
	return pan, tilt
}

func timeoutOf(d time.Duration) string {
	return "PT" + strconv.Itoa(int(math.Ceil(d.Seconds()))) + "S"
}

// Move sends a ContinuousMove. It names the axes that move or moved
// before (an omitted axis keeps its velocity), with both x and y.
func (d *Driver) Move(ctx context.Context, v driver.Velocity) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	noDiag := d.noDiagonal
	d.mu.Unlock()
	if noDiag {
		v = dominant(v)
	}
	err := d.continuous(ctx, v, !d.cfg.Quirks.NoTimeout && !v.IsZero())
	if err != nil && !noDiag && v.Pan != 0 && v.Tilt != 0 && errors.Is(err, driver.ErrCameraFault) && !errors.Is(err, driver.ErrCameraAuth) {
		d.log.Warn("onvif: the camera refused a diagonal move; moving the dominant axis only from now on", "error", err)
		d.mu.Lock()
		d.noDiagonal = true
		d.mu.Unlock()
		return d.continuous(ctx, dominant(v), !d.cfg.Quirks.NoTimeout)
	}
	return err
}

// dominant keeps the larger of pan and tilt (pan on a tie).
func dominant(v driver.Velocity) driver.Velocity {
	if v.Pan == 0 || v.Tilt == 0 {
		return v
	}
	if math.Abs(v.Pan) >= math.Abs(v.Tilt) {
		v.Tilt = 0
	} else {
		v.Pan = 0
	}
	return v
}

func (d *Driver) continuous(ctx context.Context, v driver.Velocity, withTimeout bool) error {
	u, profile := d.ptz()
	d.mu.Lock()
	sendPT := v.Pan != 0 || v.Tilt != 0 || d.lastPTSent && (d.last.Pan != 0 || d.last.Tilt != 0)
	sendZ := v.Zoom != 0 || d.lastZSent && d.last.Zoom != 0
	if !sendPT && !sendZ { // a stop from still: name both axes
		sendPT, sendZ = true, d.hasZoom
	}
	d.mu.Unlock()
	req := continuousMove{ProfileToken: profile}
	if sendPT {
		pan, tilt := d.invert(v.Pan, v.Tilt)
		req.Velocity.PanTilt = &vector2D{X: num(pan), Y: num(tilt)}
	}
	if sendZ {
		req.Velocity.Zoom = &vector1D{X: num(v.Zoom)}
	}
	if withTimeout {
		req.Timeout = timeoutOf(d.cfg.MoveTimeout)
	}
	if err := d.c.call(ctx, u, "ContinuousMove", req, &empty{}, true); err != nil {
		return err
	}
	d.mu.Lock()
	d.last, d.lastPTSent, d.lastZSent = v, sendPT, sendZ
	d.mu.Unlock()
	return nil
}

// Stop stops per StopMode: a zero-velocity ContinuousMove on both axes
// (the specification's equivalent of Stop), then Stop. A camera without
// Stop (ActionNotSupported) is remembered and only gets zero velocity.
// It succeeds when either call does.
func (d *Driver) Stop(ctx context.Context) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	mode := d.cfg.Quirks.StopMode
	d.mu.Lock()
	noStop := d.noStop
	d.mu.Unlock()
	var zeroErr error
	if mode != StopStop || noStop {
		zeroErr = d.zeroVelocity(ctx)
		if noStop || mode == StopZeroVelocity {
			return zeroErr
		}
	}
	u, profile := d.ptz()
	err := d.c.call(ctx, u, "Stop", stop{ProfileToken: profile, PanTilt: true, Zoom: d.hasZoomNow()}, &empty{}, true)
	if err == nil {
		d.mu.Lock()
		d.last = driver.Velocity{}
		d.mu.Unlock()
		return nil
	}
	if errors.Is(err, driver.ErrNotSupported) {
		d.log.Warn("onvif: the camera has no Stop; stopping with zero velocity from now on")
		d.mu.Lock()
		d.noStop = true
		d.mu.Unlock()
		if mode == StopStop {
			return d.zeroVelocity(ctx)
		}
	}
	if mode == StopBoth && zeroErr == nil {
		return nil // the zero velocity stopped it
	}
	return err
}

func (d *Driver) hasZoomNow() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hasZoom
}

// zeroVelocity names both axes (zoom where the camera has it), without
// Timeout.
func (d *Driver) zeroVelocity(ctx context.Context) error {
	u, profile := d.ptz()
	req := continuousMove{ProfileToken: profile}
	req.Velocity.PanTilt = &vector2D{}
	if d.hasZoomNow() {
		req.Velocity.Zoom = &vector1D{}
	}
	if err := d.c.call(ctx, u, "ContinuousMove", req, &empty{}, true); err != nil {
		return err
	}
	d.mu.Lock()
	d.last, d.lastPTSent, d.lastZSent = driver.Velocity{}, true, req.Velocity.Zoom != nil
	d.mu.Unlock()
	return nil
}

// vector makes a tt:PTZVector: PanTilt when pan or tilt is given (the
// other 0 for a translation, filled in by the caller for a position).
func (d *Driver) vector(v driver.Vector) ptzVector {
	var out ptzVector
	if v.Pan != nil || v.Tilt != nil {
		var pan, tilt float64
		if v.Pan != nil {
			pan = *v.Pan
		}
		if v.Tilt != nil {
			tilt = *v.Tilt
		}
		pan, tilt = d.invert(pan, tilt)
		out.PanTilt = &vector2D{X: num(pan), Y: num(tilt)}
	}
	if v.Zoom != nil {
		out.Zoom = &vector1D{X: num(*v.Zoom)}
	}
	return out
}

// RelativeMove moves by a translation in the generic space.
func (d *Driver) RelativeMove(ctx context.Context, t driver.Vector) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "RelativeMove", relativeMove{ProfileToken: profile, Translation: d.vector(t)}, &empty{}, true)
}

// AbsoluteMove moves to a position in the generic space. Given only one of
// pan and tilt, it reads the other from GetStatus (PanTilt needs both).
func (d *Driver) AbsoluteMove(ctx context.Context, p driver.Vector) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	if (p.Pan == nil) != (p.Tilt == nil) {
		st, err := d.Status(ctx)
		if err != nil {
			return err
		}
		if st.Pan == nil || st.Tilt == nil {
			return fmt.Errorf("onvif: give pan and tilt together: the camera does not report its position: %w", driver.ErrNotSupported)
		}
		if p.Pan == nil {
			p.Pan = st.Pan
		} else {
			p.Tilt = st.Tilt
		}
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "AbsoluteMove", absoluteMove{ProfileToken: profile, Position: d.vector(p)}, &empty{}, true)
}

// GotoHome goes to the home position, or to the configured HomePreset.
func (d *Driver) GotoHome(ctx context.Context) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	if d.cfg.HomePreset != "" {
		return d.GotoPreset(ctx, d.cfg.HomePreset)
	}
	d.mu.Lock()
	home := d.home
	d.mu.Unlock()
	if !home {
		return fmt.Errorf("onvif: the camera has no home position: %w", driver.ErrNotSupported)
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "GotoHomePosition", gotoHomePosition{ProfileToken: profile}, &empty{}, true)
}

// Presets lists the camera's presets.
func (d *Driver) Presets(ctx context.Context) ([]driver.Preset, error) {
	if err := d.ready(ctx); err != nil {
		return nil, err
	}
	u, profile := d.ptz()
	var r getPresetsResponse
	if err := d.c.call(ctx, u, "GetPresets", getPresets{ProfileToken: profile}, &r, true); err != nil {
		return nil, err
	}
	out := make([]driver.Preset, 0, len(r.Preset))
	for _, p := range r.Preset {
		out = append(out, driver.Preset{Token: p.Token, Name: strings.TrimSpace(p.Name)})
	}
	return out, nil
}

// GotoPreset moves to a preset.
func (d *Driver) GotoPreset(ctx context.Context, token string) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "GotoPreset", gotoPreset{ProfileToken: profile, PresetToken: token}, &empty{}, true)
}

// SetPreset stores the current position.
func (d *Driver) SetPreset(ctx context.Context, name, token string) (string, error) {
	if err := d.ready(ctx); err != nil {
		return "", err
	}
	u, profile := d.ptz()
	var r setPresetResponse
	if err := d.c.call(ctx, u, "SetPreset", setPreset{ProfileToken: profile, PresetName: name, PresetToken: token}, &r, true); err != nil {
		return "", err
	}
	if t := strings.TrimSpace(r.PresetToken); t != "" {
		return t, nil
	}
	return token, nil
}

// RemovePreset deletes a preset.
func (d *Driver) RemovePreset(ctx context.Context, token string) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "RemovePreset", removePreset{ProfileToken: profile, PresetToken: token}, &empty{}, true)
}

// SetAux sends the aux command for number n: "X|On" or "X|Off", through
// the PTZ service when the node lists aux commands, else the device
// service. "Off" of a one-shot command ("X|On" only) does nothing.
func (d *Driver) SetAux(ctx context.Context, n int, on bool) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	var name string
	if n >= 1 && n <= len(d.auxNames) {
		name = d.auxNames[n-1]
	}
	oneShot, viaPTZ := d.auxOnly[name], d.auxViaPTZ
	d.mu.Unlock()
	if name == "" {
		return fmt.Errorf("onvif: no aux command %d: %w", n, driver.ErrNotSupported)
	}
	if !on && oneShot {
		return nil
	}
	data := name + "|Off"
	if on {
		data = name + "|On"
	}
	if viaPTZ {
		u, profile := d.ptz()
		return d.c.call(ctx, u, "SendAuxiliaryCommand", sendAuxiliaryCommandPTZ{ProfileToken: profile, AuxiliaryData: data}, &empty{}, true)
	}
	return d.c.call(ctx, d.cfg.URL, "SendAuxiliaryCommand", sendAuxiliaryCommandDevice{AuxiliaryCommand: data}, &empty{}, true)
}

// Status reads GetStatus, in the operator's frame (inversions undone).
func (d *Driver) Status(ctx context.Context) (driver.Status, error) {
	if err := d.ready(ctx); err != nil {
		return driver.Status{}, err
	}
	u, profile := d.ptz()
	var r getStatusResponse
	if err := d.c.call(ctx, u, "GetStatus", getStatus{ProfileToken: profile}, &r, true); err != nil {
		return driver.Status{}, err
	}
	st := driver.Status{MoveStatus: driver.MoveUnknown}
	pos := r.PTZStatus.Position
	if pos.PanTilt != nil {
		pan, tilt := d.invert(pos.PanTilt.X, pos.PanTilt.Y)
		st.Pan, st.Tilt = &pan, &tilt
	}
	if pos.Zoom != nil {
		z := pos.Zoom.X
		st.Zoom = &z
	}
	ms := r.PTZStatus.MoveStatus
	pt, z := strings.ToUpper(strings.TrimSpace(ms.PanTilt)), strings.ToUpper(strings.TrimSpace(ms.Zoom))
	switch {
	case pt == "MOVING" || z == "MOVING":
		st.MoveStatus = driver.MoveMoving
	case pt == "IDLE" && (z == "IDLE" || z == ""):
		st.MoveStatus = driver.MoveIdle
	}
	return st, nil
}
