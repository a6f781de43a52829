package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// scenario is a ramp of viewers against one camgate: at each step viewers
// are added (in batches) up to the step's count, then camgate's CPU and RSS
// and the viewers' frames are measured over a window.
type scenario struct {
	client *client
	pid    int          // camgate's process id
	camera *benchCamera // the in-process camera; nil when camgate pulls another one
	fps    int          // the camera's frame rate when camera is nil

	steps          []int
	batch          int
	window         time.Duration
	settle         time.Duration
	tail           time.Duration
	connectTimeout time.Duration
	perfStep       int    // record a perf profile of camgate at this step (0: never)
	perfOut        string // perf.data path
	log            *slog.Logger

	viewers []*viewer
	nextID  int
}

// stepResult is one row of the table.
type stepResult struct {
	Viewers int `json:"viewers"`
	Added   int `json:"added"`
	Failed  int `json:"failed"`
	// TTFF is request sent → first complete keyframe, for the viewers added
	// at this step (while the earlier ones keep playing).
	TTFF dist `json:"time_to_first_frame"`
	// FirstFramePhases break TTFF down: each is request sent → the offer
	// received, the answer sent (signaling done: PATCHed over REST, written
	// on the socket over WebSocket), ICE connected, DTLS up, the first RTP
	// packet.
	FirstFramePhases map[string]dist `json:"first_frame_phases,omitempty"`
	WindowSeconds    float64         `json:"window_seconds"`
	// CameraFrames is what the camera sent in the window; CameraFPS its
	// achieved rate.
	CameraFrames   uint64  `json:"camera_frames_sent"`
	CameraFPS      float64 `json:"camera_fps"`
	FramesExpected uint64  `json:"frames_expected"`
	FramesReceived uint64  `json:"frames_received"`
	FrameRatio     float64 `json:"frames_received_ratio"`
	PacketsRecv    int64   `json:"packets_received"`
	PacketsLost    int64   `json:"packets_lost"`
	// UDPRcvbufErrors counts datagrams the kernel dropped in the window
	// because a receiving socket was full (the viewers' or camgate's).
	UDPRcvbufErrors int64 `json:"udp_rcvbuf_errors"`
	// RampUDPRcvbufErrors is the same count while this step's viewers were
	// connecting (each gets the cached GOP in one burst).
	RampUDPRcvbufErrors int64 `json:"ramp_udp_rcvbuf_errors"`
	// Latency is the camera's send time → the frame's last packet at the
	// viewer, for stamped frames sent in the window.
	Latency        dist    `json:"frame_latency"`
	CamgateCPU     float64 `json:"camgate_cpu_seconds"`
	CamgateCores   float64 `json:"camgate_cores_used"`
	ViewersPerCore float64 `json:"viewers_per_core"`
	CamgateRSSKB   int64   `json:"camgate_rss_kb"`
	// RSSPerViewerKB is the RSS added per viewer since the first step
	// (not since the 0-viewer row: that one still holds the ~20 MB the
	// argon2id password check of the sign-in allocated, which Go returns to
	// the system a little later).
	RSSPerViewerKB float64 `json:"rss_per_viewer_kb"`
	// From camgate's /metrics over the window (absent when it has none):
	// frames its senders wrote, frames it dropped because a viewer's queue
	// was full, packets the viewers asked again for (NACK) and keyframe
	// requests (PLI, FIR).
	CamgateFramesOut    *int64 `json:"camgate_frames_out,omitempty"`
	CamgateDropped      *int64 `json:"camgate_dropped_frames,omitempty"`
	CamgateNACKPackets  *int64 `json:"camgate_nack_packets,omitempty"`
	CamgateKeyframeReqs *int64 `json:"camgate_keyframe_requests,omitempty"`
	// CamgateRetransmitted counts the packets camgate sent again for those
	// NACKs (0 before camgate answered NACKs itself).
	CamgateRetransmitted *int64 `json:"camgate_retransmitted_packets,omitempty"`
	// CamgateGoroutines, CamgateHeapInuseKB and CamgateStackInuseKB are
	// camgate's runtime at the end of the window: what the viewers' memory
	// is made of.
	CamgateGoroutines   *int64 `json:"camgate_goroutines,omitempty"`
	CamgateHeapInuseKB  *int64 `json:"camgate_heap_inuse_kb,omitempty"`
	CamgateStackInuseKB *int64 `json:"camgate_stack_inuse_kb,omitempty"`
	// BenchCores is the CPU of this process (the viewers and the camera):
	// near the machine's core count it is the bottleneck, not camgate.
	BenchCores float64 `json:"bench_cores_used"`
	// MachineCores is the CPU the whole machine used: camgate, this process
	// and anything else running. Near the core count, every figure above is
	// limited by the machine, not by camgate.
	MachineCores float64 `json:"machine_cores_used"`
}

