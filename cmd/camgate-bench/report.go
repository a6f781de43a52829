package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// report is the JSON file of one run.
type report struct {
	Started         time.Time `json:"started"`
	DurationSeconds float64   `json:"duration_seconds"`
	Machine         machine   `json:"machine"`
	// Commit is the repository's HEAD where camgate-bench ran, with
	// "+dirty" when the working tree had changes (camgate was built from
	// the working tree).
	Commit   string       `json:"commit,omitempty"`
	Scenario scenarioInfo `json:"scenario"`
	Steps    []stepResult `json:"steps"`
	// RSSSlopeKB is the least-squares slope of camgate's RSS over the
	// viewer count: the memory each added viewer costs, less noisy than
	// any single step's difference from the baseline.
	RSSSlopeKB float64 `json:"rss_slope_kb_per_viewer"`
	// WebSocket is what the WebSocket flow did (--flow ws only).
	WebSocket *wsStats `json:"websocket,omitempty"`
	Error     string   `json:"error,omitempty"`
}

type scenarioInfo struct {
	Mode          string  `json:"mode"` // run (camgate launched here) or load
	Camgate       string  `json:"camgate"`
	Clip          string  `json:"clip,omitempty"`
	ClipBitrate   float64 `json:"clip_bitrate_bps,omitempty"`
	GOPFrames     int     `json:"gop_frames,omitempty"`
	FPS           int     `json:"fps"`
	RTSPTransport string  `json:"rtsp_transport,omitempty"`
	Steps         []int   `json:"steps"`
	Batch         int     `json:"batch"`
	WindowSeconds float64 `json:"window_seconds"`
	Interceptors  bool    `json:"client_interceptors"`
	// Flow is the viewers' signaling: "rest", "rest-no-candidates" or
	// "ws" (--flow).
	Flow string `json:"flow"`
	// WSViewersPerSocket is --ws-viewers-per-socket (--flow ws only).
	WSViewersPerSocket int `json:"ws_viewers_per_socket,omitempty"`
}

// describeFlow is the line above the table that says how the viewers
// signaled.
func describeFlow(info scenarioInfo, ws *wsStats) string {
	switch info.Flow {
	case flowRESTNoCandidates:
		return "REST (POST …/WebRTC/Session, PATCH an answer without candidates, none sent: camgate finds each viewer by its checks); first frame timed from the POST"
	case flowWS:
	default:
		return "REST (POST …/WebRTC/Session, PATCH the answer); first frame timed from the POST"
	}
	sockets := ""
	if ws != nil {
		sockets = fmt.Sprintf(", %d sockets opened", ws.Sockets)
	}
	return fmt.Sprintf("WebSocket (…/ws/webrtc/v1: register, connect, invite, answer, trickle; up to %d viewers per socket%s); first frame timed from the connect",
		info.WSViewersPerSocket, sockets)
}

