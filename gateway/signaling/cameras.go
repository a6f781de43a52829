package signaling

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
)

// The cameras resource in the shape of XProtect's Configuration REST API
// (docs/api.md, "Cameras"): GET /API/rest/v1/cameras answers
// {"array":[camera,…]} and GET /API/rest/v1/cameras/{id} {"data":camera},
// because Milestone's own REST samples read exactly those envelopes. A
// camera carries XProtect's members first and camgate's own (state, cause,
// reason, detail, since, streams, ptz) as extra members of the same object:
// XProtect clients ignore members they do not know, and camgate's console
// keeps one route.

// cameraJSON is a camera as both routes show it.
type cameraJSON struct {
	xprotectCameraJSON
	stateJSON
	Streams []streamJSON `json:"streams"`
	// PTZ: the camera has PTZ control (GET …/cameras/{id}/ptz tells more).
	PTZ bool `json:"ptz"`
}

// xprotectCameraJSON holds the members of an XProtect camera that
// official clients read (id, displayName, name, enabled, description,
// lastModified, channel) and those camgate can answer truly; recording and
// hardware members are left out rather than made up.
type xprotectCameraJSON struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	Name        string `json:"name"`
	// Enabled: every configured camera is; XProtect lists disabled ones
	// only on ?disabled, and camgate has none.
	Enabled     bool   `json:"enabled"`
	Description string `json:"description"`
	Channel     int    `json:"channel"`
	// CreatedDate and LastModified are when camgate read the camera from
	// its settings, in .NET's round-trip form, as XProtect writes times.
	CreatedDate  string                `json:"createdDate"`
	LastModified string                `json:"lastModified"`
	GisPoint     string                `json:"gisPoint"`
	PTZEnabled   bool                  `json:"ptzEnabled"`
	Relations    xprotectRelationsJSON `json:"relations"`
}

type xprotectRelationsJSON struct {
	Self xprotectRefJSON `json:"self"`
}

type xprotectRefJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// dotNetTime is .NET's round-trip time form, which XProtect emits:
// 2025-10-27T15:03:52.8070000Z.
const dotNetTime = "2006-01-02T15:04:05.0000000Z"

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

// cameraOf is cam as the API shows it. A camera's state is its default
// stream's.
func (a *API) cameraOf(cam *cameras.Camera) cameraJSON {
	hasPTZ := rtc.PTZController(a.ptz, cam.ID) != nil
	when := a.configured.Format(dotNetTime)
	cj := cameraJSON{
		xprotectCameraJSON: xprotectCameraJSON{
			ID: cam.ID, DisplayName: cam.Name, Name: cam.Name, Enabled: true,
			CreatedDate: when, LastModified: when, GisPoint: "POINT EMPTY", PTZEnabled: hasPTZ,
			Relations: xprotectRelationsJSON{Self: xprotectRefJSON{Type: "cameras", ID: cam.ID}},
		},
		Streams: []streamJSON{}, PTZ: hasPTZ,
	}
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
	return cj
}

// GetCameras lists the cameras the caller has any right on, with their
// state: GET /API/rest/v1/cameras, {"array":[…]} as XProtect answers it.
func (a *API) GetCameras(c *gin.Context) {
	out := []cameraJSON{}
	p := PrincipalOf(c)
	for _, cam := range a.cameras.Cameras() {
		if !p.CanSee(cam.ID) {
			continue // a caller learns only of cameras it has a right on
		}
		out = append(out, a.cameraOf(cam))
	}
	c.JSON(http.StatusOK, gin.H{"array": out})
}

// GetCamera answers GET /API/rest/v1/cameras/{id}: {"data":camera}. A
// camera the caller has no right on is a 404 like one that does not exist,
// as the list does not show it either.
func (a *API) GetCamera(c *gin.Context) {
	cam, ok := a.cameras.Camera(c.Param("id"))
	if !ok || !PrincipalOf(c).CanSee(cam.ID) {
		WriteError(c, Errorf(http.StatusNotFound, "camera %s does not exist", errtext.Quote(c.Param("id"), 64)))
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": a.cameraOf(cam)})
}
