package rtc

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/camgate/camgate/cameras"
)

// Only news reaches the viewer: a start while the camera connects or
// streams is not news, every change after it is, and a hook set later gets
// the last event at once.
func TestCameraStateRelaySendsNews(t *testing.T) {
	t.Parallel()
	st := func(state cameras.State, cause cameras.Cause, reason string) cameras.Status {
		return cameras.Status{State: state, Cause: cause, Reason: reason, Since: time.Now()}
	}
	for _, tc := range []struct {
		name string
		in   []cameras.Status
		want []string // states of the events sent
	}{
		{"a start while connecting, then streaming", []cameras.Status{
			st(cameras.StateConnecting, "", ""), st(cameras.StateStreaming, "", ""),
		}, nil},
		{"a flap", []cameras.Status{
			st(cameras.StateStreaming, "", ""),
			st(cameras.StateReconnecting, cameras.CauseEnded, "the camera ended the stream"),
			st(cameras.StateOffline, cameras.CauseRefused, "the camera refused the connection"),
			st(cameras.StateOffline, cameras.CauseUnreachable, "the camera does not answer"),
			st(cameras.StateStreaming, "", ""),
		}, []string{"reconnecting", "offline", "offline", "streaming"}},
		{"a start while offline", []cameras.Status{
			st(cameras.StateOffline, cameras.CauseUnauthorized, "wrong user name or password"),
		}, []string{"offline"}},
		{"a camera that never connected", []cameras.Status{
			st(cameras.StateConnecting, "", ""),
			st(cameras.StateOffline, cameras.CauseRefused, "the camera refused the connection"),
			st(cameras.StateStreaming, "", ""),
		}, []string{"offline", "streaming"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &cameraStateRelay{events: newCommandEvents(testCodec{}), told: cameras.Status{State: cameras.StateStreaming}}
			r.ids.camera, r.ids.stream = "cam", "stream"
			for _, s := range tc.in {
				r.changed(s)
			}
			var got []string
			for _, b := range r.events.backlog {
				var m struct {
					Type   string           `json:"type"`
					Event  string           `json:"event"`
					Params CameraStateEvent `json:"params"`
				}
				if err := json.Unmarshal(b, &m); err != nil || m.Type != "event" || m.Event != "cameraState" || m.Params.CameraID != "cam" {
					t.Fatalf("message %s is not a cameraState event of the camera", b)
				}
				if (m.Params.State == "streaming") != (m.Params.Reason == "") {
					t.Fatalf("event %s: a reason goes with every state but streaming", b)
				}
				got = append(got, m.Params.State)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("events %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("events %v, want %v", got, tc.want)
				}
			}
			var hooked []CameraStateEvent
			s := &Session{}
			s.camState.events, s.camState.last = r.events, r.last
			s.OnCameraState(func(ev CameraStateEvent) { hooked = append(hooked, ev) })
			if (len(tc.want) > 0) != (len(hooked) == 1) || len(hooked) == 1 && hooked[0].State != tc.want[len(tc.want)-1] {
				t.Fatalf("a hook set later got %+v, want the last event", hooked)
			}
		})
	}
}
