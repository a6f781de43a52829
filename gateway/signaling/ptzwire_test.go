package signaling_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/camgate/camgate/gateway/signaling"
	"github.com/camgate/camgate/ptz"
)

func fp(v float64) *float64 { return &v }

// decodeCases is the table DecodePTZRequest is tested with, and the seed of
// FuzzDecodeRequest.
var decodeCases = []struct {
	name string
	in   string
	want ptz.Request // when code is 0
	code ptz.Code
	msg  string
}{
	// XProtect's messages, exactly as its sample sends them.
	{"xprotect ptzMove", `{"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{"direction":"upLeft"}}`,
		ptz.Request{Method: ptz.MethodMove, Direction: ptz.UpLeft}, 0, ""},
	{"xprotect setAux", `{"ApiVersion":"1.0","type":"request","method":"setAux","params":{"on":true,"auxNumber":"1"}}`,
		ptz.Request{Method: ptz.MethodSetAux, Aux: 1, On: true}, 0, ""},
	{"jsonrpc 2.0", `{"jsonrpc":"2.0","type":"request","method":"ptzMove","params":{"direction":"home"}}`,
		ptz.Request{Method: ptz.MethodMove, Direction: ptz.Home}, 0, ""},
	{"no version, no type", `{"method":"ptzMove","params":{"direction":"down"}}`,
		ptz.Request{Method: ptz.MethodMove, Direction: ptz.Down}, 0, ""},

	// Leniency.
	{"names in any case", `{"METHOD":"PTZMOVE","Params":{"Direction":"ZoomIn"}}`,
		ptz.Request{Method: ptz.MethodMove, Direction: ptz.ZoomIn}, 0, ""},
	{"PascalCase direction", `{"method":"ptzMove","params":{"direction":"DownRight"}}`,
		ptz.Request{Method: ptz.MethodMove, Direction: ptz.DownRight}, 0, ""},
	{"stop", `{"method":"ptzmove","params":{"direction":"STOP"}}`,
		ptz.Request{Method: ptz.MethodMove, Direction: ptz.Stop}, 0, ""},
	{"type in another case", `{"type":"Request","method":"ptzStatus"}`,
		ptz.Request{Method: ptz.MethodStatus}, 0, ""},
	{"aux number as a number, on as a string", `{"method":"setAux","params":{"auxNumber":4,"on":"FALSE"}}`,
		ptz.Request{Method: ptz.MethodSetAux, Aux: 4}, 0, ""},
	{"unknown keys ignored", `{"method":"ptzStatus","params":{"x":1},"extra":[1,2]}`,
		ptz.Request{Method: ptz.MethodStatus}, 0, ""},
	{"null params", `{"method":"ptzPresets","params":null}`,
		ptz.Request{Method: ptz.MethodPresets}, 0, ""},
	{"string id", `{"id":"a-1","method":"ptzStatus"}`,
		ptz.Request{ID: json.RawMessage(`"a-1"`), Method: ptz.MethodStatus}, 0, ""},
	{"number id, compacted", `{"id": 7 ,"method":"ptzStatus"}`,
		ptz.Request{ID: json.RawMessage(`7`), Method: ptz.MethodStatus}, 0, ""},
	{"null id", `{"id":null,"method":"ptzStatus"}`,
		ptz.Request{Method: ptz.MethodStatus}, 0, ""},

	// Extensions.
	{"goto preset by token", `{"method":"ptzGotoPreset","params":{"token":"3"}}`,
		ptz.Request{Method: ptz.MethodGotoPreset, Token: "3"}, 0, ""},
	{"goto preset by name", `{"method":"ptzGotoPreset","params":{"name":"Gate"}}`,
		ptz.Request{Method: ptz.MethodGotoPreset, Name: "Gate"}, 0, ""},
	{"set preset", `{"method":"ptzSetPreset","params":{"name":"Door"}}`,
		ptz.Request{Method: ptz.MethodSetPreset, Name: "Door"}, 0, ""},
	{"overwrite preset", `{"method":"ptzSetPreset","params":{"name":"Door","token":"2"}}`,
		ptz.Request{Method: ptz.MethodSetPreset, Name: "Door", Token: "2"}, 0, ""},
	{"remove preset", `{"method":"ptzRemovePreset","params":{"token":"2"}}`,
		ptz.Request{Method: ptz.MethodRemovePreset, Token: "2"}, 0, ""},
	{"absolute", `{"method":"ptzAbsolute","params":{"pan":-1,"tilt":"0.5","zoom":0}}`,
		ptz.Request{Method: ptz.MethodAbsolute, Pan: fp(-1), Tilt: fp(0.5), Zoom: fp(0)}, 0, ""},
	{"absolute zoom only", `{"method":"ptzAbsolute","params":{"zoom":1}}`,
		ptz.Request{Method: ptz.MethodAbsolute, Zoom: fp(1)}, 0, ""},
	{"relative", `{"method":"ptzRelative","params":{"pan":0.1,"zoom":-0.5}}`,
		ptz.Request{Method: ptz.MethodRelative, Pan: fp(0.1), Zoom: fp(-0.5)}, 0, ""},
	{"center", `{"method":"ptzCenter","params":{"x":0.25,"y":"0.75"}}`,
		ptz.Request{Method: ptz.MethodCenter, X: 0.25, Y: 0.75}, 0, ""},
	{"presets", `{"method":"ptzPresets"}`, ptz.Request{Method: ptz.MethodPresets}, 0, ""},

	// The message itself.
	{"not JSON", `{"method":`, ptz.Request{}, ptz.CodeParseError, "request is not valid JSON"},
	{"empty", ``, ptz.Request{}, ptz.CodeParseError, "request is not valid JSON"},
	{"a list", `[1,2]`, ptz.Request{}, ptz.CodeInvalidRequest, "request must be a JSON object"},
	{"a string", `"ptzMove"`, ptz.Request{}, ptz.CodeInvalidRequest, "request must be a JSON object"},
	{"too large", `{"method":"ptzStatus","pad":"` + strings.Repeat("x", 4100) + `"}`, ptz.Request{},
		ptz.CodeInvalidRequest, "request is larger than 4096 bytes"},
	{"no method", `{"type":"request","params":{}}`, ptz.Request{}, ptz.CodeInvalidRequest, "method is required"},
	{"empty method", `{"method":""}`, ptz.Request{}, ptz.CodeInvalidRequest, "method is required"},
	{"method not a string", `{"method":5}`, ptz.Request{}, ptz.CodeInvalidRequest, "method must be a string"},
	{"unknown method", `{"id":1,"method":"ptzFly"}`, ptz.Request{ID: json.RawMessage(`1`), Method: "ptzFly"},
		ptz.CodeMethodNotFound, `method "ptzFly" does not exist`},
	{"long unknown method", `{"method":"` + strings.Repeat("m", 100) + `"}`, ptz.Request{Method: ptz.Method(strings.Repeat("m", 64) + "…")},
		ptz.CodeMethodNotFound, `method "` + strings.Repeat("m", 40) + `…" does not exist`},
	{"bad type", `{"type":"response","method":"ptzStatus"}`, ptz.Request{Method: "ptzStatus"}, ptz.CodeInvalidRequest, `type must be "request"`},
	{"id an object", `{"id":{"a":1},"method":"ptzStatus"}`, ptz.Request{}, ptz.CodeInvalidRequest, "id must be a string or a number"},
	{"id true", `{"id":true,"method":"ptzStatus"}`, ptz.Request{}, ptz.CodeInvalidRequest, "id must be a string or a number"},

	// Params.
	{"params a list", `{"method":"ptzMove","params":[1]}`, ptz.Request{Method: ptz.MethodMove}, ptz.CodeInvalidParams, "params must be an object"},
	{"no direction", `{"method":"ptzMove","params":{}}`, ptz.Request{Method: ptz.MethodMove}, ptz.CodeInvalidParams, "params.direction: is required"},
	{"no params", `{"method":"ptzMove"}`, ptz.Request{Method: ptz.MethodMove}, ptz.CodeInvalidParams, "params.direction: is required"},
	{"direction a number", `{"method":"ptzMove","params":{"direction":3}}`, ptz.Request{Method: ptz.MethodMove}, ptz.CodeInvalidParams,
		"params.direction: must be a string, got a number"},
	{"unknown direction", `{"method":"ptzMove","params":{"direction":"sideways"}}`, ptz.Request{Method: ptz.MethodMove}, ptz.CodeInvalidParams,
		`params.direction: must be one of up, down, left, right, upLeft, upRight, downLeft, downRight, home, zoomIn, zoomOut, stop (got "sideways")`},
	{"aux missing", `{"method":"setAux","params":{"on":true}}`, ptz.Request{Method: ptz.MethodSetAux}, ptz.CodeInvalidParams, "params.auxNumber: is required"},
	{"aux 0", `{"method":"setAux","params":{"auxNumber":"0","on":true}}`, ptz.Request{Method: ptz.MethodSetAux}, ptz.CodeInvalidParams,
		"params.auxNumber: must be a whole number from 1 to 4 (got 0)"},
	{"aux 5", `{"method":"setAux","params":{"auxNumber":5,"on":true}}`, ptz.Request{Method: ptz.MethodSetAux}, ptz.CodeInvalidParams,
		"params.auxNumber: must be a whole number from 1 to 4 (got 5)"},
	{"aux 1.5", `{"method":"setAux","params":{"auxNumber":1.5,"on":true}}`, ptz.Request{Method: ptz.MethodSetAux}, ptz.CodeInvalidParams,
		"params.auxNumber: must be a whole number from 1 to 4 (got 1.5)"},
	{"aux not a number", `{"method":"setAux","params":{"auxNumber":"one","on":true}}`, ptz.Request{Method: ptz.MethodSetAux}, ptz.CodeInvalidParams,
		`params.auxNumber: must be a number (got "one")`},
	{"aux NaN", `{"method":"setAux","params":{"auxNumber":"NaN","on":true}}`, ptz.Request{Method: ptz.MethodSetAux}, ptz.CodeInvalidParams,
		`params.auxNumber: must be a number (got "NaN")`},
	{"on missing", `{"method":"setAux","params":{"auxNumber":"1"}}`, ptz.Request{Method: ptz.MethodSetAux, Aux: 1}, ptz.CodeInvalidParams, "params.on: is required"},
	{"on a number", `{"method":"setAux","params":{"auxNumber":"1","on":1}}`, ptz.Request{Method: ptz.MethodSetAux, Aux: 1}, ptz.CodeInvalidParams,
		"params.on: must be true or false, got a number"},
	{"on yes", `{"method":"setAux","params":{"auxNumber":"1","on":"yes"}}`, ptz.Request{Method: ptz.MethodSetAux, Aux: 1}, ptz.CodeInvalidParams,
		`params.on: must be true or false (got "yes")`},
	{"goto nothing", `{"method":"ptzGotoPreset","params":{}}`, ptz.Request{Method: ptz.MethodGotoPreset}, ptz.CodeInvalidParams,
		"params.token: is required (or params.name)"},
	{"goto long token", `{"method":"ptzGotoPreset","params":{"token":"` + strings.Repeat("t", 65) + `"}}`, ptz.Request{Method: ptz.MethodGotoPreset},
		ptz.CodeInvalidParams, "params.token: must be at most 64 bytes"},
	{"set preset blank name", `{"method":"ptzSetPreset","params":{"name":"  "}}`, ptz.Request{Method: ptz.MethodSetPreset}, ptz.CodeInvalidParams,
		"params.name: must not be empty"},
	{"set preset control character", `{"method":"ptzSetPreset","params":{"name":"a\nb"}}`, ptz.Request{Method: ptz.MethodSetPreset}, ptz.CodeInvalidParams,
		"params.name: must not contain control characters"},
	{"remove no token", `{"method":"ptzRemovePreset","params":{"token":""}}`, ptz.Request{Method: ptz.MethodRemovePreset}, ptz.CodeInvalidParams,
		"params.token: must not be empty"},
	{"absolute nothing", `{"method":"ptzAbsolute","params":{}}`, ptz.Request{Method: ptz.MethodAbsolute}, ptz.CodeInvalidParams,
		"params.pan: is required (or params.tilt or params.zoom)"},
	{"absolute zoom below 0", `{"method":"ptzAbsolute","params":{"zoom":-0.1}}`, ptz.Request{Method: ptz.MethodAbsolute}, ptz.CodeInvalidParams,
		"params.zoom: must be from 0 to 1 (got -0.1)"},
	{"relative pan above 1", `{"method":"ptzRelative","params":{"pan":1e300}}`, ptz.Request{Method: ptz.MethodRelative}, ptz.CodeInvalidParams,
		"params.pan: must be from -1 to 1 (got 1e+300)"},
	{"relative tilt a list", `{"method":"ptzRelative","params":{"tilt":[1]}}`, ptz.Request{Method: ptz.MethodRelative}, ptz.CodeInvalidParams,
		"params.tilt: must be a number, got a list"},
	{"center without y", `{"method":"ptzCenter","params":{"x":0.5}}`, ptz.Request{Method: ptz.MethodCenter, X: 0.5}, ptz.CodeInvalidParams,
		"params.y: is required"},
	{"center outside", `{"method":"ptzCenter","params":{"x":1.5,"y":0.5}}`, ptz.Request{Method: ptz.MethodCenter}, ptz.CodeInvalidParams,
		"params.x: must be from 0 to 1 (got 1.5)"},
	{"center infinity", `{"method":"ptzCenter","params":{"x":"Inf","y":0.5}}`, ptz.Request{Method: ptz.MethodCenter}, ptz.CodeInvalidParams,
		`params.x: must be a number (got "Inf")`},
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signaling.DecodePTZRequest([]byte(tc.in))
			if tc.code == 0 {
				if err != nil {
					t.Fatalf("error %v", err)
				}
			} else {
				var pe *ptz.Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %v, want code %s", err, tc.code)
				}
				if pe.Code != tc.code || pe.Message != tc.msg {
					t.Fatalf("error %s %q\nwant  %s %q", pe.Code, pe.Message, tc.code, tc.msg)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("request %+v\nwant    %+v", got, tc.want)
			}
		})
	}
}

