package ptz

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/camgate/camgate/appsettings"
)

// MaxRequestBytes is the largest request DecodeRequest accepts.
const MaxRequestBytes = 4096

// Limits of request strings.
const (
	maxTokenLen = 64 // a preset token
	maxNameLen  = 64 // a preset name, in bytes
	// MaxAux is the highest aux number (XProtect's sample has "1"–"4").
	MaxAux = 4
)

// Method is a data-channel method, in its canonical spelling.
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

// Request is a decoded data-channel request. Which fields mean something
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
	// Method is the canonical method. When the method is unknown,
	// DecodeRequest leaves the name as sent (shortened) for the reply.
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

// wire is a request on the wire. encoding/json matches keys in any case.
type wire struct {
	APIVersion json.RawMessage `json:"ApiVersion"` // XProtect's spelling
	Jsonrpc    json.RawMessage `json:"jsonrpc"`
	Type       json.RawMessage `json:"type"`
	Method     json.RawMessage `json:"method"`
	ID         json.RawMessage `json:"id"`
	Params     json.RawMessage `json:"params"`
}

// DecodeRequest decodes and checks a data-channel request such as
//
//	{"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{"direction":"upLeft"}}
//
// leniently, as XProtect clients write them: key names in any case,
// "ApiVersion" or "jsonrpc" (or neither), "type" "request" or absent,
// method and direction names in any case, numbers also as strings
// ("auxNumber":"1"), unknown keys ignored. A message over MaxRequestBytes,
// a bad id or type, an unknown method or a bad parameter gets an *Error
// whose message names the field; the returned Request then holds the id
// and method as far as they were read, so that the reply can echo them.
func DecodeRequest(b []byte) (Request, error) {
	var req Request
	if len(b) > MaxRequestBytes {
		return req, newError(CodeInvalidRequest, "request is larger than "+strconv.Itoa(MaxRequestBytes)+" bytes")
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		if json.Valid(b) {
			return req, newError(CodeInvalidRequest, "request must be a JSON object")
		}
		return req, newError(CodeParseError, "request is not valid JSON")
	}
	if id := bytes.TrimSpace(w.ID); len(id) > 0 && string(id) != "null" {
		if id[0] != '"' && id[0] != '-' && (id[0] < '0' || id[0] > '9') {
			return req, newError(CodeInvalidRequest, "id must be a string or a number")
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, id) // valid: Unmarshal checked it
		req.ID = buf.Bytes()
	}
	if len(w.Method) == 0 || string(w.Method) == "null" {
		return req, newError(CodeInvalidRequest, "method is required")
	}
	var name string
	if err := json.Unmarshal(w.Method, &name); err != nil {
		return req, newError(CodeInvalidRequest, "method must be a string")
	}
	req.Method = Method(short(name, 64))
	if len(w.Type) > 0 && string(w.Type) != "null" {
		var typ string
		if json.Unmarshal(w.Type, &typ) != nil || !strings.EqualFold(typ, "request") {
			return req, newError(CodeInvalidRequest, `type must be "request"`)
		}
	}
	m, ok := lookupMethod(name)
	if !ok {
		if name == "" {
			return req, newError(CodeInvalidRequest, "method is required")
		}
		return req, newError(CodeMethodNotFound, "method "+quote(name)+" does not exist")
	}
	req.Method = m
	p, err := decodeParams(w.Params)
	if err != nil {
		return req, err
	}
	if err := req.readParams(p); err != nil {
		return req, err
	}
	return req, nil
}

// NewRequest builds a request from a method name and its params object
// (nil for none), as the REST endpoint POST …/ptz/{method} receives them,
// with the checks of DecodeRequest.
func NewRequest(method string, params []byte) (Request, error) {
	m, ok := lookupMethod(method)
	if !ok {
		return Request{Method: Method(short(method, 64))}, newError(CodeMethodNotFound, "method "+quote(method)+" does not exist")
	}
	req := Request{Method: m}
	if len(params) > MaxRequestBytes {
		return req, newError(CodeInvalidRequest, "params are larger than "+strconv.Itoa(MaxRequestBytes)+" bytes")
	}
	if len(bytes.TrimSpace(params)) > 0 && !json.Valid(params) {
		return req, newError(CodeParseError, "params are not valid JSON")
	}
	p, err := decodeParams(params)
	if err != nil {
		return req, err
	}
	return req, req.readParams(p)
}

func lookupMethod(name string) (Method, bool) {
	for _, m := range Methods() {
		if strings.EqualFold(name, string(m)) {
			return m, true
		}
	}
	return "", false
}

func lookupDirection(name string) (Direction, bool) {
	for _, d := range Directions() {
		if strings.EqualFold(name, string(d)) {
			return d, true
		}
	}
	return "", false
}

