// Package onviftest is a fake ONVIF PTZ camera for tests: an httptest
// server that speaks the SOAP operations camgate sends, checks WS-Security
// UsernameToken digests against its own clock (which may be set off),
// records every request, and injects the faults real cameras have:
// ignoring Timeout, no Stop, refusing diagonal moves, answering too slowly.
package onviftest

import (
	"bytes"
	"context"
	"crypto/sha1" // the WS-Security digest is SHA-1
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure the fake camera. The fault switches can also be
// changed while it runs (Set).
type Options struct {
	// Username and Password the camera accepts. An empty Username turns
	// authentication off.
	Username, Password string
	// ClockOffset is the camera's clock minus the real one.
	ClockOffset time.Duration
	// MaxSkew is how far Created may be from the camera's clock. Default 5s.
	MaxSkew time.Duration
	// TimeNeedsAuth refuses an unauthenticated GetSystemDateAndTime.
	TimeNeedsAuth bool
	Faults
	// AdvertisedHost is the host:port the camera puts in its service
	// addresses. Default "192.0.2.99:8899", a wrong one, as cameras do.
	AdvertisedHost string
	// NoHome makes the node say HomeSupported false.
	NoHome bool
	// NoZoom leaves out the zoom spaces.
	NoZoom bool
	// AuxCommands are the node's AuxiliaryCommands. Default tt:Wiper
	// On/Off, tt:IRLamp On/Off, tt:Washer On (one-shot).
	AuxCommands []string
}

// Faults are the misbehaviours to inject.
type Faults struct {
	// IgnoreTimeout keeps moving after a ContinuousMove's Timeout.
	IgnoreTimeout bool
	// NoStop answers Stop with ter:ActionNotSupported.
	NoStop bool
	// RejectDiagonal answers a ContinuousMove with both x and y non-zero
	// with ter:InvalidArgVal.
	RejectDiagonal bool
	// Slow holds every answer until the client gives up.
	Slow bool
}

// Call is one request the camera received.
type Call struct {
	At   time.Time // real time of arrival
	Path string
	Op   string // the body's element, e.g. "ContinuousMove"
	// Body is the whole request envelope, as sent.
	Body string
	// Authenticated: a valid UsernameToken came with it.
	Authenticated bool
	// Fault is the subcode the camera answered with, "" for success.
	Fault string
	// Velocity of a ContinuousMove (pan, tilt, zoom; absent axes are
	// nil), and its Timeout.
	Pan, Tilt, Zoom *float64
	Timeout         string
}

// IsStop reports whether the call stops motion: Stop, or a ContinuousMove
// whose every given axis is zero.
func (c Call) IsStop() bool {
	if c.Op == "Stop" && c.Fault == "" {
		return true
	}
	return c.Op == "ContinuousMove" && c.Fault == "" && isZero(c.Pan) && isZero(c.Tilt) && isZero(c.Zoom)
}

// IsMove reports whether the call starts a continuous move.
func (c Call) IsMove() bool { return c.Op == "ContinuousMove" && c.Fault == "" && !c.IsStop() }

func isZero(p *float64) bool { return p == nil || *p == 0 }

// Camera is a running fake camera.
type Camera struct {
	// URL is the device service URL.
	URL string

	srv  *httptest.Server
	opts Options

	mu       sync.Mutex
	faults   Faults
	calls    []Call
	notify   chan struct{}
	nonces   map[string]bool
	moving   bool
	moveEnd  time.Time // zero: until stopped
	pan      float64
	tilt     float64
	zoom     float64
	presets  []preset
	nextTok  int
	closed   chan struct{}
	closeOne sync.Once
}

type preset struct {
	token, name     string
	pan, tilt, zoom float64
}

// New starts a fake camera on 127.0.0.1.
func New(opts Options) *Camera {
	if opts.MaxSkew == 0 {
		opts.MaxSkew = 5 * time.Second
	}
	if opts.AdvertisedHost == "" {
		opts.AdvertisedHost = "192.0.2.99:8899"
	}
	if opts.AuxCommands == nil {
		opts.AuxCommands = []string{"tt:Wiper|On", "tt:Wiper|Off", "tt:IRLamp|On", "tt:IRLamp|Off", "tt:Washer|On"}
	}
	c := &Camera{opts: opts, faults: opts.Faults, notify: make(chan struct{}), nonces: map[string]bool{},
		presets: []preset{{token: "1", name: "Gate", pan: 0.25, tilt: -0.1}}, nextTok: 2, closed: make(chan struct{})}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	c.URL = c.srv.URL + "/onvif/device_service"
	return c
}

// Close stops the server; slow answers end.
func (c *Camera) Close() {
	c.closeOne.Do(func() { close(c.closed) })
	c.srv.Close()
}

// Set changes the injected faults.
func (c *Camera) Set(f Faults) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = f
}