// TestRequestRoundTrip: EncodePTZRequest writes what DecodePTZRequest reads
// back.
func TestRequestRoundTrip(t *testing.T) {
	for _, tc := range decodeCases {
		if tc.code != 0 {
			continue
		}
		b, err := signaling.EncodePTZRequest(tc.want)
		if err != nil {
			t.Fatal(err)
		}
		back, err := signaling.DecodePTZRequest(b)
		if err != nil || !reflect.DeepEqual(back, tc.want) {
			t.Errorf("%s: %s decoded to %+v, %v", tc.name, b, back, err)
		}
	}
	b, _ := signaling.EncodePTZRequest(ptz.Request{Method: ptz.MethodSetAux, Aux: 1, On: true})
	if string(b) != `{"ApiVersion":"1.0","type":"request","method":"setAux","params":{"auxNumber":"1","on":true}}` {
		t.Errorf("wire form %s", b)
	}
}

func TestNewRequest(t *testing.T) {
	r, err := signaling.NewPTZRequest("PTZGOTOPRESET", []byte(`{"Name":"Gate"}`))
	if err != nil || r.Method != ptz.MethodGotoPreset || r.Name != "Gate" {
		t.Errorf("%+v %v", r, err)
	}
	var pe *ptz.Error
	for in, code := range map[string]ptz.Code{"nope": ptz.CodeMethodNotFound} {
		if _, err := signaling.NewPTZRequest(in, nil); !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: %v", in, err)
		}
	}
	if _, err := signaling.NewPTZRequest("ptzMove", []byte(`{"direction":`)); !errors.As(err, &pe) || pe.Code != ptz.CodeParseError {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestEncodeReply(t *testing.T) {
	req := ptz.Request{ID: json.RawMessage(`"x1"`), Method: ptz.MethodMove}
	cases := []struct {
		name   string
		req    ptz.Request
		result any
		err    error
		want   string
	}{
		{"result", req, ptz.MoveResult{Direction: ptz.Left, NudgeMs: 400}, nil,
			`{"type":"response","method":"ptzMove","id":"x1","result":{"direction":"left","nudgeMs":400}}`},
		{"no id, nil result", ptz.Request{Method: ptz.MethodSetAux}, nil, nil,
			`{"type":"response","method":"setAux","result":{}}`},
		{"busy", req, nil, &ptz.Error{Code: ptz.CodeBusy, Message: "another session controls this camera", RetryAfter: 4200e6}, `{"type":"response","method":"ptzMove","id":"x1",` +
			`"error":{"code":-32001,"message":"another session controls this camera","data":{"reason":"busy","retryAfterMs":4200}}}`},
		{"undecodable", ptz.Request{}, nil, &ptz.Error{Code: ptz.CodeParseError, Message: "request is not valid JSON"},
			`{"type":"response","error":{"code":-32700,"message":"request is not valid JSON","data":{"reason":"parse_error"}}}`},
		{"a driver fault", req, nil, fault{"ter:InvalidArgVal"}, `{"type":"response","method":"ptzMove","id":"x1",` +
			`"error":{"code":-32004,"message":"ptzMove: the camera reported an error (ter:InvalidArgVal)","data":{"reason":"camera_fault","fault":"ter:InvalidArgVal"}}}`},
		{"a bare error", req, nil, errors.New("dial tcp 192.0.2.1:80: connection refused"), `{"type":"response","method":"ptzMove","id":"x1",` +
			`"error":{"code":-32007,"message":"ptzMove: the camera could not be reached","data":{"reason":"unavailable"}}}`},
		{"forbidden", req, nil, ptz.ErrForbidden, `{"type":"response","method":"ptzMove","id":"x1",` +
			`"error":{"code":-32008,"message":"you may not steer this camera (no ptz right)","data":{"reason":"forbidden"}}}`},
		{"unmarshalable result", req, func() {}, nil, `{"type":"response","method":"ptzMove","id":"x1",` +
			`"error":{"code":-32603,"message":"internal error","data":{"reason":"internal"}}}`},
	}
	for _, tc := range cases {
		if got := string(signaling.EncodePTZReply(tc.req, tc.result, tc.err)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := signaling.DecodePTZRequest(b)
		reply := signaling.EncodePTZReply(req, nil, err)
		if !json.Valid(reply) {
			t.Fatalf("reply is not JSON: %s", reply)
		}
		if err != nil {
			var pe *ptz.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ptz.Error", err)
			}
			if pe.Code > -32000 && pe.Code != ptz.CodeMethodNotFound && pe.Code != ptz.CodeInvalidRequest {
				if pe.Code != ptz.CodeParseError && pe.Code != ptz.CodeInvalidParams {
					t.Fatalf("unexpected code %s", pe.Code)
				}
			}
			if len(pe.Message) > 400 || strings.ContainsAny(pe.Message, "\n\r") || !utf8.ValidString(pe.Message) {
				t.Fatalf("message too long, on several lines or not UTF-8: %q", pe.Message)
			}
			if len(req.Method) > 70 || len(req.ID) > len(b) {
				t.Fatalf("echo too long: %q", req.Method)
			}
			return
		}
		// A request that decodes encodes and decodes to itself.
		wire, err := signaling.EncodePTZRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		back, err := signaling.DecodePTZRequest(wire)
		if err != nil {
			t.Fatalf("%s: %v", wire, err)
		}
		if !reflect.DeepEqual(back, req) {
			t.Fatalf("round trip %s:\n got %+v\nwant %+v", wire, back, req)
		}
		if req.ID != nil && !bytes.Contains(reply, req.ID) {
			t.Fatalf("reply %s does not echo id %s", reply, req.ID)
		}
	})
}

// fault is a driver error carrying the camera's fault code.
type fault struct{ code string }

func (f fault) Error() string     { return "fault " + f.code }
func (f fault) FaultCode() string { return f.code }
func (f fault) Unwrap() error     { return ptz.ErrCameraFault }
