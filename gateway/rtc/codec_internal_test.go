package rtc

import (
	"encoding/json"

	"github.com/camgate/camgate/ptz"
)

// testCodec stands in for signaling's wire format in rtc's own tests: an
// event is {"type":"event","event":name,"params":the event's fields}.
type testCodec struct{}

func (testCodec) DecodeRequest(msg []byte) (ptz.Request, error) {
	var r ptz.Request
	if err := json.Unmarshal(msg, &r); err != nil {
		return r, &ptz.Error{Code: ptz.CodeParseError, Message: err.Error()}
	}
	return r, nil
}

func (testCodec) EncodeReply(req ptz.Request, result any, err error) []byte {
	b, _ := json.Marshal(map[string]any{"method": req.Method, "result": result, "error": err})
	return b
}

func (testCodec) EncodeEvent(e Event) []byte {
	b, _ := json.Marshal(map[string]any{"type": "event", "event": e.EventName(), "params": e})
	return b
}
