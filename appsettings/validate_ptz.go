package appsettings

import (
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ptz checks each camera's Ptz. Neither the password nor a URL's userinfo
// is quoted.
func (v *validator) ptz(cams []Camera) {
	for i := range cams {
		v.cameraPtz(indexPath("Cameras", i)+".Ptz", &cams[i].Ptz)
	}
}

func (v *validator) cameraPtz(path string, p *Ptz) {
	enumValid(v, path+".Driver", p.Driver)
	if p.Driver == PtzNone {
		if !reflect.ValueOf(*p).IsZero() {
			v.fail(path+".Driver", `is empty, so the camera has no PTZ, but other Ptz keys are set: `+
				`set Driver to "onvif" or "simulated", or remove them`)
		}
		return
	}
	if p.Driver == PtzOnvif {
		v.onvifURL(path+".Url", p.Url)
		if p.Password != "" && p.Username == "" {
			v.fail(path+".Password", "is set but Username is empty")
		}
	}
	v.ptzText(path+".Username", p.Username, 128)
	v.ptzText(path+".ProfileToken", p.ProfileToken, 64)
	v.ptzText(path+".HomePreset", p.HomePreset, 64)
	if len(p.AuxCommands) > 4 {
		v.fail(path+".AuxCommands", "must list at most 4 commands, for aux numbers 1 to 4 (got "+strconv.Itoa(len(p.AuxCommands))+")")
	}
	for i, a := range p.AuxCommands {
		ipath := indexPath(path+".AuxCommands", i)
		switch {
		case strings.Contains(a, "|"):
			v.fail(ipath, `must be the command without its state, such as "tt:Wiper": camgate adds "|On" and "|Off" (got `+quote(a)+")")
		case strings.ContainsFunc(a, unicode.IsSpace), strings.ContainsFunc(a, unicode.IsControl):
			v.fail(ipath, "must not contain spaces or control characters (got "+quote(a)+")")
		case len(a) > 64:
			v.fail(ipath, "must be at most 64 characters")
		}
	}

	if !(p.Speed > 0 && p.Speed <= 1) {
		v.fail(path+".Speed", "must be more than 0 and at most 1 (got "+fmtFloat(p.Speed)+")")
	}
	nudgeOK := true
	if d := time.Duration(p.NudgeLength); d < 100*time.Millisecond || d > 5*time.Second {
		v.fail(path+".NudgeLength", "must be from 100ms to 5s (got "+d.String()+")")
		nudgeOK = false
	}
	switch d := time.Duration(p.LeaseTimeout); {
	case d < time.Second || d > 10*time.Minute:
		v.fail(path+".LeaseTimeout", "must be from 1s to 10m (got "+d.String()+")")
	case nudgeOK && d <= time.Duration(p.NudgeLength):
		v.fail(path+".LeaseTimeout", "must be longer than NudgeLength (got "+d.String()+", NudgeLength "+p.NudgeLength.String()+")")
	}
	for _, r := range []struct {
		name string
		n    int
	}{{"RatePerSession", p.RatePerSession}, {"RatePerCamera", p.RatePerCamera}} {
		if r.n < 1 || r.n > 1000 {
			v.fail(path+"."+r.name, "must be from 1 to 1000 per second (got "+strconv.Itoa(r.n)+")")
		}
	}
	enumValid(v, path+".Quirks.StopMode", p.Quirks.StopMode)
	g := p.Geometry
	if p.Quirks.NoStop && p.Quirks.StopMode == StopStop {
		v.fail(path+".Quirks.NoStop", `contradicts StopMode "stop": with NoStop, use StopMode "zeroVelocity" or "both"`)
	}
	for _, r := range []struct {
		name     string
		f, lo    float64
		hi       float64
		closedLo bool
		rule     string
	}{
		{"PanDegrees", g.PanDegrees, 0, 360, false, "more than 0 and at most 360"},
		{"TiltDegrees", g.TiltDegrees, 0, 360, false, "more than 0 and at most 360"},
		{"HorizontalFov", g.HorizontalFov, 0, 179, false, "more than 0 and at most 179"},
		{"VerticalFov", g.VerticalFov, 0, 179, false, "more than 0 and at most 179"},
		{"ZoomRatio", g.ZoomRatio, 1, 1000, true, "from 1 to 1000"},
	} {
		ok := r.f <= r.hi && (r.f > r.lo || r.closedLo && r.f == r.lo)
		if !ok || math.IsNaN(r.f) {
			v.fail(path+".Geometry."+r.name, "must be "+r.rule+" (got "+fmtFloat(r.f)+")")
		}
	}
}

// onvifURL checks an ONVIF device service URL; messages quote it without
// userinfo or query.
func (v *validator) onvifURL(path, raw string) {
	if raw == "" {
		v.fail(path, `is required for the onvif driver, e.g. "http://192.0.2.10/onvif/device_service"`)
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		v.fail(path, "is not a valid URL"+gotURL(raw))
	case u.Scheme != "http" && u.Scheme != "https":
		v.fail(path, "must be an http:// or https:// URL"+gotURL(raw))
	case u.User != nil:
		v.fail(path, "must not hold a user name or password: use Username and Password"+gotURL(raw))
	case u.Hostname() == "":
		v.fail(path, "must name a host"+gotURL(raw))
	case u.Port() != "" && !validPort(u.Port(), 1):
		v.fail(path, "port must be from 1 to 65535"+gotURL(raw))
	case u.Fragment != "" || strings.Contains(raw, "#"):
		v.fail(path, "must not have a fragment"+gotURL(raw))
	}
}

// ptzText checks a short text value: no control characters, at most
// maxLen bytes.
func (v *validator) ptzText(path, s string, maxLen int) {
	switch {
	case strings.ContainsFunc(s, unicode.IsControl):
		v.fail(path, "must not contain control characters")
	case len(s) > maxLen:
		v.fail(path, "must be at most "+strconv.Itoa(maxLen)+" bytes")
	}
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
