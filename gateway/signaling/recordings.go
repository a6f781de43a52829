package signaling

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway/internal/errtext"
	"github.com/camgate/camgate/gateway/rtc"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/playback"
)

// The recordings of a camera over REST, for timelines and downloads:
//
//	GET /API/rest/v1/cameras/{id}/recordings?from=&to=            recorded spans (playback right)
//	GET /API/rest/v1/cameras/{id}/recordings/export?start=&duration=   an MP4 file (export right)
//
// Both read the recording store; its typed errors map to statuses in
// errors.go.

// defaultSpansWindow is how far back GET …/recordings looks without from.
const defaultSpansWindow = 24 * time.Hour

type spanJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type spansResponse struct {
	CameraID string     `json:"cameraId"`
	From     string     `json:"from"`
	To       string     `json:"to"`
	Spans    []spanJSON `json:"spans"`
}

// recordingCamera resolves the camera of a recordings request and checks
// the caller's right on it: 404 for an unknown camera, 403 without the
// right, 501 without a store.
func (a *API) recordingCamera(c *gin.Context, right oauth.Right) (*cameras.Camera, error) {
	id := c.Param("id")
	cam, ok := a.cameras.Camera(id)
	if !ok {
		return nil, rtc.Errorf(rtc.NotFound, "camera %s does not exist", errtext.Quote(id, 64))
	}
	if p := PrincipalOf(c); !p.Can(right, cam.ID) {
		// rtc.Right names this right only for the error text: rtc
		// checks no export right itself.
		return nil, rtc.NoRight(OwnerOf(p), rtc.Right(right), cam.ID)
	}
	if a.store == nil {
		return nil, rtc.Errorf(rtc.NotImplemented, "recordings are not available: this gateway runs without a recording store")
	}
	return cam, nil
}

// queryTime reads an ISO 8601 time parameter; def is used when it is
// absent or empty.
func queryTime(c *gin.Context, name string, def time.Time) (time.Time, error) {
	raw := strings.TrimSpace(c.Query(name))
	if raw == "" {
		return def, nil
	}
	t, err := parseISOTime(raw)
	if err != nil {
		return time.Time{}, Errorf(http.StatusBadRequest, "%s: %s", name, err)
	}
	return t, nil
}

// GetRecordings answers the recorded spans of a camera between from and to
// (default: the last 24 hours), clipped to them, oldest first. Recordings
// less than a second apart are one span.
func (a *API) GetRecordings(c *gin.Context) {
	cam, err := a.recordingCamera(c, oauth.RightPlayback)
	if err != nil {
		WriteError(c, err)
		return
	}
	now := time.Now()
	to, err := queryTime(c, "to", now)
	if err != nil {
		WriteError(c, err)
		return
	}
	from, err := queryTime(c, "from", to.Add(-defaultSpansWindow))
	if err != nil {
		WriteError(c, err)
		return
	}
	if !to.After(from) {
		WriteError(c, Errorf(http.StatusBadRequest, "to (%s) must be after from (%s)", formatTime(to), formatTime(from)))
		return
	}
	spans, err := a.store.Spans(c.Request.Context(), cam.ID, from, to)
	if err != nil {
		WriteError(c, a.storeError(err, "recordings"))
		return
	}
	out := spansResponse{CameraID: cam.ID, From: formatTime(from), To: formatTime(to), Spans: make([]spanJSON, 0, len(spans))}
	for _, s := range spans {
		out.Spans = append(out.Spans, spanJSON{Start: formatTime(s.Start), End: formatTime(s.End)})
	}
	c.JSON(http.StatusOK, out)
}

// GetRecordingExport answers a standalone MP4 (progressive: moov before
// mdat) of the camera's recording from start for duration, as a download.
// Everything is checked before the first byte, so a bad request still gets
// a JSON error.
func (a *API) GetRecordingExport(c *gin.Context) {
	cam, err := a.recordingCamera(c, oauth.RightExport)
	if err != nil {
		WriteError(c, err)
		return
	}
	if strings.TrimSpace(c.Query("start")) == "" {
		WriteError(c, Errorf(http.StatusBadRequest, "start is required: an ISO 8601 time such as 2024-05-01T10:00:00Z"))
		return
	}
	start, err := queryTime(c, "start", time.Time{})
	if err != nil {
		WriteError(c, err)
		return
	}
	duration, err := parseDurationParam(c.Query("duration"))
	if err != nil {
		WriteError(c, err)
		return
	}
	name := fmt.Sprintf("%s_%s.mp4", appsettings.KeyOf(cam.ID), start.UTC().Format("20060102T150405Z"))
	// A download outlives Http.WriteTimeout: it gets Http.ExportTimeout,
	// and each piece Http.WriteTimeout (httpserver.go).
	pacer, ctx, cancel := a.startExport(c.Request)
	defer cancel()
	w := &lazyDownload{c: c, filename: name, pacer: pacer}
	if _, err := a.store.Export(ctx, cam.ID, start, duration, w); err != nil {
		if !w.started {
			WriteError(c, a.storeError(err, "export"))
			return
		}
		// Too late for a status: the client sees a cut file.
		a.log.Warn("export stopped after it began", "camera", cam.ID, "error", err)
	}
}

// storeError logs a store error the client cannot see (not one of
// playback's typed errors, which the error table maps).
func (a *API) storeError(err error, what string) error {
	if !playback.IsTyped(err) {
		a.log.Warn(what+": the recording store failed", "error", err)
	}
	return err
}

// parseDurationParam reads the duration of an export: seconds ("90",
// "2.5") or a Go duration ("90s", "1m30s").
func parseDurationParam(raw string) (time.Duration, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return 0, Errorf(http.StatusBadRequest, `duration is required: seconds ("90") or a duration ("1m30s")`)
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if !(v > 0 && v <= float64(1<<62)/float64(time.Second)) {
			return 0, Errorf(http.StatusBadRequest, "duration must be more than 0 seconds (got %s)", errtext.Quote(s, 40))
		}
		return time.Duration(v * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, Errorf(http.StatusBadRequest, `duration %s is neither seconds ("90") nor a duration ("1m30s")`, errtext.Quote(s, 40))
	}
	return d, nil
}

// lazyDownload writes the download's headers with its first byte, so that
// an error before it can still be answered as JSON.
type lazyDownload struct {
	c        *gin.Context
	filename string
	pacer    ExportPacer
	started  bool
}

func (w *lazyDownload) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.c.Writer.Header()
		h.Set("Content-Type", "video/mp4")
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, w.filename))
		h.Set("Cache-Control", "no-store")
		w.c.Status(http.StatusOK)
	}
	return w.pacer.Write(w.c.Writer, b)
}