// Calls returns every request so far.
func (c *Camera) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// Reset forgets the calls so far.
func (c *Camera) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = nil
}

// Ops returns the operations of the calls so far, with "!" and the fault
// subcode for refused ones ("Stop!ter:ActionNotSupported").
func (c *Camera) Ops() []string {
	var out []string
	for _, k := range c.Calls() {
		s := k.Op
		if k.Fault != "" {
			s += "!" + k.Fault
		}
		out = append(out, s)
	}
	return out
}

// WaitFor waits until a call (past or future) after index from satisfies
// ok, and returns it with its index.
func (c *Camera) WaitFor(ctx context.Context, from int, ok func(Call) bool) (Call, int, error) {
	for {
		c.mu.Lock()
		for i := from; i < len(c.calls); i++ {
			if ok(c.calls[i]) {
				k := c.calls[i]
				c.mu.Unlock()
				return k, i, nil
			}
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return Call{}, -1, fmt.Errorf("no such call among %q: %w", c.Ops(), ctx.Err())
		}
	}
}

// Moving reports whether the camera is moving: a continuous move that was
// neither stopped nor ended by its Timeout (unless IgnoreTimeout).
func (c *Camera) Moving() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.moving && (c.moveEnd.IsZero() || c.nowLocked().Before(c.moveEnd))
}

// SetClockOffset moves the camera's clock (a reboot, a DST change).
func (c *Camera) SetClockOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.opts.ClockOffset = d
}

func (c *Camera) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Camera) nowLocked() time.Time { return time.Now().Add(c.opts.ClockOffset) }

// ---- the server ----

type reqEnvelope struct {
	Header struct {
		Security struct {
			UsernameToken struct {
				Username string
				Password string
				Nonce    string
				Created  string
			}
		}
	}
	Body struct {
		Inner []byte `xml:",innerxml"`
	}
}

type anyElem struct {
	XMLName xml.Name
}

type moveReq struct {
	Velocity struct {
		PanTilt *struct {
			X *float64 `xml:"x,attr"`
			Y *float64 `xml:"y,attr"`
		}
		Zoom *struct {
			X *float64 `xml:"x,attr"`
		}
	}
	Timeout *string
}

func (c *Camera) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	call := Call{At: time.Now(), Path: r.URL.Path, Body: string(body)}
	var env reqEnvelope
	if err := xml.Unmarshal(body, &env); err != nil {
		c.fault(w, call, http.StatusBadRequest, "env:Sender", "ter:WellFormed", "not XML")
		return
	}
	var op anyElem
	_ = xml.Unmarshal(env.Body.Inner, &op)
	call.Op = op.XMLName.Local
	call.Authenticated = c.verify(env)

	c.mu.Lock()
	faults := c.faults
	c.mu.Unlock()
	if faults.Slow {
		select {
		case <-r.Context().Done():
		case <-c.closed:
		}
		c.record(call)
		return
	}

	needAuth := c.opts.Username != "" && (call.Op != "GetSystemDateAndTime" || c.opts.TimeNeedsAuth)
	if needAuth && !call.Authenticated {
		c.fault(w, call, http.StatusBadRequest, "env:Sender", "ter:NotAuthorized", "Sender not Authorized")
		return
	}
	c.handle(w, call, env.Body.Inner, faults)
}

