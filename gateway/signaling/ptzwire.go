package signaling

// The commands data channel's wire format of PTZ requests and replies
// (docs/ptz.md), also read by the REST PTZ API (POST …/ptz/{method}): the
// messages XProtect clients send, decoded leniently, and camgate's replies
// with JSON-RPC-style codes.

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/ptz"
)

// MaxPTZRequestBytes is the largest request DecodePTZRequest accepts.
const MaxPTZRequestBytes = 4096

// Limits of request strings.
const (
	maxTokenLen = 64 // a preset token
	maxNameLen  = 64 // a preset name, in bytes
)

func ptzError(code ptz.Code, msg string) *ptz.Error { return &ptz.Error{Code: code, Message: msg} }

// wire is a request on the wire. encoding/json matches keys in any case.
type wire struct {
	APIVersion json.RawMessage `json:"ApiVersion"` // XProtect's spelling
	Jsonrpc    json.RawMessage `json:"jsonrpc"`
	Type       json.RawMessage `json:"type"`
	Method     json.RawMessage `json:"method"`
	ID         json.RawMessage `json:"id"`
	Params     json.RawMessage `json:"params"`
}

// DecodePTZRequest decodes and checks a data-channel request such as
//
//	{"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{"direction":"upLeft"}}
//
// leniently, as XProtect clients write them: key names in any case,
// "ApiVersion" or "jsonrpc" (or neither), "type" "request" or absent,
// method and direction names in any case, numbers also as strings
// ("auxNumber":"1"), unknown keys ignored. A message over MaxPTZRequestBytes,
// a bad id or type, an unknown method or a bad parameter gets an *ptz.Error
// whose message names the field; the returned ptz.Request then holds the id
// and method as far as they were read, so that the reply can echo them.
func DecodePTZRequest(b []byte) (ptz.Request, error) {
	var req ptz.Request
	if len(b) > MaxPTZRequestBytes {
		return req, ptzError(ptz.CodeInvalidRequest, "request is larger than "+strconv.Itoa(MaxPTZRequestBytes)+" bytes")
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		if json.Valid(b) {
			return req, ptzError(ptz.CodeInvalidRequest, "request must be a JSON object")
		}
		return req, ptzError(ptz.CodeParseError, "request is not valid JSON")
	}
	if id := bytes.TrimSpace(w.ID); len(id) > 0 && string(id) != "null" {
		if id[0] != '"' && id[0] != '-' && (id[0] < '0' || id[0] > '9') {
			return req, ptzError(ptz.CodeInvalidRequest, "id must be a string or a number")
		}
		var buf bytes.Buffer
		_ = json.Compact(&buf, id) // valid: Unmarshal checked it
		req.ID = buf.Bytes()
	}
	if len(w.Method) == 0 || string(w.Method) == "null" {
		return req, ptzError(ptz.CodeInvalidRequest, "method is required")
	}
	var name string
	if err := json.Unmarshal(w.Method, &name); err != nil {
		return req, ptzError(ptz.CodeInvalidRequest, "method must be a string")
	}
	req.Method = ptz.Method(ptz.Shorten(name, 64))
	if len(w.Type) > 0 && string(w.Type) != "null" {
		var typ string
		if json.Unmarshal(w.Type, &typ) != nil || !strings.EqualFold(typ, "request") {
			return req, ptzError(ptz.CodeInvalidRequest, `type must be "request"`)
		}
	}
	m, ok := ptz.LookupMethod(name)
	if !ok {
		if name == "" {
			return req, ptzError(ptz.CodeInvalidRequest, "method is required")
		}
		return req, ptzError(ptz.CodeMethodNotFound, "method "+ptz.QuoteInput(name)+" does not exist")
	}
	req.Method = m
	p, err := decodePTZParams(w.Params)
	if err != nil {
		return req, err
	}
	if err := readPTZParams(&req, p); err != nil {
		return req, err
	}
	return req, nil
}

// NewPTZRequest builds a request from a method name and its params object
// (nil for none), as the REST endpoint POST …/ptz/{method} receives them,
// with the checks of DecodePTZRequest.
func NewPTZRequest(method string, params []byte) (ptz.Request, error) {
	m, ok := ptz.LookupMethod(method)
	if !ok {
		return ptz.Request{Method: ptz.Method(ptz.Shorten(method, 64))}, ptzError(ptz.CodeMethodNotFound, "method "+ptz.QuoteInput(method)+" does not exist")
	}
	req := ptz.Request{Method: m}
	if len(params) > MaxPTZRequestBytes {
		return req, ptzError(ptz.CodeInvalidRequest, "params are larger than "+strconv.Itoa(MaxPTZRequestBytes)+" bytes")
	}
	if len(bytes.TrimSpace(params)) > 0 && !json.Valid(params) {
		return req, ptzError(ptz.CodeParseError, "params are not valid JSON")
	}
	p, err := decodePTZParams(params)
	if err != nil {
		return req, err
	}
	return req, readPTZParams(&req, p)
}

