package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/ptz"
)

// PTZ reaches the gateway two ways: the commands data channel of a WebRTC
// session (datachannel.go) and REST for tools that are not WebRTC clients:
//
//	GET  /API/rest/v1/cameras/{id}/ptz               capabilities, status, presets
//	POST /API/rest/v1/cameras/{id}/ptz/{operation}   body = params, answer = the reply
//
// Both check rights the same way (rtc.PTZRefusal) and hand requests to the
// camera's ptz.Controller, which serializes, rate-limits and leases.

// restPTZTimeout bounds how long a REST request waits for the camera. The
// ONVIF driver gives up on a call after 3 s; the rest is slack.
const restPTZTimeout = 5 * time.Second

// restPTZSession is the session id a REST caller steers under: stable per
// user, so that its commands keep the control lease across requests (and
// two tools of one user share it).
func restPTZSession(p *oauth.Principal) string {
	if p == nil {
		return "rest:"
	}
	return "rest:" + p.Issuer + "#" + p.Subject
}

// ptzGeometryJSON is ptz.Geometry for the page, in degrees.
type ptzGeometryJSON struct {
	PanDegrees    float64 `json:"panDegrees"`
	TiltDegrees   float64 `json:"tiltDegrees"`
	HorizontalFov float64 `json:"horizontalFov"`
	VerticalFov   float64 `json:"verticalFov"`
	ZoomRatio     float64 `json:"zoomRatio"`
}

// geometryJSON is a controller's geometry for the page.
func geometryJSON(g ptz.Geometry) ptzGeometryJSON {
	return ptzGeometryJSON{PanDegrees: g.PanDegrees, TiltDegrees: g.TiltDegrees,
		HorizontalFov: g.HorizontalFov, VerticalFov: g.VerticalFov, ZoomRatio: g.ZoomRatio}
}

// ptzInfoJSON answers GET …/cameras/{id}/ptz.
type ptzInfoJSON struct {
	CameraID string `json:"cameraId"`
	// Driver is "onvif" or "simulated" (the page moves the picture itself
	// for a simulated camera, which has no real head).
	Driver string `json:"driver"`
	// MayControl: the caller has the ptz right, so commands other than
	// ptzStatus and ptzPresets are not refused as forbidden.
	MayControl   bool             `json:"mayControl"`
	Capabilities ptz.Capabilities `json:"capabilities"`
	Geometry     ptzGeometryJSON  `json:"geometry"`
	// Status and Presets are the answers to ptzStatus and ptzPresets when
	// the camera supports them and answered.
	Status  *ptz.StatusResult `json:"status,omitempty"`
	Presets []ptz.Preset      `json:"presets,omitempty"`
	// Errors are the error replies of those two requests, as the data
	// channel would send them; absent when both worked.
	Errors []json.RawMessage `json:"errors,omitempty"`
}

// ptzCamera resolves the camera of a REST PTZ request: 404 when it does not
// exist. The controller is nil when the camera has no PTZ.
func (a *API) ptzCamera(c *gin.Context) (string, *ptz.Controller, error) {
	cam, ok := a.cameras.Camera(c.Param("id"))
	if !ok {
		return "", nil, Errorf(http.StatusNotFound, "camera %s does not exist", errtext.Quote(c.Param("id"), 64))
	}
	return cam.ID, rtc.PTZController(a.ptz, cam.ID), nil
}

// GetPTZ answers GET /API/rest/v1/cameras/{id}/ptz: what the camera's PTZ
// can do, where it points and its presets. It needs the live or the ptz
// right (403); a camera without PTZ is a 404.
func (a *API) GetPTZ(c *gin.Context) {
	camID, ctrl, err := a.ptzCamera(c)
	if err != nil {
		WriteError(c, err)
		return
	}
	p := PrincipalOf(c)
	if e := rtc.PTZRefusal(OwnerOf(p), ptz.MethodStatus, camID, time.Now()); e != nil {
		WriteError(c, Errorf(http.StatusForbidden, "%s has no live or ptz right on camera %s", Caller(p), camID))
		return
	}
	if ctrl == nil {
		WriteError(c, Errorf(http.StatusNotFound, "camera %s has no PTZ control", camID))
		return
	}
	cfg := ctrl.Config()
	out := ptzInfoJSON{
		CameraID: camID, Driver: cfg.Driver,
		MayControl:   rtc.PTZRefusal(OwnerOf(p), ptz.MethodMove, camID, time.Now()) == nil,
		Capabilities: ctrl.Capabilities(), Geometry: geometryJSON(cfg.Geometry),
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), restPTZTimeout)
	defer cancel()
	for _, m := range []ptz.Method{ptz.MethodStatus, ptz.MethodPresets} {
		if m == ptz.MethodStatus && !out.Capabilities.Status || m == ptz.MethodPresets && !out.Capabilities.Presets {
			continue
		}
		req := ptz.Request{Method: m}
		v, err := ctrl.Do(ctx, restPTZSession(p), req)
		a.metrics.PTZCall(m, err)
		switch v := v.(type) {
		case ptz.StatusResult:
			out.Status = &v
		case ptz.PresetsResult:
			out.Presets = v.Presets
		}
		if err != nil {
			out.Errors = append(out.Errors, EncodePTZReply(req, nil, err))
		}
	}
	c.JSON(http.StatusOK, out)
}

// PostPTZ answers POST /API/rest/v1/cameras/{id}/ptz/{operation}: the
// operation is a data-channel method (ptzMove, setAux, ptzGotoPreset, …,
// in any case), the body its params object (empty for none), and the
// answer the reply the data channel would send, with the HTTP status of
// its error code (ptzStatus: 403 forbidden, 409 busy, …). The
// checks run in this order: the camera exists (404, the API's error
// shape), the method exists (404), the caller's right (403), the camera
// has PTZ (503), the params (400). Commands run under one session per user
// (restPTZSession), which keeps the control lease between requests.
func (a *API) PostPTZ(c *gin.Context) {
	camID, ctrl, err := a.ptzCamera(c)
	if err != nil {
		WriteError(c, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxPTZRequestBytes+1))
	if err != nil {
		WriteError(c, Errorf(http.StatusBadRequest, "could not read the request body"))
		return
	}
	p := PrincipalOf(c)
	req, err := NewPTZRequest(c.Param("operation"), body)
	var pe *ptz.Error
	var res any
	switch refused := rtc.PTZRefusal(OwnerOf(p), req.Method, camID, time.Now()); {
	case errors.As(err, &pe) && pe.Code == ptz.CodeMethodNotFound:
	case refused != nil:
		err = refused
	case ctrl == nil:
		err = ptz.ErrNoPTZ
	case err != nil:
	default:
		ctx, cancel := context.WithTimeout(c.Request.Context(), restPTZTimeout)
		defer cancel()
		res, err = ctrl.Do(ctx, restPTZSession(p), req)
	}
	a.metrics.PTZCall(req.Method, err)
	status := http.StatusOK
	if err != nil {
		status = ptzStatus(ptz.AsError(string(req.Method), err).Code)
	}
	c.Data(status, "application/json; charset=utf-8", EncodePTZReply(req, res, err))
}
