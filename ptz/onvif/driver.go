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

	"github.com/camgate/camgate/ptz"
)

// StopMode says how a move is stopped. The zero value is StopBoth.
type StopMode int

// The stop modes.
const (
	// StopBoth sends a zero-velocity ContinuousMove, then Stop.
	StopBoth StopMode = iota
	// StopZeroVelocity sends only the zero-velocity ContinuousMove (what
	// Milestone's own ONVIF driver does).
	StopZeroVelocity
	// StopStop sends only Stop.
	StopStop
)

// String is the mode's name in the settings (Quirks.StopMode).
func (m StopMode) String() string {
	switch m {
	case StopBoth:
		return "both"
	case StopZeroVelocity:
		return "zeroVelocity"
	case StopStop:
		return "stop"
	}
	return "StopMode(" + strconv.Itoa(int(m)) + ")"
}

// Quirks are per-camera workarounds.
type Quirks struct {
	// InvertPan and InvertTilt reverse an axis in every command and in the
	// reported position (ceiling mounts; cameras with +x = left).
	InvertPan, InvertTilt bool
	// NoTimeout never sends Timeout with ContinuousMove (cameras that
	// reject it). The watchdog stops moves anyway.
	NoTimeout bool
	// StopMode: StopBoth (the zero value), StopZeroVelocity or StopStop.
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
	last        ptz.Velocity // the velocity the camera was last told
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
func (d *Driver) Features() ptz.Features {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := ptz.Features{Move: true, Zoom: d.hasZoom, Stop: true, Home: d.home || d.cfg.HomePreset != "",
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
	var media, ptzAddr string
	var caps getCapabilitiesResponse
	err := d.c.call(ctx, d.cfg.URL, "GetCapabilities", getCapabilities{Category: "All"}, &caps)
	if err == nil {
		media, ptzAddr = caps.Capabilities.Media.XAddr, caps.Capabilities.PTZ.XAddr
	} else {
		if errors.Is(err, ptz.ErrCameraAuth) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		var svc getServicesResponse
		if err2 := d.c.call(ctx, d.cfg.URL, "GetServices", getServices{}, &svc); err2 != nil {
			return err
		}
		for _, s := range svc.Service {
			switch strings.TrimSpace(s.Namespace) {
			case nsTRT:
				media = s.XAddr
			case nsTPTZ:
				ptzAddr = s.XAddr
			}
		}
	}
	if strings.TrimSpace(ptzAddr) == "" {
		return fmt.Errorf("onvif: the camera has no PTZ service: %w", ptz.ErrNotSupported)
	}
	d.mu.Lock()
	d.ptzURL = d.rebase(ptzAddr)
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
	if err := d.c.call(ctx, d.media(), "GetProfiles", getProfiles{}, &r); err != nil {
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
		return fmt.Errorf("onvif: no media profile of the camera has a PTZ configuration: %w", ptz.ErrNotSupported)
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
	if err := d.c.call(ctx, u, "GetNodes", getNodes{}, &r); err != nil {
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