// run executes the steps; the first row (0 viewers) is camgate ingesting
// the camera with nobody watching, the baseline for RSS per viewer.
func (s *scenario) run(ctx context.Context) ([]stepResult, error) {
	defer s.closeAll()
	base, err := s.measure(ctx, 0, 0, nil, nil)
	if err != nil {
		return nil, err
	}
	results := []stepResult{base}
	var first *stepResult // the first step with viewers: the RSS reference
	s.log.Info("baseline", "camgateRssMb", fmt.Sprintf("%.1f", float64(base.CamgateRSSKB)/1024), "camgateCores", fmt.Sprintf("%.3f", base.CamgateCores))
	for _, target := range s.steps {
		if target <= len(s.viewers) {
			continue
		}
		udpA, _ := udpRcvbufErrors()
		added, failed := s.ramp(ctx, target-len(s.viewers))
		udpB, _ := udpRcvbufErrors()
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		var ttff, offered, answered, iceUp, dtlsUp, firstPkt []time.Duration
		for _, v := range added {
			ttff = append(ttff, v.timeToFirstFrame())
			p := v.phaseTimes()
			offered = append(offered, p.Offer)
			answered = append(answered, p.Answered)
			iceUp = append(iceUp, p.ICE)
			dtlsUp = append(dtlsUp, p.Connected)
			firstPkt = append(firstPkt, p.FirstPacket)
		}
		phases := map[string]dist{
			"offer_received": summarize(offered), "answered": summarize(answered), "ice_connected": summarize(iceUp),
			"dtls_connected": summarize(dtlsUp), "first_packet": summarize(firstPkt),
		}
		select {
		case <-time.After(s.settle):
		case <-ctx.Done():
			return results, ctx.Err()
		}
		r, err := s.measure(ctx, len(added), failed, ttff, first)
		if err != nil {
			return results, err
		}
		r.FirstFramePhases = phases
		r.RampUDPRcvbufErrors = udpB - udpA
		results = append(results, r)
		if first == nil {
			first = &results[len(results)-1]
		}
		s.log.Info("step", "viewers", r.Viewers, "frames", fmt.Sprintf("%d/%d", r.FramesReceived, r.FramesExpected),
			"camgateCores", fmt.Sprintf("%.3f", r.CamgateCores), "ttffP95Ms", r.TTFF.P95)
		if s.perfStep != 0 && target == s.perfStep {
			s.profile(ctx)
		}
	}
	return results, nil
}

