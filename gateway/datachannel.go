package gateway

import (
	"encoding/json"

	"github.com/pion/webrtc/v4"
)

// commandsProtocol is the subprotocol of the data channel XProtect clients
// open for PTZ and aux commands.
const commandsProtocol = "videoos-commands"

// maxCommandBytes bounds a data-channel request.
const maxCommandBytes = 4096

// onDataChannel accepts the client's "videoos-commands" channel and closes
// any other, as ONVIF prescribes for subprotocols that were not agreed.
func (s *Session) onDataChannel(dc *webrtc.DataChannel) {
	if dc.Protocol() != commandsProtocol {
		s.log.Info("closing data channel with unknown protocol", "label", dc.Label(), "protocol", dc.Protocol())
		_ = dc.Close()
		return
	}
	dc.OnMessage(func(msg webrtc.DataChannelMessage) {
		reply := commandReply(msg)
		if reply != nil {
			_ = dc.SendText(string(reply))
		}
	})
}

// commandRequest is a request on the commands channel. XProtect sends
// {"ApiVersion":"1.0","type":"request","method":"ptzMove","params":{…}};
// later versions put "jsonrpc":"2.0" in place of ApiVersion.
type commandRequest struct {
	Type   string          `json:"type"`
	Method string          `json:"method"`
	ID     json.RawMessage `json:"id"`
	Params json.RawMessage `json:"params"`
}

type commandResponse struct {
	Type   string          `json:"type"`
	Method string          `json:"method,omitempty"`
	ID     json.RawMessage `json:"id,omitempty"`
	Error  *commandError   `json:"error,omitempty"`
}

type commandError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// commandReply answers every request. PTZ is not routed yet, so each method
// gets an error that says so; the channel stays open.
func commandReply(msg webrtc.DataChannelMessage) []byte {
	resp := commandResponse{Type: "response"}
	var req commandRequest
	switch {
	case len(msg.Data) > maxCommandBytes:
		resp.Error = &commandError{Code: -32600, Message: "request is larger than 4096 bytes"}
	case json.Unmarshal(msg.Data, &req) != nil:
		resp.Error = &commandError{Code: -32700, Message: "request is not valid JSON"}
	default:
		resp.Method, resp.ID = req.Method, req.ID
		resp.Error = &commandError{Code: -32601, Message: "method " + truncate(req.Method, 64) + " is not available: this camera has no PTZ control"}
	}
	b, _ := json.Marshal(resp)
	return b
}