func writeJSON(path string, r report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printTable writes the results as a Markdown table (docs/performance.md
// quotes it as is).
// flow is the signaling flow, named in the caption of the phase table.
func printTable(w io.Writer, steps []stepResult, flow string) {
	fmt.Fprintln(w, "| viewers | first frame p50 / p95 / max (ms) | frames received / sent | packets lost | frame latency p50 / p99 / max (ms) | camgate CPU (cores) | viewers per core | camgate RSS (MB) | RSS per viewer (KB) | load client CPU (cores) | machine CPU (cores) |")
	fmt.Fprintln(w, "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range steps {
		ttff, frames, lat, vpc, per := "–", "–", "–", "–", "–"
		if r.TTFF.N > 0 {
			ttff = fmt.Sprintf("%.0f / %.0f / %.0f", r.TTFF.P50, r.TTFF.P95, r.TTFF.Max)
		}
		if r.Viewers > 0 {
			frames = fmt.Sprintf("%d / %d (%.2f %%)", r.FramesReceived, r.FramesExpected, 100*r.FrameRatio)
			vpc = fmt.Sprintf("%.0f", r.ViewersPerCore)
		}
		if r.RSSPerViewerKB != 0 {
			per = fmt.Sprintf("%.0f", r.RSSPerViewerKB)
		}
		if r.Latency.N > 0 {
			lat = fmt.Sprintf("%.1f / %.1f / %.1f", r.Latency.P50, r.Latency.P99, r.Latency.Max)
		}
		viewers := fmt.Sprint(r.Viewers)
		if r.Failed > 0 {
			viewers += fmt.Sprintf(" (%d failed)", r.Failed)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %.3f | %s | %.1f | %s | %.2f | %.2f |\n",
			viewers, ttff, frames, r.PacketsLost, lat, r.CamgateCores, vpc,
			float64(r.CamgateRSSKB)/1024, per, r.BenchCores, r.MachineCores)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| viewers | answer sent | ICE connected | DTLS connected | first packet | first keyframe |")
	fmt.Fprintln(w, "|---:|---|---|---|---|---|")
	for _, r := range steps {
		if r.TTFF.N == 0 {
			continue
		}
		cell := func(d dist) string { return fmt.Sprintf("%.0f / %.0f", d.P50, d.P95) }
		ph := r.FirstFramePhases
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s |\n", r.Viewers, cell(ph["answered"]), cell(ph["ice_connected"]),
			cell(ph["dtls_connected"]), cell(ph["first_packet"]), cell(r.TTFF))
	}
	request := "the session request (REST: POST …/Session)"
	if flow == flowWS {
		request = "the session request (WebSocket: connect on the socket)"
	}
	fmt.Fprintf(w, "\n(first frame by phase: p50 / p95 ms since %s, for the viewers added at each step)\n", request)
	if slope, ok := rssSlope(steps); ok {
		fmt.Fprintf(w, "\ncamgate RSS grows by %.0f KB per viewer (least-squares slope over the steps with viewers).\n", slope)
	}
	heap, okHeap := slopePerViewer(steps, func(r stepResult) (float64, bool) {
		return float64(deref(r.CamgateHeapInuseKB)), r.CamgateHeapInuseKB != nil
	})
	stacks, okS := slopePerViewer(steps, func(r stepResult) (float64, bool) {
		return float64(deref(r.CamgateStackInuseKB)), r.CamgateStackInuseKB != nil
	})
	goroutines, okG := slopePerViewer(steps, func(r stepResult) (float64, bool) {
		return float64(deref(r.CamgateGoroutines)), r.CamgateGoroutines != nil
	})
	if okHeap && okS && okG {
		fmt.Fprintf(w, "Of that, per viewer: %.0f KB of Go heap in use, and %.1f goroutines with %.0f KB of stacks (camgate's /metrics).\n", heap, goroutines, stacks)
	}
	var notes []string
	for _, r := range steps {
		if r.CamgateDropped != nil && *r.CamgateDropped > 0 {
			notes = append(notes, fmt.Sprintf("%d viewers: camgate dropped %d frames at full viewer queues", r.Viewers, *r.CamgateDropped))
		}
		if r.CamgateNACKPackets != nil && *r.CamgateNACKPackets > 0 {
			notes = append(notes, fmt.Sprintf("%d viewers: the viewers NACKed %d packets, camgate sent %d again", r.Viewers, *r.CamgateNACKPackets, deref(r.CamgateRetransmitted)))
		}
		if r.UDPRcvbufErrors > 0 {
			notes = append(notes, fmt.Sprintf("%d viewers: the kernel dropped %d datagrams at full receive buffers (machine-wide)", r.Viewers, r.UDPRcvbufErrors))
		}
		if r.CameraFPS > 0 && r.Viewers > 0 && r.CameraFrames > 0 && r.CameraFPS < 0.95*float64(expectedFPS(steps)) {
			notes = append(notes, fmt.Sprintf("%d viewers: the camera sent only %.1f frames/s", r.Viewers, r.CameraFPS))
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Notes: "+strings.Join(notes, "; ")+".")
	}
}

// deref is a figure from camgate's /metrics, 0 when it has none.
func deref(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

// expectedFPS is the camera rate seen with nobody watching (row 0).
func expectedFPS(steps []stepResult) float64 {
	for _, r := range steps {
		if r.Viewers == 0 {
			return r.CameraFPS
		}
	}
	return 0
}

// rssSlope fits camgate's RSS (KB) to the viewer count by least squares,
// over the steps with viewers (see stepResult.RSSPerViewerKB).
func rssSlope(steps []stepResult) (float64, bool) {
	return slopePerViewer(steps, func(r stepResult) (float64, bool) { return float64(r.CamgateRSSKB), true })
}

// slopePerViewer fits a figure of each step to its viewer count by least
// squares, over the steps with viewers that have the figure.
func slopePerViewer(steps []stepResult, figure func(stepResult) (float64, bool)) (float64, bool) {
	var n, sx, sy, sxx, sxy float64
	for _, r := range steps {
		y, ok := figure(r)
		if r.Viewers == 0 || !ok {
			continue
		}
		x := float64(r.Viewers)
		n++
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, false
	}
	return round((n*sxy-sx*sy)/den, 1), true
}

// gitCommit describes the working tree, or "" outside a repository.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "+dirty"
	}
	return c
}