// params holds a params object with its keys lower-cased (the last of keys
// that differ only in case wins, as encoding/json does).
type params map[string]json.RawMessage

func decodeParams(raw json.RawMessage) (params, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return params{}, nil
	}
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, newError(CodeInvalidParams, "params must be an object")
	}
	p := make(params, len(obj))
	for k, v := range obj {
		p[strings.ToLower(k)] = v
	}
	return p, nil
}

func badParam(name, msg string) *Error {
	return newError(CodeInvalidParams, "params."+name+": "+msg)
}

// has reports whether the key is there and not null.
func (p params) has(name string) bool {
	v, ok := p[strings.ToLower(name)]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

func (p params) str(name string, required bool) (string, bool, error) {
	if !p.has(name) {
		if required {
			return "", false, badParam(name, "is required")
		}
		return "", false, nil
	}
	var s string
	if json.Unmarshal(p[strings.ToLower(name)], &s) != nil {
		return "", false, badParam(name, "must be a string, got "+appsettings.JSONKind(p[strings.ToLower(name)]))
	}
	return s, true, nil
}

// number reads a JSON number or a string holding one.
func (p params) number(name string, required bool) (float64, bool, error) {
	if !p.has(name) {
		if required {
			return 0, false, badParam(name, "is required")
		}
		return 0, false, nil
	}
	raw := bytes.TrimSpace(p[strings.ToLower(name)])
	s := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false, badParam(name, "must be a number")
		}
		s = strings.TrimSpace(s)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false, badParam(name, "must be a number, got "+appsettings.JSONKind(raw))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, badParam(name, "must be a number (got "+quote(s)+")")
	}
	return f, true, nil
}

// boolean reads true/false or a string holding one, in any case.
func (p params) boolean(name string) (bool, error) {
	if !p.has(name) {
		return false, badParam(name, "is required")
	}
	raw := bytes.TrimSpace(p[strings.ToLower(name)])
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, badParam(name, "must be true or false (got "+quote(s)+")")
	}
	return false, badParam(name, "must be true or false, got "+appsettings.JSONKind(raw))
}

// inRange reads an optional number within lo…hi into *dst.
func (p params) inRange(name string, lo, hi float64, dst **float64) error {
	f, ok, err := p.number(name, false)
	if err != nil || !ok {
		return err
	}
	if f < lo || f > hi {
		return badParam(name, "must be from "+fmtNum(lo)+" to "+fmtNum(hi)+" (got "+fmtNum(f)+")")
	}
	*dst = &f
	return nil
}

func (r *Request) readParams(p params) error {
	switch r.Method {
	case MethodMove:
		s, _, err := p.str("direction", true)
		if err != nil {
			return err
		}
		d, ok := lookupDirection(s)
		if !ok {
			return badParam("direction", "must be one of "+directionList()+" (got "+quote(s)+")")
		}
		r.Direction = d
	case MethodSetAux:
		n, _, err := p.number("auxNumber", true)
		if err != nil {
			return err
		}
		if n != math.Trunc(n) || n < 1 || n > MaxAux {
			return badParam("auxNumber", "must be a whole number from 1 to "+strconv.Itoa(MaxAux)+" (got "+fmtNum(n)+")")
		}
		r.Aux = int(n)
		if r.On, err = p.boolean("on"); err != nil {
			return err
		}
	case MethodGotoPreset:
		tok, hasTok, err := p.str("token", false)
		if err != nil {
			return err
		}
		name, hasName, err := p.str("name", false)
		if err != nil {
			return err
		}
		switch {
		case hasTok && tok != "":
			if err := checkToken("token", tok); err != nil {
				return err
			}
			r.Token = tok
		case hasName:
			if err := checkName("name", name); err != nil {
				return err
			}
			r.Name = name
		default:
			return badParam("token", "is required (or params.name)")
		}
	case MethodSetPreset:
		name, _, err := p.str("name", true)
		if err != nil {
			return err
		}
		if err := checkName("name", name); err != nil {
			return err
		}
		r.Name = name
		tok, has, err := p.str("token", false)
		if err != nil {
			return err
		}
		if has && tok != "" {
			if err := checkToken("token", tok); err != nil {
				return err
			}
			r.Token = tok
		}
	case MethodRemovePreset:
		tok, _, err := p.str("token", true)
		if err != nil {
			return err
		}
		if err := checkToken("token", tok); err != nil {
			return err
		}
		r.Token = tok
	case MethodAbsolute, MethodRelative:
		zlo := 0.0
		if r.Method == MethodRelative {
			zlo = -1
		}
		for _, a := range []struct {
			name   string
			lo     float64
			target **float64
		}{{"pan", -1, &r.Pan}, {"tilt", -1, &r.Tilt}, {"zoom", zlo, &r.Zoom}} {
			if err := p.inRange(a.name, a.lo, 1, a.target); err != nil {
				return err
			}
		}
		if r.Pan == nil && r.Tilt == nil && r.Zoom == nil {
			return badParam("pan", "is required (or params.tilt or params.zoom)")
		}
	case MethodCenter:
		for _, a := range []struct {
			name   string
			target *float64
		}{{"x", &r.X}, {"y", &r.Y}} {
			f, _, err := p.number(a.name, true)
			if err != nil {
				return err
			}
			if f < 0 || f > 1 {
				return badParam(a.name, "must be from 0 to 1 (got "+fmtNum(f)+")")
			}
			*a.target = f
		}
	}
	return nil
}