// params holds a params object with its keys lower-cased (the last of keys
// that differ only in case wins, as encoding/json does).
type ptzParams map[string]json.RawMessage

func decodePTZParams(raw json.RawMessage) (ptzParams, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ptzParams{}, nil
	}
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, ptzError(ptz.CodeInvalidParams, "params must be an object")
	}
	p := make(ptzParams, len(obj))
	for k, v := range obj {
		p[strings.ToLower(k)] = v
	}
	return p, nil
}

func badPTZParam(name, msg string) *ptz.Error {
	return ptzError(ptz.CodeInvalidParams, "params."+name+": "+msg)
}

// has reports whether the key is there and not null.
func (p ptzParams) has(name string) bool {
	v, ok := p[strings.ToLower(name)]
	return ok && string(bytes.TrimSpace(v)) != "null"
}

func (p ptzParams) str(name string, required bool) (string, bool, error) {
	if !p.has(name) {
		if required {
			return "", false, badPTZParam(name, "is required")
		}
		return "", false, nil
	}
	var s string
	if json.Unmarshal(p[strings.ToLower(name)], &s) != nil {
		return "", false, badPTZParam(name, "must be a string, got "+appsettings.JSONKind(p[strings.ToLower(name)]))
	}
	return s, true, nil
}

// number reads a JSON number or a string holding one.
func (p ptzParams) number(name string, required bool) (float64, bool, error) {
	if !p.has(name) {
		if required {
			return 0, false, badPTZParam(name, "is required")
		}
		return 0, false, nil
	}
	raw := bytes.TrimSpace(p[strings.ToLower(name)])
	s := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false, badPTZParam(name, "must be a number")
		}
		s = strings.TrimSpace(s)
	} else if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return 0, false, badPTZParam(name, "must be a number, got "+appsettings.JSONKind(raw))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false, badPTZParam(name, "must be a number (got "+ptz.QuoteInput(s)+")")
	}
	return f, true, nil
}

// boolean reads true/false or a string holding one, in any case.
func (p ptzParams) boolean(name string) (bool, error) {
	if !p.has(name) {
		return false, badPTZParam(name, "is required")
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
		return false, badPTZParam(name, "must be true or false (got "+ptz.QuoteInput(s)+")")
	}
	return false, badPTZParam(name, "must be true or false, got "+appsettings.JSONKind(raw))
}

// inRange reads an optional number within lo…hi into *dst.
func (p ptzParams) inRange(name string, lo, hi float64, dst **float64) error {
	f, ok, err := p.number(name, false)
	if err != nil || !ok {
		return err
	}
	if f < lo || f > hi {
		return badPTZParam(name, "must be from "+ptz.FormatNumber(lo)+" to "+ptz.FormatNumber(hi)+" (got "+ptz.FormatNumber(f)+")")
	}
	*dst = &f
	return nil
}

func readPTZParams(r *ptz.Request, p ptzParams) error {
	switch r.Method {
	case ptz.MethodMove:
		s, _, err := p.str("direction", true)
		if err != nil {
			return err
		}
		d, ok := ptz.LookupDirection(s)
		if !ok {
			return badPTZParam("direction", "must be one of "+directionList()+" (got "+ptz.QuoteInput(s)+")")
		}
		r.Direction = d
	case ptz.MethodSetAux:
		n, _, err := p.number("auxNumber", true)
		if err != nil {
			return err
		}
		if n != math.Trunc(n) || n < 1 || n > ptz.MaxAux {
			return badPTZParam("auxNumber", "must be a whole number from 1 to "+strconv.Itoa(ptz.MaxAux)+" (got "+ptz.FormatNumber(n)+")")
		}
		r.Aux = int(n)
		if r.On, err = p.boolean("on"); err != nil {
			return err
		}
	case ptz.MethodGotoPreset:
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
			if err := checkPresetToken("token", tok); err != nil {
				return err
			}
			r.Token = tok
		case hasName:
			if err := checkPresetName("name", name); err != nil {
				return err
			}
			r.Name = name
		default:
			return badPTZParam("token", "is required (or params.name)")
		}
	case ptz.MethodSetPreset:
		name, _, err := p.str("name", true)
		if err != nil {
			return err
		}
		if err := checkPresetName("name", name); err != nil {
			return err
		}
		r.Name = name
		tok, has, err := p.str("token", false)
		if err != nil {
			return err
		}
		if has && tok != "" {
			if err := checkPresetToken("token", tok); err != nil {
				return err
			}
			r.Token = tok
		}
	case ptz.MethodRemovePreset:
		tok, _, err := p.str("token", true)
		if err != nil {
			return err
		}
		if err := checkPresetToken("token", tok); err != nil {
			return err
		}
		r.Token = tok
	case ptz.MethodAbsolute, ptz.MethodRelative:
		zlo := 0.0
		if r.Method == ptz.MethodRelative {
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
			return badPTZParam("pan", "is required (or params.tilt or params.zoom)")
		}
	case ptz.MethodCenter:
		for _, a := range []struct {
			name   string
			target *float64
		}{{"x", &r.X}, {"y", &r.Y}} {
			f, _, err := p.number(a.name, true)
			if err != nil {
				return err
			}
			if f < 0 || f > 1 {
				return badPTZParam(a.name, "must be from 0 to 1 (got "+ptz.FormatNumber(f)+")")
			}
			*a.target = f
		}
	}
	return nil
}

