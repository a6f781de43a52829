package signaling

import "github.com/camgate/camgate/gateway/rtc"

// wsCameraStateParams are the params of a "cameraState" notification on
// the WebSocket: the data channel event's, the session's id, and a
// message for the XProtect sample, which prints params.message of any
// notification it does not know.
type wsCameraStateParams struct {
	Session string `json:"session"`
	cameraStateEvent
	Message string `json:"message"`
}

func cameraStateNotification(session string, e rtc.CameraStateEvent) rpcOut {
	ev := cameraStateJSON(e)
	msg := "camera " + ev.CameraID + " is " + ev.State
	if ev.Reason != "" {
		msg += ": " + ev.Reason
	}
	return rpcOut{JSONRPC: "2.0", Method: "cameraState", Params: wsCameraStateParams{Session: session, cameraStateEvent: ev, Message: msg}}
}