// ramp opens n viewers, batch at a time, each batch waiting for its first
// frames, so that signaling never queues behind a crowd. Viewers that fail
// are closed and counted.
func (s *scenario) ramp(ctx context.Context, n int) (added []*viewer, failed int) {
	for n > 0 {
		b := min(n, s.batch)
		n -= b
		var wg sync.WaitGroup
		batch := make([]*viewer, b)
		errs := make([]error, b)
		for i := range b {
			v := newViewer(s.nextID)
			s.nextID++
			batch[i] = v
			wg.Go(func() {
				cctx, cancel := context.WithTimeout(ctx, s.connectTimeout)
				defer cancel()
				if err := s.client.open(cctx, v); err != nil {
					errs[i] = err
					return
				}
				select {
				case <-v.firstKey:
				case <-v.lost:
					errs[i] = v.failure()
				case <-cctx.Done():
					errs[i] = fmt.Errorf("no keyframe within %v (ICE %s)", s.connectTimeout, v.pc.ICEConnectionState())
				}
			})
		}
		wg.Wait()
		for i, v := range batch {
			if errs[i] != nil {
				failed++
				s.log.Warn("viewer failed", "viewer", v.id, "error", errs[i])
				s.client.close(context.Background(), v)
				continue
			}
			added = append(added, v)
			s.viewers = append(s.viewers, v)
		}
		if ctx.Err() != nil {
			return added, failed
		}
	}
	return added, failed
}

// measure runs one window.
func (s *scenario) measure(ctx context.Context, added, failed int, ttff []time.Duration, base *stepResult) (stepResult, error) {
	r := stepResult{Viewers: len(s.viewers), Added: added, Failed: failed, TTFF: summarize(ttff)}
	for _, v := range s.viewers {
		v.takeFrames() // frames before the window
	}
	seq0 := make([]seqCounters, len(s.viewers))
	for i, v := range s.viewers {
		seq0[i] = v.counters()
	}
	udp0, _ := udpRcvbufErrors()
	cg0, err := readProc(s.pid)
	if err != nil {
		return r, fmt.Errorf("camgate process: %w", err)
	}
	me0, _ := readProc(os.Getpid())
	all0, _ := machineCPU()
	m0, metricsErr := s.client.scrapeMetrics(ctx)
	start := time.Now()

	select {
	case <-time.After(s.window):
	case <-ctx.Done():
		return r, ctx.Err()
	}

	end := time.Now()
	cg1, err := readProc(s.pid)
	if err != nil {
		return r, fmt.Errorf("camgate process: %w", err)
	}
	me1, _ := readProc(os.Getpid())
	all1, _ := machineCPU()
	udp1, _ := udpRcvbufErrors()
	var m1 map[string]float64
	if metricsErr == nil {
		m1, metricsErr = s.client.scrapeMetrics(ctx)
	}
	seq1 := make([]seqCounters, len(s.viewers))
	for i, v := range s.viewers {
		seq1[i] = v.counters()
	}
	// Let the frames sent just before the end arrive.
	select {
	case <-time.After(s.tail):
	case <-ctx.Done():
		return r, ctx.Err()
	}

	wall := end.Sub(start).Seconds()
	r.WindowSeconds = round(wall, 3)
	r.CamgateCPU = round((cg1.cpu - cg0.cpu).Seconds(), 3)
	r.CamgateCores = round(r.CamgateCPU/wall, 4)
	r.BenchCores = round((me1.cpu-me0.cpu).Seconds()/wall, 3)
	r.MachineCores = round((all1-all0).Seconds()/wall, 3)
	r.CamgateRSSKB = cg1.rssKB
	if r.Viewers > 0 && r.CamgateCores > 0 {
		r.ViewersPerCore = round(float64(r.Viewers)/r.CamgateCores, 1)
	}
	if base != nil && r.Viewers > base.Viewers {
		r.RSSPerViewerKB = round(float64(r.CamgateRSSKB-base.CamgateRSSKB)/float64(r.Viewers-base.Viewers), 1)
	}
	r.UDPRcvbufErrors = udp1 - udp0
	if metricsErr == nil {
		delta := func(name string) *int64 {
			d := int64(m1[name] - m0[name])
			return &d
		}
		r.CamgateFramesOut = delta("camgate_session_frames_out_total")
		r.CamgateDropped = delta("camgate_session_dropped_frames_total")
		r.CamgateNACKPackets = delta("camgate_session_nack_packets_total")
		r.CamgateKeyframeReqs = delta("camgate_session_keyframe_requests_total")
		r.CamgateRetransmitted = delta("camgate_session_retransmitted_packets_total")
		at := func(name string, scale float64) *int64 {
			v := int64(m1[name] / scale)
			return &v
		}
		r.CamgateGoroutines = at("go_goroutines", 1)
		r.CamgateHeapInuseKB = at("go_memstats_heap_inuse_bytes", 1024)
		r.CamgateStackInuseKB = at("go_memstats_stack_inuse_bytes", 1024)
	}
	for i := range s.viewers {
		exp := seq1[i].expected - seq0[i].expected
		got := seq1[i].received - seq0[i].received
		r.PacketsRecv += got
		r.PacketsLost += max(0, exp-got)
	}

	// Frames: with the in-process camera, the frames it sent in the window
	// (by send time) against those of them each viewer got complete.
	// Without it, frames that arrived in the window against fps × window.
	startNs, endNs := start.UnixNano(), end.UnixNano()
	var lat []time.Duration
	for _, v := range s.viewers {
		for _, f := range v.takeFrames() {
			if f.sent != 0 {
				if f.sent >= startNs && f.sent < endNs {
					r.FramesReceived++
					lat = append(lat, f.arrived.Sub(time.Unix(0, f.sent)))
				}
			} else if !f.arrived.Before(start) && f.arrived.Before(end) {
				r.FramesReceived++
			}
		}
	}
	r.Latency = summarize(lat)
	if s.camera != nil {
		r.CameraFrames = s.camera.framesSentBetween(startNs, endNs)
	} else {
		r.CameraFrames = uint64(math.Round(float64(s.fps) * wall))
	}
	r.CameraFPS = round(float64(r.CameraFrames)/wall, 2)
	r.FramesExpected = r.CameraFrames * uint64(r.Viewers)
	if r.FramesExpected > 0 {
		r.FrameRatio = round(float64(r.FramesReceived)/float64(r.FramesExpected), 5)
	}
	return r, nil
}

