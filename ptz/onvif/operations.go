package onvif

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/camgate/camgate/ptz"
)

// The PTZ operations: continuous moves and the ways to stop them, relative
// and absolute moves, home, presets, auxiliary commands and status, each
// mapped from the operator's frame onto the camera (inversion quirks,
// generic spaces).

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
func (d *Driver) Move(ctx context.Context, v ptz.Velocity) error {
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
	if err != nil && !noDiag && v.Pan != 0 && v.Tilt != 0 && errors.Is(err, ptz.ErrCameraFault) && !errors.Is(err, ptz.ErrCameraAuth) {
		d.log.Warn("onvif: the camera refused a diagonal move; moving the dominant axis only from now on", "error", err)
		d.mu.Lock()
		d.noDiagonal = true
		d.mu.Unlock()
		return d.continuous(ctx, dominant(v), !d.cfg.Quirks.NoTimeout)
	}
	return err
}

// dominant keeps the larger of pan and tilt (pan on a tie).
func dominant(v ptz.Velocity) ptz.Velocity {
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

func (d *Driver) continuous(ctx context.Context, v ptz.Velocity, withTimeout bool) error {
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
	if err := d.c.call(ctx, u, "ContinuousMove", req, &empty{}); err != nil {
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
	err := d.c.call(ctx, u, "Stop", stop{ProfileToken: profile, PanTilt: true, Zoom: d.hasZoomNow()}, &empty{})
	if err == nil {
		d.mu.Lock()
		d.last = ptz.Velocity{}
		d.mu.Unlock()
		return nil
	}
	if errors.Is(err, ptz.ErrNotSupported) {
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
	if err := d.c.call(ctx, u, "ContinuousMove", req, &empty{}); err != nil {
		return err
	}
	d.mu.Lock()
	d.last, d.lastPTSent, d.lastZSent = ptz.Velocity{}, true, req.Velocity.Zoom != nil
	d.mu.Unlock()
	return nil
}

// vector makes a tt:PTZVector: PanTilt when pan or tilt is given (the
// other 0 for a translation, filled in by the caller for a position).
func (d *Driver) vector(v ptz.Vector) ptzVector {
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
func (d *Driver) RelativeMove(ctx context.Context, t ptz.Vector) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "RelativeMove", relativeMove{ProfileToken: profile, Translation: d.vector(t)}, &empty{})
}

// AbsoluteMove moves to a position in the generic space. Given only one of
// pan and tilt, it reads the other from GetStatus (PanTilt needs both).
func (d *Driver) AbsoluteMove(ctx context.Context, p ptz.Vector) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	if (p.Pan == nil) != (p.Tilt == nil) {
		st, err := d.Status(ctx)
		if err != nil {
			return err
		}
		if st.Pan == nil || st.Tilt == nil {
			return fmt.Errorf("onvif: give pan and tilt together: the camera does not report its position: %w", ptz.ErrNotSupported)
		}
		if p.Pan == nil {
			p.Pan = st.Pan
		} else {
			p.Tilt = st.Tilt
		}
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "AbsoluteMove", absoluteMove{ProfileToken: profile, Position: d.vector(p)}, &empty{})
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
		return fmt.Errorf("onvif: the camera has no home position: %w", ptz.ErrNotSupported)
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "GotoHomePosition", gotoHomePosition{ProfileToken: profile}, &empty{})
}

// Presets lists the camera's presets.
func (d *Driver) Presets(ctx context.Context) ([]ptz.Preset, error) {
	if err := d.ready(ctx); err != nil {
		return nil, err
	}
	u, profile := d.ptz()
	var r getPresetsResponse
	if err := d.c.call(ctx, u, "GetPresets", getPresets{ProfileToken: profile}, &r); err != nil {
		return nil, err
	}
	out := make([]ptz.Preset, 0, len(r.Preset))
	for _, p := range r.Preset {
		out = append(out, ptz.Preset{Token: p.Token, Name: strings.TrimSpace(p.Name)})
	}
	return out, nil
}

// GotoPreset moves to a preset.
func (d *Driver) GotoPreset(ctx context.Context, token string) error {
	if err := d.ready(ctx); err != nil {
		return err
	}
	u, profile := d.ptz()
	return d.c.call(ctx, u, "GotoPreset", gotoPreset{ProfileToken: profile, PresetToken: token}, &empty{})
}

// SetPreset stores the current position.
func (d *Driver) SetPreset(ctx context.Context, name, token string) (string, error) {
	if err := d.ready(ctx); err != nil {
		return "", err
	}
	u, profile := d.ptz()
	var r setPresetResponse
	if err := d.c.call(ctx, u, "SetPreset", setPreset{ProfileToken: profile, PresetName: name, PresetToken: token}, &r); err != nil {
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
	return d.c.call(ctx, u, "RemovePreset", removePreset{ProfileToken: profile, PresetToken: token}, &empty{})
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
		return fmt.Errorf("onvif: no aux command %d: %w", n, ptz.ErrNotSupported)
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
		return d.c.call(ctx, u, "SendAuxiliaryCommand", sendAuxiliaryCommandPTZ{ProfileToken: profile, AuxiliaryData: data}, &empty{})
	}
	return d.c.call(ctx, d.cfg.URL, "SendAuxiliaryCommand", sendAuxiliaryCommandDevice{AuxiliaryCommand: data}, &empty{})
}

// Status reads GetStatus, in the operator's frame (inversions undone).
func (d *Driver) Status(ctx context.Context) (ptz.Status, error) {
	if err := d.ready(ctx); err != nil {
		return ptz.Status{}, err
	}
	u, profile := d.ptz()
	var r getStatusResponse
	if err := d.c.call(ctx, u, "GetStatus", getStatus{ProfileToken: profile}, &r); err != nil {
		return ptz.Status{}, err
	}
	st := ptz.Status{MoveStatus: ptz.MoveUnknown}
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
		st.MoveStatus = ptz.MoveMoving
	case pt == "IDLE" && (z == "IDLE" || z == ""):
		st.MoveStatus = ptz.MoveIdle
	}
	return st, nil
}
