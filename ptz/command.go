package ptz

import (
	"encoding/json"
	"strings"
)

// MaxAux is the highest aux number (XProtect's sample has "1"–"4").
const MaxAux = 4

// Method is a PTZ method, in its canonical spelling (the data channel's).
type Method string

// The methods. ptzMove and setAux are XProtect's; the others are camgate's
// extensions.
const (
	MethodMove         Method = "ptzMove"
	MethodSetAux       Method = "setAux"
	MethodPresets      Method = "ptzPresets"
	MethodGotoPreset   Method = "ptzGotoPreset"
	MethodSetPreset    Method = "ptzSetPreset"
	MethodRemovePreset Method = "ptzRemovePreset"
	MethodAbsolute     Method = "ptzAbsolute"
	MethodRelative     Method = "ptzRelative"
	MethodCenter       Method = "ptzCenter"
	MethodStatus       Method = "ptzStatus"
)

// Methods lists every method (a new slice on each call).
func Methods() []Method {
	return []Method{MethodMove, MethodSetAux, MethodPresets, MethodGotoPreset, MethodSetPreset,
		MethodRemovePreset, MethodAbsolute, MethodRelative, MethodCenter, MethodStatus}
}

// ReadOnly reports whether the method only reads (ptzStatus, ptzPresets):
// it needs no control lease.
func (m Method) ReadOnly() bool { return m == MethodStatus || m == MethodPresets }

// Direction is a ptzMove direction, in its canonical spelling.
type Direction string

// The directions of ptzMove. XProtect's sample sends the first nine;
// zoomIn, zoomOut and stop are extensions (PascalCase, as XProtect's older
// Mobile protocol spells them, is accepted: directions are matched in any
// case).
const (
	Up        Direction = "up"
	Down      Direction = "down"
	Left      Direction = "left"
	Right     Direction = "right"
	UpLeft    Direction = "upLeft"
	UpRight   Direction = "upRight"
	DownLeft  Direction = "downLeft"
	DownRight Direction = "downRight"
	Home      Direction = "home"
	ZoomIn    Direction = "zoomIn"
	ZoomOut   Direction = "zoomOut"
	Stop      Direction = "stop"
)

// Directions lists every direction (a new slice on each call).
func Directions() []Direction {
	return []Direction{Up, Down, Left, Right, UpLeft, UpRight, DownLeft, DownRight, Home, ZoomIn, ZoomOut, Stop}
}

// unit is the unit velocity of a continuous direction (+pan = right,
// +tilt = up, +zoom = in); home and stop have none.
func (d Direction) unit() (v Velocity, ok bool) {
	switch d {
	case Up:
		return Velocity{Tilt: 1}, true
	case Down:
		return Velocity{Tilt: -1}, true
	case Left:
		return Velocity{Pan: -1}, true
	case Right:
		return Velocity{Pan: 1}, true
	case UpLeft:
		return Velocity{Pan: -1, Tilt: 1}, true
	case UpRight:
		return Velocity{Pan: 1, Tilt: 1}, true
	case DownLeft:
		return Velocity{Pan: -1, Tilt: -1}, true
	case DownRight:
		return Velocity{Pan: 1, Tilt: -1}, true
	case ZoomIn:
		return Velocity{Zoom: 1}, true
	case ZoomOut:
		return Velocity{Zoom: -1}, true
	}
	return Velocity{}, false
}

// Request is a PTZ request (package signaling decodes the data channel's
// and the REST API's wire format into it). Which fields mean something
// depends on Method:
//
//	ptzMove          Direction
//	setAux           Aux (1…MaxAux), On
//	ptzGotoPreset    Token, or Name when Token is empty
//	ptzSetPreset     Name; Token to overwrite that preset (optional)
//	ptzRemovePreset  Token
//	ptzAbsolute      Pan, Tilt (−1…1), Zoom (0…1); nil = leave the axis
//	ptzRelative      Pan, Tilt, Zoom (each −1…1); nil = 0
//	ptzCenter        X, Y (0…1; 0.5, 0.5 is the centre of the picture)
//	ptzStatus, ptzPresets: nothing
type Request struct {
	// ID is the request's id, as sent (compact JSON: a string or a
	// number), to echo in the reply; nil when the request had none.
	ID json.RawMessage
	// Method is the canonical method. When the method is unknown, the
	// decoder leaves the name as sent (shortened) for the reply.
	Method Method

	Direction Direction
	Aux       int
	On        bool
	Token     string
	Name      string
	Pan       *float64
	Tilt      *float64
	Zoom      *float64
	X, Y      float64
}

// LookupMethod finds the method of a name in any case.
func LookupMethod(name string) (Method, bool) {
	for _, m := range Methods() {
		if strings.EqualFold(name, string(m)) {
			return m, true
		}
	}
	return "", false
}

// LookupDirection finds the direction of a name in any case.
func LookupDirection(name string) (Direction, bool) {
	for _, d := range Directions() {
		if strings.EqualFold(name, string(d)) {
			return d, true
		}
	}
	return "", false
}