// profile records camgate's CPU with perf (kernel and user space, call
// graphs) over one more window. It needs perf and the right to trace the
// process (root, or perf_event_paranoid <= 1 for kernel samples).
func (s *scenario) profile(ctx context.Context) {
	perf, err := exec.LookPath("perf")
	if err != nil {
		s.log.Warn("no perf profile: perf is not installed")
		return
	}
	secs := fmt.Sprintf("%.0f", s.window.Seconds())
	cmd := exec.CommandContext(ctx, perf, "record", "-F", "499", "-g", "-p", fmt.Sprint(s.pid), "-o", s.perfOut, "--", "sleep", secs)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.log.Warn("perf record failed", "error", err, "output", truncate(string(out), 400))
		return
	}
	// Two views: where the time is spent (self), and which calls it is
	// spent under (children, i.e. inclusive).
	var text []byte
	for _, view := range [][]string{
		{"--no-children", "--sort", "dso,symbol", "--percent-limit", "0.7"},
		{"--children", "--sort", "symbol", "--percent-limit", "4"},
	} {
		args := append([]string{"report", "-i", s.perfOut, "--stdio", "-g", "none"}, view...)
		out, err := exec.CommandContext(ctx, perf, args...).Output()
		if err != nil {
			s.log.Warn("perf report failed", "error", err)
			return
		}
		text = append(text, fmt.Sprintf("### perf %s\n", strings.Join(args, " "))...)
		text = append(text, out...)
	}
	txt := strings.TrimSuffix(s.perfOut, ".data") + ".txt"
	if err := os.WriteFile(txt, text, 0o644); err != nil {
		s.log.Warn("perf report not written", "error", err)
		return
	}
	s.log.Info("perf profile written", "data", s.perfOut, "report", txt)
}

func (s *scenario) closeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, v := range s.viewers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.client.close(ctx, v)
		})
	}
	wg.Wait()
	s.viewers = nil
	if s.client.ws != nil {
		s.client.ws.close()
	}
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

var errUsage = errors.New("usage")