func checkToken(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return badParam(field, "must not be empty")
	case len(s) > maxTokenLen:
		return badParam(field, "must be at most "+strconv.Itoa(maxTokenLen)+" bytes")
	case strings.ContainsFunc(s, unicode.IsControl):
		return badParam(field, "must not contain control characters")
	}
	return nil
}

func checkName(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return badParam(field, "must not be empty")
	case len(s) > maxNameLen:
		return badParam(field, "must be at most "+strconv.Itoa(maxNameLen)+" bytes")
	case strings.ContainsFunc(s, unicode.IsControl):
		return badParam(field, "must not contain control characters")
	}
	return nil
}

func directionList() string {
	dirs := Directions()
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

func fmtNum(f float64) string {
	if math.Abs(f) >= 1e6 {
		return strconv.FormatFloat(f, 'g', 4, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// MarshalJSON writes the request in the wire form XProtect clients send,
// with "ApiVersion":"1.0" and only the params its method uses.
func (r Request) MarshalJSON() ([]byte, error) {
	p := map[string]any{}
	switch r.Method {
	case MethodMove:
		p["direction"] = r.Direction
	case MethodSetAux:
		p["auxNumber"] = strconv.Itoa(r.Aux) // a string, as XProtect's sample sends it
		p["on"] = r.On
	case MethodGotoPreset, MethodSetPreset, MethodRemovePreset:
		if r.Token != "" {
			p["token"] = r.Token
		}
		if r.Name != "" {
			p["name"] = r.Name
		}
	case MethodAbsolute, MethodRelative:
		for k, v := range map[string]*float64{"pan": r.Pan, "tilt": r.Tilt, "zoom": r.Zoom} {
			if v != nil {
				p[k] = *v
			}
		}
	case MethodCenter:
		p["x"], p["y"] = r.X, r.Y
	}
	out := struct {
		APIVersion string          `json:"ApiVersion"`
		Type       string          `json:"type"`
		Method     Method          `json:"method"`
		ID         json.RawMessage `json:"id,omitempty"`
		Params     map[string]any  `json:"params"`
	}{"1.0", "request", r.Method, r.ID, p}
	return json.Marshal(out)
}

// reply is the wire form of a reply.
type reply struct {
	Type   string          `json:"type"`
	Method string          `json:"method,omitempty"`
	ID     json.RawMessage `json:"id,omitempty"`
	Result any             `json:"result,omitempty"`
	Error  *replyError     `json:"error,omitempty"`
}

type replyError struct {
	Code    Code      `json:"code"`
	Message string    `json:"message"`
	Data    replyData `json:"data"`
}

type replyData struct {
	Reason       string `json:"reason"`
	RetryAfterMs int64  `json:"retryAfterMs,omitempty"`
	Fault        string `json:"fault,omitempty"`
}

// EncodeReply writes the reply to req:
//
//	{"type":"response","method":"ptzMove","id":7,"result":{…}}
//	{"type":"response","method":"ptzMove","error":{"code":-32001,"message":"…","data":{"reason":"busy","retryAfterMs":4200}}}
//
// echoing req's id when it had one, and its method when known. A nil
// result becomes {}. err is mapped with AsError.
func EncodeReply(req Request, result any, err error) []byte {
	r := reply{Type: "response", Method: string(req.Method), ID: req.ID}
	switch {
	case err != nil:
		e := AsError(string(req.Method), err)
		r.Error = &replyError{Code: e.Code, Message: short(e.Message, 300), Data: replyData{
			Reason: e.Code.String(), RetryAfterMs: e.RetryAfter.Milliseconds(), Fault: e.Fault,
		}}
	case result == nil:
		r.Result = struct{}{}
	default:
		r.Result = result
	}
	b, mErr := json.Marshal(r)
	if mErr != nil {
		// A result that does not marshal is a bug here, not the client's.
		r.Result = nil
		r.Error = &replyError{Code: CodeInternal, Message: "internal error", Data: replyData{Reason: CodeInternal.String()}}
		b, _ = json.Marshal(r)
	}
	return b
}
