package gateway

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

type cameraJSON struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	State     string       `json:"state"`
	LastError string       `json:"lastError,omitempty"`
	Since     time.Time    `json:"since"`
	Streams   []streamJSON `json:"streams"`
	// PTZ: the camera has PTZ control (GET …/cameras/{id}/ptz tells more).
	PTZ bool `json:"ptz"`
}

type streamJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Default   bool      `json:"default"`
	State     string    `json:"state"`
	LastError string    `json:"lastError,omitempty"`
	Since     time.Time `json:"since"`
	Viewers   int       `json:"viewers"`
}

// getCameras lists the cameras the caller has any right on, with their
// state: GET /API/rest/v1/cameras (camgate's own endpoint). A camera's state
// is its default stream's.
func (g *Gateway) getCameras(c *gin.Context) {
	out := []cameraJSON{}
	p := principalOf(c)
	for _, cam := range g.cameras.Cameras() {
		if !p.CanSee(cam.ID) {
			continue // a caller learns only of cameras it has a right on
		}
		cj := cameraJSON{ID: cam.ID, Name: cam.Name, Streams: []streamJSON{}, PTZ: ptzController(g.ptz, cam.ID) != nil}
		for _, s := range cam.Streams {
			st := s.Status()
			sj := streamJSON{
				ID: s.ID, Name: s.Name, Default: s.Default,
				State: string(st.State), LastError: st.LastError, Since: st.Since,
				Viewers: s.Hub.Stats().Readers,
			}
			cj.Streams = append(cj.Streams, sj)
			if s.Default {
				cj.State, cj.LastError, cj.Since = sj.State, sj.LastError, sj.Since
			}
		}
		out = append(out, cj)
	}
	c.JSON(http.StatusOK, gin.H{"cameras": out})
}
