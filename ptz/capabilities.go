package ptz

import "slices"

// What a camera can do: the optional interfaces its driver implements,
// narrowed by what the driver probed (FeatureReporter). Admission refuses
// a request the camera cannot carry out (supported); Capabilities tells
// clients beforehand.

// Capabilities says what the camera's controller accepts, as far as the
// driver knows (an ONVIF driver knows more once it has probed the camera).
func (c *Controller) Capabilities() Capabilities {
	f := c.features()
	caps := Capabilities{Features: f, NudgeMs: c.cfg.NudgeLength.Milliseconds(), LeaseTimeoutMs: c.cfg.LeaseTimeout.Milliseconds()}
	for _, m := range Methods() {
		if m == MethodMove {
			for _, d := range Directions() {
				if supported(f, Request{Method: MethodMove, Direction: d}) == nil {
					caps.Directions = append(caps.Directions, d)
				}
			}
			if len(caps.Directions) > 0 {
				caps.Methods = append(caps.Methods, m)
			}
			continue
		}
		if supported(f, Request{Method: m, Aux: firstAux(f)}) == nil {
			caps.Methods = append(caps.Methods, m)
		}
	}
	return caps
}

func firstAux(f Features) int {
	if len(f.Aux) > 0 {
		return f.Aux[0]
	}
	return 1
}

// features combines the interfaces the driver implements with what it
// reports.
func (c *Controller) features() Features {
	_, mover := c.drv.(Mover)
	_, stopper := c.drv.(Stopper)
	_, homer := c.drv.(Homer)
	_, presetter := c.drv.(Presetter)
	_, rel := c.drv.(RelativeMover)
	_, abs := c.drv.(AbsoluteMover)
	_, st := c.drv.(StatusReporter)
	_, aux := c.drv.(Aux)
	f := Features{Move: mover, Zoom: mover, Stop: stopper || mover, Home: homer, Presets: presetter,
		Relative: rel, Absolute: abs, Status: st}
	if aux {
		f.Aux = []int{1, 2, 3, 4}
	}
	if fr, ok := c.drv.(FeatureReporter); ok {
		r := fr.Features()
		f.Move, f.Zoom, f.Stop = f.Move && r.Move, f.Zoom && r.Zoom, f.Stop && r.Stop
		f.Home, f.Presets = f.Home && r.Home, f.Presets && r.Presets
		f.Relative, f.Absolute, f.Status = f.Relative && r.Relative, f.Absolute && r.Absolute, f.Status && r.Status
		if aux {
			f.Aux = slices.Clone(r.Aux)
		}
	}
	return f
}

// supported refuses a request the camera cannot carry out.
func supported(f Features, req Request) *Error {
	var ok bool
	what := string(req.Method)
	switch req.Method {
	case MethodMove:
		what = "ptzMove " + string(req.Direction)
		switch req.Direction {
		case Home:
			ok = f.Home
		case Stop:
			ok = f.Stop
		case ZoomIn, ZoomOut:
			ok = f.Move && f.Zoom
		default:
			ok = f.Move
		}
	case MethodSetAux:
		ok = slices.Contains(f.Aux, req.Aux)
		what = "aux " + itoa(req.Aux)
	case MethodPresets, MethodGotoPreset, MethodSetPreset, MethodRemovePreset:
		ok = f.Presets
	case MethodAbsolute:
		ok = f.Absolute
	case MethodRelative, MethodCenter:
		ok = f.Relative
	case MethodStatus:
		ok = f.Status
	default:
		return newError(CodeMethodNotFound, "method "+QuoteInput(string(req.Method))+" does not exist")
	}
	if !ok {
		return newError(CodeUnsupported, what+" is not supported by this camera")
	}
	return nil
}
