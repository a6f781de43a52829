package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/gateway/internal/errtext"
)

// maxBodyBytes bounds every request body; larger bodies get 413.
const maxBodyBytes = 1 << 20

// sessionRequest is the body of POST …/WebRTC/Session, bound leniently: see
// flexjson.go, and signalingtest/cases.go for what real clients send.
type sessionRequest struct {
	DeviceID         flexString        `json:"deviceId"`
	CameraID         flexString        `json:"cameraId"` // deprecated alias of deviceId
	StreamID         flexString        `json:"streamId"`
	IncludeAudio     flexBool          `json:"includeAudio"`
	PlaybackTimeNode *playbackTimeNode `json:"playbackTimeNode"`
	IceServers       []iceServerJSON   `json:"iceServers"`
	// ClientProfile overrides the client profile camgate would choose
	// (docs/clients.md): auto, browser, relay or whep.
	ClientProfile flexString `json:"clientProfile"`
	// SessionID is only read by the legacy PUT /Session alias.
	SessionID flexString `json:"sessionId"`
	// AnswerSDP and Token are the fields of a PATCH.
	AnswerSDP *flexString `json:"answerSDP"`
	Token     *flexString `json:"token"`
}

// device returns the requested device: deviceId, or its alias cameraId.
func (r *sessionRequest) device() string {
	if d := strings.TrimSpace(string(r.DeviceID)); d != "" {
		return d
	}
	return strings.TrimSpace(string(r.CameraID))
}

// playbackTimeNode asks for recorded video. {} or an empty playbackTime means
// live (go2rtc and the XProtect sample both send that for live).
type playbackTimeNode struct {
	PlaybackTime flexString `json:"playbackTime"`
	SkipGaps     flexBool   `json:"skipGaps"`
	Speed        flexFloat  `json:"speed"`
}

func (p *playbackTimeNode) isLive() bool {
	return p == nil || strings.TrimSpace(string(p.PlaybackTime)) == ""
}

// iceServerJSON is one STUN/TURN server of a request. Entries come as
// {"url": …} (REST sample), {"urls": "…"} (WebSocket sample), {"urls": […]}
// (ONVIF) or, from old go2rtc, a bare string.
type iceServerJSON struct {
	URLs       []string
	Username   string
	Credential string
}

func (s *iceServerJSON) UnmarshalJSON(b []byte) error {
	var url string
	if err := json.Unmarshal(b, &url); err == nil {
		*s = iceServerJSON{URLs: []string{url}}
		return nil
	}
	var raw struct {
		URL        flexStrings `json:"url"`
		URLs       flexStrings `json:"urls"`
		Username   flexString  `json:"username"`
		Credential flexString  `json:"credential"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	urls := []string(raw.URLs)
	if len(urls) == 0 {
		urls = raw.URL
	}
	*s = iceServerJSON{URLs: urls, Username: string(raw.Username), Credential: string(raw.Credential)}
	return nil
}

// candidatesRequest is the body of POST …/IceCandidates/{id}.
type candidatesRequest struct {
	Candidates []string `json:"candidates"`
}

// bindJSON decodes a JSON body into dst with the body limit, answering the
// client's mistakes as 400 or 413 errors that say what was wrong.
func bindJSON(c *gin.Context, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxBodyBytes)
		}
		return Errorf(http.StatusBadRequest, "could not read the request body")
	}
	return decodeJSON(body, dst)
}

// decodeJSON is bindJSON's parser, shared with the fuzz targets.
func decodeJSON(body []byte, dst any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return Errorf(http.StatusBadRequest, "request body is empty; a JSON object is required")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return Errorf(http.StatusBadRequest, "request body is not valid: %s", describeJSONError(err))
	}
	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		// encoding/json quotes a number that does not fit in full.
		got := errtext.Truncate(typ.Value, 40)
		field := typ.Field
		if field == "" {
			return fmt.Sprintf("want %s, got %s", wantOf(typ.Type), got)
		}
		return fmt.Sprintf("field %q: want %s, got %s", field, wantOf(typ.Type), got)
	default:
		return err.Error()
	}
}

// wantOf names what a type accepts in the client's terms (JSON, not Go).
func wantOf(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[flexString]():
		return "a string"
	case reflect.TypeFor[flexBool]():
		return "true or false"
	case reflect.TypeFor[flexFloat]():
		return "a number"
	case reflect.TypeFor[flexStrings]():
		return "a string or a list of strings"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.Kind().String()
}