// verify checks the UsernameToken: user name, Created within MaxSkew of
// the camera's clock, a nonce not seen before, and the digest.
func (c *Camera) verify(env reqEnvelope) bool {
	t := env.Header.Security.UsernameToken
	if c.opts.Username == "" || t.Username != c.opts.Username {
		return false
	}
	created, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t.Created))
	if err != nil || created.Sub(c.now()).Abs() > c.opts.MaxSkew {
		return false
	}
	nonce, err := base64.StdEncoding.DecodeString(strings.TrimSpace(t.Nonce))
	if err != nil || len(nonce) == 0 {
		return false
	}
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(strings.TrimSpace(t.Created)))
	h.Write([]byte(c.opts.Password))
	if base64.StdEncoding.EncodeToString(h.Sum(nil)) != strings.TrimSpace(t.Password) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nonces[t.Nonce] {
		return false // replayed
	}
	c.nonces[t.Nonce] = true
	return true
}

func (c *Camera) record(call Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
	close(c.notify)
	c.notify = make(chan struct{})
}

func (c *Camera) fault(w http.ResponseWriter, call Call, status int, code, sub, reason string) {
	call.Fault = sub
	c.record(call)
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault><env:Code><env:Value>%s</env:Value><env:Subcode><env:Value>%s</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">%s</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`,
		code, sub, html.EscapeString(reason))
}

