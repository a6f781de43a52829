package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/playback"
)

// testPlaybackErrors: bad playback requests get clear answers, over REST
// and WebSocket, and leave no session behind.
func testPlaybackErrors(t *testing.T, env *testEnv, sp [2]playback.Span) {
	watcher := env.signIn(watcherUser, testPassword)
	body := func(at time.Time, speed any, skip bool) map[string]any {
		return map[string]any{"deviceId": testCameraID, "playbackTimeNode": map[string]any{
			"playbackTime": at.UTC().Format(time.RFC3339Nano), "speed": speed, "skipGaps": skip}}
	}
	inside := sp[0].Start.Add(time.Second)
	_, newest, _, _ := env.store.Range(context.Background(), testCameraID)
	for _, tc := range []struct {
		name    string
		token   string
		body    any
		status  int
		mention []string
	}{
		{"speed 0", env.token, body(inside, "0", false), 400, []string{"playbackTimeNode.speed must be more than 0 and at most 32"}},
		{"speed 64", env.token, body(inside, 64, false), 400, []string{"playbackTimeNode.speed", "got 64"}},
		{"speed NaN", env.token, body(inside, "NaN", false), 400, []string{"playbackTimeNode.speed"}},
		{"speed not a number", env.token, body(inside, "fast", false), 400, []string{"playbackTimeNode.speed", "fast"}},
		{"after the newest recording", env.token, body(newest.Add(time.Minute), 1, true), 404,
			[]string{"after the newest recording", "recordings are available from " + sp[0].Start.UTC().Format("2006-01-02T15:04:05.000Z")}},
		{"before the oldest recording without skipGaps", env.token, body(sp[0].Start.Add(-time.Hour), 1, false), 404,
			[]string{"before the oldest recording", "recordings are available from"}},
		{"no playback right", watcher, body(inside, 1, false), 403, []string{"watcher", "playback right"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, out := env.doAs(tc.token, http.MethodPost, "/REST/v1/WebRTC/Session", tc.body)
			checkErrorBody(t, st, out, tc.status, tc.mention...)
		})
	}
	// Before the oldest recording with skipGaps plays the oldest.
	st, out := env.do(http.MethodPost, "/REST/v1/WebRTC/Session", body(sp[0].Start.Add(-time.Hour), 1, true))
	if st != http.StatusOK {
		t.Fatalf("playback from before the oldest with skipGaps: %d %s", st, out)
	}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(out, &created)
	if st, out := env.do(http.MethodDelete, "/REST/v1/WebRTC/Session/"+created.SessionID, nil); st != http.StatusOK {
		t.Fatalf("DELETE: %d %s", st, out)
	}

	t.Run("WebSocket", func(t *testing.T) {
		env := env.forTest(t)
		c := env.mustDialWS()
		c.register(env.token)
		at := newest.Add(time.Hour).UTC().Format(time.RFC3339)
		c.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":2,"params":{"peer":"` + testCameraID + `","PlaybackTime":"` + at + `","PlaybackSpeed":"2"}}`)
		if n := c.expectError("2", 404); !strings.Contains(n.Message, "after the newest recording") {
			t.Errorf("connect after the newest recording: %q", n.Message)
		}
		c.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":3,"params":{"peer":"` + testCameraID + `","PlaybackTime":"` + at + `","PlaybackSpeed":"40"}}`)
		if n := c.expectError("3", -32602); !strings.Contains(n.Message, "PlaybackSpeed must be more than 0 and at most 32") {
			t.Errorf("connect at speed 40: %q", n.Message)
		}
		w := env.mustDialWS()
		w.register(watcher)
		w.sendRaw(`{"jsonrpc":"2.0","method":"connect","id":2,"params":{"peer":"` + testCameraID + `","PlaybackTime":"` + inside.UTC().Format(time.RFC3339Nano) + `"}}`)
		if n := w.expectError("2", 403); !strings.Contains(n.Message, "playback right") {
			t.Errorf("connect without the playback right: %q", n.Message)
		}
	})
	// Sessions of the parallel subtests may still be closing.
	deadline := time.Now().Add(15 * time.Second)
	for env.gw.SessionCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions left", env.gw.SessionCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testRecordingsAPI lists the recorded spans over REST.
func testRecordingsAPI(t *testing.T, env *testEnv, sp [2]playback.Span) {
	watcher := env.signIn(watcherUser, testPassword)
	from, to := sp[0].Start.Add(-time.Minute), time.Now().Add(time.Minute)
	path := "/rest/v1/cameras/" + testCameraID + "/recordings?from=" + from.UTC().Format(time.RFC3339Nano) + "&to=" + to.UTC().Format(time.RFC3339Nano)
	st, out := env.do(http.MethodGet, path, nil)
	if st != http.StatusOK {
		t.Fatalf("GET recordings: %d %s", st, out)
	}
	var got struct {
		Spans []struct{ Start, End time.Time }
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want, _ := env.store.Spans(context.Background(), testCameraID, from, to)
	if len(got.Spans) != 2 || len(want) != 2 {
		t.Fatalf("spans %s, want two (store: %v)", out, want)
	}
	for i := range 2 {
		if d := got.Spans[i].Start.Sub(want[i].Start); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("span %d starts %v, store says %v", i, got.Spans[i].Start, want[i].Start)
		}
	}
	// Without from and to: the last 24 hours.
	if st, out := env.do(http.MethodGet, "/Rest/V1/Cameras/"+strings.ToLower(testCameraID)+"/Recordings", nil); st != http.StatusOK || !strings.Contains(string(out), `"spans":[{`) {
		t.Errorf("GET recordings without a range: %d %s", st, out)
	}
	for _, bad := range []struct {
		token, path string
		status      int
		mention     string
	}{
		{watcher, "/rest/v1/cameras/" + testCameraID + "/recordings", 403, "playback right"},
		{env.token, "/rest/v1/cameras/" + testCameraID + "/recordings?from=soon", 400, "from"},
		{env.token, "/rest/v1/cameras/" + testCameraID + "/recordings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", 400, "must be after"},
		{env.token, "/rest/v1/cameras/00000000-0000-4000-8000-000000000000/recordings", 404, "does not exist"},
	} {
		st, out := env.doAs(bad.token, http.MethodGet, bad.path, nil)
		checkErrorBody(t, st, out, bad.status, bad.mention)
	}
}

// testExport downloads an MP4 and checks it with ffprobe.
func testExport(t *testing.T, env *testEnv, sp [2]playback.Span) {
	watcher := env.signIn(watcherUser, testPassword)
	_, newest, _, _ := env.store.Range(context.Background(), testCameraID)
	start := sp[0].Start.Add(1500 * time.Millisecond)
	path := "/rest/v1/cameras/" + testCameraID + "/recordings/export?start=" + start.UTC().Format(time.RFC3339Nano) + "&duration=2"
	req, _ := http.NewRequest(http.MethodGet, env.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+env.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") {
		t.Fatalf("export: %d %v %.200s", resp.StatusCode, resp.Header, data)
	}
	file := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		token, query string
		status       int
		mention      string
	}{
		{env.token, "duration=2", 400, "start is required"},
		{env.token, "start=" + start.UTC().Format(time.RFC3339) + "&duration=later", 400, "duration"},
		{env.token, "start=" + start.UTC().Format(time.RFC3339) + "&duration=2h", 400, "at most 1h"},
		{env.token, "start=" + start.UTC().Format(time.RFC3339) + "&duration=0", 400, "more than 0"},
		{env.token, "start=" + newest.Add(time.Hour).UTC().Format(time.RFC3339) + "&duration=10", 404, "no recording"},
		{watcher, "start=" + start.UTC().Format(time.RFC3339) + "&duration=2", 403, "export right"},
	} {
		st, out := env.doAs(bad.token, http.MethodGet, "/rest/v1/cameras/"+testCameraID+"/recordings/export?"+bad.query, nil)
		checkErrorBody(t, st, out, bad.status, bad.mention)
	}
	probeExport(t, file, 2*time.Second)
}

