package signaling

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/rtc"
)

type cameraJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	stateJSON
	Streams []streamJSON `json:"streams"`
	// PTZ: the camera has PTZ control (GET …/cameras/{id}/ptz tells more).
	PTZ bool `json:"ptz"`
}

type streamJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
	stateJSON
	Viewers int `json:"viewers"`
}

// stateJSON is a stream's state as the API shows it (docs/cameras.md,
// "Camera states"): cause and reason while it is not streaming, and the
// library's own text of the failure in detail (never with credentials).
type stateJSON struct {
	State  string    `json:"state"`
	Cause  string    `json:"cause,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
}

func stateOf(st cameras.Status) stateJSON {
	return stateJSON{State: string(st.State), Cause: string(st.Cause), Reason: st.Reason, Detail: st.Detail, Since: st.Since}
}

// GetCameras lists the cameras the caller has any right on, with their
// state: GET /API/rest/v1/cameras (camgate's own endpoint). A camera's state
// is its default stream's.
func (a *API) GetCameras(c *gin.Context) {
	out := []cameraJSON{}
	p := PrincipalOf(c)
	for _, cam := range a.cameras.Cameras() {
		if !p.CanSee(cam.ID) {
			continue // a caller learns only of cameras it has a right on
		}
		cj := cameraJSON{ID: cam.ID, Name: cam.Name, Streams: []streamJSON{}, PTZ: rtc.PTZController(a.ptz, cam.ID) != nil}
		for _, s := range cam.Streams {
			sj := streamJSON{
				ID: s.ID, Name: s.Name, Default: s.Default,
				stateJSON: stateOf(s.Status()),
				Viewers:   s.Hub.Stats().Readers,
			}
			cj.Streams = append(cj.Streams, sj)
			if s.Default {
				cj.stateJSON = sj.stateJSON
			}
		}
		out = append(out, cj)
	}
	c.JSON(http.StatusOK, gin.H{"cameras": out})
}