func (c *Camera) ok(w http.ResponseWriter, call Call, inner string) {
	c.record(call)
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><SOAP-ENV:Body>%s</SOAP-ENV:Body></SOAP-ENV:Envelope>`, inner)
}

func f(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (c *Camera) handle(w http.ResponseWriter, call Call, inner []byte, faults Faults) {
	adv := "http://" + c.opts.AdvertisedHost
	switch call.Op {
	case "GetSystemDateAndTime":
		t := c.now().UTC()
		c.ok(w, call, fmt.Sprintf(`<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:UTCDateTime><tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time><tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
			t.Hour(), t.Minute(), t.Second(), t.Year(), int(t.Month()), t.Day()))
	case "GetCapabilities":
		c.ok(w, call, `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>`+adv+`/onvif/device_service</tt:XAddr></tt:Device><tt:Media><tt:XAddr>`+adv+`/onvif/media_service</tt:XAddr></tt:Media><tt:PTZ><tt:XAddr>`+adv+`/onvif/ptz_service</tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>`)
	case "GetProfiles":
		c.ok(w, call, `<trt:GetProfilesResponse><trt:Profiles token="Profile_0" fixed="true"><tt:Name>mainStream</tt:Name></trt:Profiles><trt:Profiles token="Profile_1" fixed="true"><tt:Name>ptzStream</tt:Name><tt:PTZConfiguration token="PTZConf_1"><tt:Name>PTZ</tt:Name><tt:NodeToken>Node_1</tt:NodeToken><tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace><tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout></tt:PTZConfiguration></trt:Profiles></trt:GetProfilesResponse>`)
	case "GetNodes":
		var b strings.Builder
		b.WriteString(`<tptz:GetNodesResponse><tptz:PTZNode token="Node_1" FixedHomePosition="false"><tt:Name>PTZ</tt:Name><tt:SupportedPTZSpaces>`)
		b.WriteString(`<tt:AbsolutePanTiltPositionSpace><tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace</tt:URI></tt:AbsolutePanTiltPositionSpace>`)
		b.WriteString(`<tt:RelativePanTiltTranslationSpace><tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace</tt:URI></tt:RelativePanTiltTranslationSpace>`)
		b.WriteString(`<tt:ContinuousPanTiltVelocitySpace><tt:URI>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:URI></tt:ContinuousPanTiltVelocitySpace>`)
		if !c.opts.NoZoom {
			b.WriteString(`<tt:ContinuousZoomVelocitySpace><tt:URI>http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace</tt:URI></tt:ContinuousZoomVelocitySpace>`)
		}
		fmt.Fprintf(&b, `</tt:SupportedPTZSpaces><tt:MaximumNumberOfPresets>32</tt:MaximumNumberOfPresets><tt:HomeSupported>%v</tt:HomeSupported>`, !c.opts.NoHome)
		for _, a := range c.opts.AuxCommands {
			b.WriteString(`<tt:AuxiliaryCommands>` + html.EscapeString(a) + `</tt:AuxiliaryCommands>`)
		}
		b.WriteString(`</tptz:PTZNode></tptz:GetNodesResponse>`)
		c.ok(w, call, b.String())
	case "ContinuousMove":
		var m moveReq
		_ = xml.Unmarshal(inner, &m)
		if pt := m.Velocity.PanTilt; pt != nil {
			if pt.X == nil || pt.Y == nil {
				c.fault(w, call, http.StatusBadRequest, "env:Sender", "ter:InvalidArgVal", "PanTilt needs x and y")
				return
			}
			call.Pan, call.Tilt = pt.X, pt.Y
		}
		if z := m.Velocity.Zoom; z != nil {
			if z.X == nil {
				c.fault(w, call, http.StatusBadRequest, "env:Sender", "ter:InvalidArgVal", "Zoom needs x")
				return
			}
			call.Zoom = z.X
		}
		if m.Timeout != nil {
			call.Timeout = strings.TrimSpace(*m.Timeout)
		}
		if faults.RejectDiagonal && !isZero(call.Pan) && !isZero(call.Tilt) {
			c.fault(w, call, http.StatusBadRequest, "env:Sender", "ter:InvalidArgVal", "diagonal moves are not supported")
			return
		}
		c.mu.Lock()
		if isZero(call.Pan) && isZero(call.Tilt) && isZero(call.Zoom) {
			c.moving = false
		} else {
			c.moving, c.moveEnd = true, time.Time{}
			if d, ok := parseSeconds(call.Timeout); ok && !faults.IgnoreTimeout {
				c.moveEnd = c.nowLocked().Add(d)
			}
		}
		c.mu.Unlock()
		c.ok(w, call, `<tptz:ContinuousMoveResponse/>`)
	case "Stop":
		if faults.NoStop {
			c.fault(w, call, http.StatusInternalServerError, "env:Receiver", "ter:ActionNotSupported", "Stop is not supported")
			return
		}
		c.mu.Lock()
		c.moving = false
		c.mu.Unlock()
		c.ok(w, call, `<tptz:StopResponse/>`)
	case "RelativeMove", "AbsoluteMove":
		c.ok(w, call, `<tptz:`+call.Op+`Response/>`)
	case "GotoHomePosition":
		if c.opts.NoHome {
			c.fault(w, call, http.StatusInternalServerError, "env:Receiver", "ter:NoHomePosition", "no home position")
			return
		}
		c.ok(w, call, `<tptz:GotoHomePositionResponse/>`)
	case "GetPresets":
		c.mu.Lock()
		var b strings.Builder
		for _, p := range c.presets {
			fmt.Fprintf(&b, `<tptz:Preset token="%s"><tt:Name>%s</tt:Name><tt:PTZPosition><tt:PanTilt x="%s" y="%s"/><tt:Zoom x="%s"/></tt:PTZPosition></tptz:Preset>`,
				html.EscapeString(p.token), html.EscapeString(p.name), f(p.pan), f(p.tilt), f(p.zoom))
		}
		c.mu.Unlock()
		c.ok(w, call, `<tptz:GetPresetsResponse>`+b.String()+`</tptz:GetPresetsResponse>`)
	case "GotoPreset", "RemovePreset":
		var p struct{ PresetToken string }
		_ = xml.Unmarshal(inner, &p)
		c.mu.Lock()
		i := -1
		for j, pr := range c.presets {
			if pr.token == p.PresetToken {
				i = j
			}
		}
		if i >= 0 && call.Op == "RemovePreset" {
			c.presets = append(c.presets[:i], c.presets[i+1:]...)
		}
		c.mu.Unlock()
		if i < 0 {
			c.fault(w, call, http.StatusBadRequest, "env:Sender", "ter:NoToken", "no such preset")
			return
		}
		c.ok(w, call, `<tptz:`+call.Op+`Response/>`)
	case "SetPreset":
		var p struct{ PresetName, PresetToken string }
		_ = xml.Unmarshal(inner, &p)
		c.mu.Lock()
		tok := p.PresetToken
		if tok == "" {
			tok = strconv.Itoa(c.nextTok)
			c.nextTok++
			c.presets = append(c.presets, preset{token: tok, name: p.PresetName, pan: c.pan, tilt: c.tilt, zoom: c.zoom})
		}
		c.mu.Unlock()
		c.ok(w, call, `<tptz:SetPresetResponse><tptz:PresetToken>`+html.EscapeString(tok)+`</tptz:PresetToken></tptz:SetPresetResponse>`)
	case "SendAuxiliaryCommand":
		c.ok(w, call, `<tptz:SendAuxiliaryCommandResponse><tptz:AuxiliaryResponse>OK</tptz:AuxiliaryResponse></tptz:SendAuxiliaryCommandResponse>`)
	case "GetStatus":
		state := "IDLE"
		if c.Moving() {
			state = "MOVING"
		}
		c.ok(w, call, fmt.Sprintf(`<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position><tt:PanTilt x="0.5" y="-0.25" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/><tt:Zoom x="0.1"/></tt:Position><tt:MoveStatus><tt:PanTilt>%s</tt:PanTilt><tt:Zoom>IDLE</tt:Zoom></tt:MoveStatus><tt:UtcTime>%s</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`,
			state, c.now().UTC().Format(time.RFC3339)))
	default:
		c.fault(w, call, http.StatusBadRequest, "env:Receiver", "ter:ActionNotSupported", "unknown operation")
	}
}