// checkErrorBody asserts an error answer in the API's shape.
func checkErrorBody(t *testing.T, status int, body []byte, want int, mentions ...string) {
	t.Helper()
	var e struct {
		Error struct {
			HTTPCode int `json:"httpCode"`
			Details  []struct {
				ErrorText string `json:"errorText"`
			} `json:"details"`
		} `json:"error"`
	}
	if status != want || json.Unmarshal(body, &e) != nil || e.Error.HTTPCode != want || len(e.Error.Details) != 1 {
		t.Fatalf("status %d body %s, want a %d error", status, body, want)
	}
	for _, m := range mentions {
		if !strings.Contains(e.Error.Details[0].ErrorText, m) {
			t.Errorf("errorText %q does not mention %q", e.Error.Details[0].ErrorText, m)
		}
	}
}

// probeExport checks an exported file with ffprobe (Debian's ffmpeg): one
// H.264 video stream of the clip's size, about as long as asked for (it
// starts at the keyframe before the start, at most a second earlier).
func probeExport(t *testing.T, file string, duration time.Duration) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe is missing (apt-get install ffmpeg); CI=true, so this is not skipped")
		}
		t.Skip("ffprobe is missing (apt-get install ffmpeg)")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"format=format_name,duration:stream=codec_name,width,height,nb_read_frames", "-of", "json", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var probe struct {
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	secs, _ := strconv.ParseFloat(probe.Format.Duration, 64)
	frames, _ := strconv.Atoi(probe.Streams[0].NbReadFrames)
	got := time.Duration(secs * float64(time.Second))
	t.Logf("ffprobe: %s, %s %dx%d, %v, %d frames", probe.Format.FormatName, probe.Streams[0].CodecName, probe.Streams[0].Width, probe.Streams[0].Height, got, frames)
	if !strings.Contains(probe.Format.FormatName, "mp4") || len(probe.Streams) != 1 || probe.Streams[0].CodecName != "h264" ||
		probe.Streams[0].Width != 640 || probe.Streams[0].Height != 360 {
		t.Errorf("ffprobe: %s", out)
	}
	if got < duration-50*time.Millisecond || got > duration+time.Second+50*time.Millisecond {
		t.Errorf("export lasts %v, want %v plus at most a second before the start", got, duration)
	}
	if want := int(got / (10 * time.Millisecond)); frames < want-2 || frames > want+2 {
		t.Errorf("export has %d frames, want about %d (100 fps)", frames, want)
	}
}