func checkPresetToken(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return badPTZParam(field, "must not be empty")
	case len(s) > maxTokenLen:
		return badPTZParam(field, "must be at most "+strconv.Itoa(maxTokenLen)+" bytes")
	case strings.ContainsFunc(s, unicode.IsControl):
		return badPTZParam(field, "must not contain control characters")
	}
	return nil
}

func checkPresetName(field, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return badPTZParam(field, "must not be empty")
	case len(s) > maxNameLen:
		return badPTZParam(field, "must be at most "+strconv.Itoa(maxNameLen)+" bytes")
	case strings.ContainsFunc(s, unicode.IsControl):
		return badPTZParam(field, "must not contain control characters")
	}
	return nil
}

func directionList() string {
	dirs := ptz.Directions()
	names := make([]string, len(dirs))
	for i, d := range dirs {
		names[i] = string(d)
	}
	return strings.Join(names, ", ")
}

// EncodePTZRequest writes a request in the wire form XProtect clients send,
// with "ApiVersion":"1.0" and only the params its method uses.
func EncodePTZRequest(r ptz.Request) ([]byte, error) {
	p := map[string]any{}
	switch r.Method {
	case ptz.MethodMove:
		p["direction"] = r.Direction
	case ptz.MethodSetAux:
		p["auxNumber"] = strconv.Itoa(r.Aux) // a string, as XProtect's sample sends it
		p["on"] = r.On
	case ptz.MethodGotoPreset, ptz.MethodSetPreset, ptz.MethodRemovePreset:
		if r.Token != "" {
			p["token"] = r.Token
		}
		if r.Name != "" {
			p["name"] = r.Name
		}
	case ptz.MethodAbsolute, ptz.MethodRelative:
		for k, v := range map[string]*float64{"pan": r.Pan, "tilt": r.Tilt, "zoom": r.Zoom} {
			if v != nil {
				p[k] = *v
			}
		}
	case ptz.MethodCenter:
		p["x"], p["y"] = r.X, r.Y
	}
	out := struct {
		APIVersion string          `json:"ApiVersion"`
		Type       string          `json:"type"`
		Method     ptz.Method      `json:"method"`
		ID         json.RawMessage `json:"id,omitempty"`
		Params     map[string]any  `json:"params"`
	}{"1.0", "request", r.Method, r.ID, p}
	return json.Marshal(out)
}

// reply is the wire form of a reply.
type ptzReply struct {
	Type   string          `json:"type"`
	Method string          `json:"method,omitempty"`
	ID     json.RawMessage `json:"id,omitempty"`
	Result any             `json:"result,omitempty"`
	Error  *ptzReplyError  `json:"error,omitempty"`
}

type ptzReplyError struct {
	Code    ptz.Code     `json:"code"`
	Message string       `json:"message"`
	Data    ptzReplyData `json:"data"`
}

type ptzReplyData struct {
	Reason       string `json:"reason"`
	RetryAfterMs int64  `json:"retryAfterMs,omitempty"`
	Fault        string `json:"fault,omitempty"`
}

// EncodePTZReply writes the reply to req:
//
//	{"type":"response","method":"ptzMove","id":7,"result":{…}}
//	{"type":"response","method":"ptzMove","error":{"code":-32001,"message":"…","data":{"reason":"busy","retryAfterMs":4200}}}
//
// echoing req's id when it had one, and its method when known. A nil
// result becomes {}. err is mapped with AsError.
func EncodePTZReply(req ptz.Request, result any, err error) []byte {
	r := ptzReply{Type: "response", Method: string(req.Method), ID: req.ID}
	switch {
	case err != nil:
		e := ptz.AsError(string(req.Method), err)
		r.Error = &ptzReplyError{Code: e.Code, Message: ptz.Shorten(e.Message, 300), Data: ptzReplyData{
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
		r.Error = &ptzReplyError{Code: ptz.CodeInternal, Message: "internal error", Data: ptzReplyData{Reason: ptz.CodeInternal.String()}}
		b, _ = json.Marshal(r)
	}
	return b
}