// parseSeconds reads "PT1S" and "PT0.5S".
func parseSeconds(s string) (time.Duration, bool) {
	if !strings.HasPrefix(s, "PT") || !strings.HasSuffix(s, "S") {
		return 0, false
	}
	v, err := strconv.ParseFloat(s[2:len(s)-1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(v * float64(time.Second)), true
}

// ---- golden files ----

// Normalize replaces what changes from run to run in a request envelope
// (nonce, Created, digest) with placeholders and indents it, one element
// per line, for golden files.
func Normalize(body string) string {
	for _, tag := range []string{"wsse:Nonce", "wsu:Created", "wsse:Password"} {
		body = replaceText(body, tag, strings.ToUpper(tag[strings.Index(tag, ":")+1:]))
	}
	return indent(body)
}

// replaceText replaces the text of every <tag …>text</tag> with
// placeholder.
func replaceText(s, tag, placeholder string) string {
	var out strings.Builder
	for {
		i := strings.Index(s, "<"+tag)
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		j := strings.Index(s[i:], ">")
		k := strings.Index(s[i:], "</"+tag+">")
		if j < 0 || k < 0 || k < j {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i+j+1])
		out.WriteString(placeholder)
		s = s[i+k:]
	}
}

// indent puts each element on its own line, indented by depth; an element
// that holds only text stays on one line.
func indent(s string) string {
	var out bytes.Buffer
	depth := 0
	rest := strings.TrimSpace(s)
	for rest != "" {
		if !strings.HasPrefix(rest, "<") {
			i := strings.Index(rest, "<")
			if i < 0 {
				i = len(rest)
			}
			if strings.TrimSpace(rest[:i]) != "" {
				out.WriteString(rest[:i]) // text right after its start tag
			}
			rest = rest[i:]
			continue
		}
		end := strings.Index(rest, ">")
		if end < 0 {
			out.WriteString(rest)
			break
		}
		tag := rest[:end+1]
		rest = rest[end+1:]
		switch {
		case strings.HasPrefix(tag, "<?"):
			out.WriteString(tag + "\n")
		case strings.HasPrefix(tag, "</"):
			depth--
			if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
				out.WriteString(tag + "\n") // closes a text-only element
			} else {
				out.WriteString(strings.Repeat("  ", depth) + tag + "\n")
			}
		case strings.HasSuffix(tag, "/>"):
			out.WriteString(strings.Repeat("  ", depth) + tag + "\n")
		default:
			out.WriteString(strings.Repeat("  ", depth) + tag)
			depth++
			if !strings.HasPrefix(rest, "<") || strings.HasPrefix(rest, "</") {
				continue // text or an immediate end tag follows on this line
			}
			out.WriteString("\n")
		}
	}
	return out.String()
}
