// Command camgate-bench measures camgate with many WebRTC viewers on one
// machine: time to first frame, frames and packets lost, frame latency, and
// camgate's CPU and memory per viewer.
//
// Usage:
//
//	camgate-bench run    [flags]   the standard scenario of make bench: an
//	                               in-process RTSP camera looping a clip,
//	                               camgate launched as its own process, a
//	                               ramp of viewers; prints a table, writes JSON
//	camgate-bench load   --url URL --camera GUID --pid PID [flags]
//	                               the same ramp against a camgate already
//	                               running
//	camgate-bench camera --clip FILE [--listen ADDR]
//	                               only the stamped RTSP camera
//
// Every viewer is a pion peer connection that uses the token the client got
// at the token endpoint, runs the REST flow of docs/api.md (with --flow
// rest-no-candidates as a client that sends no candidates, like go2rtc) or,
// with --flow ws, the WebSocket flow (several viewers' sessions on one
// socket, as a console's tiles), decrypts SRTP, depacketizes H.264 and counts
// complete access units. The camera stamps each frame with
// its send time (an SEI NAL unit, which camgate passes through), so frames
// are matched one by one. See docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: camgate-bench run|load|camera [flags] (-h for each)")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(ctx, args[1:], stdout, stderr, log)
	case "load":
		err = cmdLoad(ctx, args[1:], stdout, stderr, log)
	case "camera":
		err = cmdCamera(ctx, args[1:], stdout, stderr, log)
	default:
		fmt.Fprintf(stderr, "camgate-bench: unknown command %q (run, load, camera)\n", args[0])
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	default:
		fmt.Fprintf(stderr, "camgate-bench: %v\n", err)
		return 1
	}
}

// loadFlags are the flags of the ramp, shared by run and load.
type loadFlags struct {
	user, password string
	steps          string
	batch          int
	window         time.Duration
	settle         time.Duration
	connectTimeout time.Duration
	interceptors   bool
	out            string
	perfStep       int
	flow           string
	wsPerSocket    int
}

func (l *loadFlags) register(fl *flag.FlagSet) {
	fl.StringVar(&l.user, "user", "bench", "user name for the token endpoint (password grant)")
	fl.StringVar(&l.password, "password", "bench", "password for the token endpoint")
	fl.StringVar(&l.steps, "steps", "1,10,50,100,200", "viewer counts to measure, ascending; viewers are kept from step to step")
	fl.IntVar(&l.batch, "batch", 10, "viewers connecting at the same time while ramping up")
	fl.DurationVar(&l.window, "window", 10*time.Second, "measured window per step")
	fl.DurationVar(&l.settle, "settle", 2*time.Second, "pause between the end of a ramp and its window")
	fl.DurationVar(&l.connectTimeout, "connect-timeout", 15*time.Second, "time a viewer has for signaling and its first keyframe")
	fl.BoolVar(&l.interceptors, "interceptors", true, "viewers send receiver reports, TWCC feedback and NACKs, as browsers do")
	fl.StringVar(&l.out, "out", "bench/results", "folder for the JSON results (<date>-<host>.json); empty: none")
	fl.IntVar(&l.perfStep, "perf-step", 0, "after the window of this viewer count, record camgate with perf for one more window (needs perf and the right to trace)")
	fl.StringVar(&l.flow, "flow", flowREST, "signaling flow of the viewers: rest (POST/PATCH …/WebRTC/Session), rest-no-candidates (the same, but the answer carries no candidate and none is sent, as go2rtc does) or ws (the WebSocket …/ws/webrtc/v1: register, connect, invite, answer, trickle)")
	fl.IntVar(&l.wsPerSocket, "ws-viewers-per-socket", 16, "with --flow ws: sessions signaled on one socket before another is opened (camgate allows WebSocket.MaxSessionsPerConnection, 64, per socket and MaxConnectionsPerUser, 16, sockets per user)")
}

// check validates the flags other than the steps.
func (l *loadFlags) check() error {
	if l.flow != flowREST && l.flow != flowRESTNoCandidates && l.flow != flowWS {
		return fmt.Errorf("--flow %q: want rest, rest-no-candidates or ws", l.flow)
	}
	if l.wsPerSocket < 1 || l.wsPerSocket > 1024 {
		return fmt.Errorf("--ws-viewers-per-socket %d: want 1 to 1024", l.wsPerSocket)
	}
	return nil
}

// suffix tells the files of a WebSocket run from a REST run's, so that
// make bench can run both into one folder.
func (l *loadFlags) suffix() string {
	switch l.flow {
	case flowWS:
		return "-ws"
	case flowRESTNoCandidates:
		return "-nocand"
	}
	return ""
}

// parse parses the flags and returns the steps.
func (l *loadFlags) parse(fl *flag.FlagSet, args []string) ([]int, error) {
	if err := fl.Parse(args); err != nil {
		return nil, err
	}
	if fl.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected arguments %q", fl.Name(), fl.Args())
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	return l.parseSteps()
}

func (l *loadFlags) parseSteps() ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(l.steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("--steps %q: want ascending positive viewer counts", l.steps)
		}
		out = append(out, n)
	}
	return out, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fl := flag.NewFlagSet("camgate-bench run", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var lf loadFlags
	lf.register(fl)
	bin := fl.String("camgate", "bin/camgate", "camgate binary to launch")
	configDir := fl.String("config", "bench", "camgate config folder; its first camera is pointed at the bench camera")
	clipPath := fl.String("clip", "bench/clip.h264", "H.264 Annex-B clip the camera loops (make bench generates it with ffmpeg)")
	fps := fl.Int("fps", 25, "camera frame rate")
	steps, err := lf.parse(fl, args)
	if err != nil {
		return err
	}
	camID, err := configCamera(*configDir)
	if err != nil {
		return err
	}
	started := time.Now()
	quiet := slog.New(slog.DiscardHandler)
	cam, err := startCamera(*clipPath, "127.0.0.1:0", *fps, quiet)
	if err != nil {
		return fmt.Errorf("bench camera: %w", err)
	}
	defer cam.close()

	logPath := filepath.Join(os.TempDir(), "camgate-bench-camgate.log")
	if lf.out != "" {
		if err := os.MkdirAll(lf.out, 0o755); err != nil {
			return err
		}
		logPath = filepath.Join(lf.out, "camgate"+lf.suffix()+".log")
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	proc, err := launchCamgate(*bin, *configDir, cam.url(), logFile)
	if err != nil {
		return fmt.Errorf("%w (log: %s)", err, logPath)
	}
	defer proc.stop()
	log.Info("camgate started", "url", proc.base, "pid", proc.pid(), "log", logPath,
		"clip", *clipPath, "bitrateKbps", int(cam.bitrate()/1000), "gopFrames", cam.gop(), "fps", cam.fps())

	info := scenarioInfo{
		Mode: "run", Camgate: *bin, Clip: *clipPath, ClipBitrate: round(cam.bitrate(), 0), GOPFrames: cam.gop(),
		FPS: cam.fps(), RTSPTransport: "tcp", Steps: steps, Batch: lf.batch, WindowSeconds: lf.window.Seconds(),
		Interceptors: lf.interceptors, Flow: lf.flow,
	}
	return ramp(ctx, lf, steps, proc.base, camID, proc.pid(), cam, cam.fps(), info, started, stdout, log)
}

func cmdLoad(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fl := flag.NewFlagSet("camgate-bench load", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var lf loadFlags
	lf.register(fl)
	base := fl.String("url", "http://127.0.0.1:8080", "camgate's base URL")
	camID := fl.String("camera", "", "deviceId (camera GUID) to play (required)")
	pid := fl.Int("pid", 0, "camgate's process id, for its CPU and RSS (required)")
	fps := fl.Int("fps", 25, "the camera's frame rate, for frames sent when its frames carry no bench stamp")
	steps, err := lf.parse(fl, args)
	if err != nil {
		return err
	}
	if *camID == "" || *pid == 0 {
		fmt.Fprintln(stderr, "camgate-bench load: --camera and --pid are required")
		return errUsage
	}
	info := scenarioInfo{Mode: "load", Camgate: *base, FPS: *fps, Steps: steps, Batch: lf.batch,
		WindowSeconds: lf.window.Seconds(), Interceptors: lf.interceptors, Flow: lf.flow}
	return ramp(ctx, lf, steps, *base, *camID, *pid, nil, *fps, info, time.Now(), stdout, log)
}

func ramp(ctx context.Context, lf loadFlags, steps []int, base, camID string, pid int, cam *benchCamera, fps int,
	info scenarioInfo, started time.Time, stdout io.Writer, log *slog.Logger,
) error {
	c, err := newClient(base, camID, lf.interceptors)
	if err != nil {
		return err
	}
	if lf.flow == flowWS {
		c.useWebSocket(lf.wsPerSocket, log)
		info.WSViewersPerSocket = c.ws.perSocket
	}
	c.noCandidates = lf.flow == flowRESTNoCandidates
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.signIn(sctx, lf.user, lf.password); err != nil {
		return err
	}
	if err := c.waitStreaming(sctx); err != nil {
		return err
	}
	mach := describeMachine()
	sc := &scenario{
		client: c, pid: pid, camera: cam, fps: fps, steps: steps, batch: max(1, lf.batch),
		window: lf.window, settle: lf.settle, tail: 500 * time.Millisecond, connectTimeout: lf.connectTimeout,
		perfStep: lf.perfStep, log: log,
	}
	jsonPath := ""
	if lf.out != "" {
		name := fmt.Sprintf("%s-%s%s", started.UTC().Format("2006-01-02"), mach.Host, lf.suffix())
		jsonPath = filepath.Join(lf.out, name+".json")
		sc.perfOut = filepath.Join(lf.out, name+".perf.data")
	} else {
		sc.perfOut = filepath.Join(os.TempDir(), "camgate-bench"+lf.suffix()+".perf.data")
	}
	results, runErr := sc.run(ctx)
	rep := report{Started: started.UTC(), DurationSeconds: round(time.Since(started).Seconds(), 1), Machine: mach, Commit: gitCommit(), Scenario: info, Steps: results}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	rep.RSSSlopeKB, _ = rssSlope(results)
	if c.ws != nil {
		st := c.ws.stats()
		rep.WebSocket = &st
	}
	camera := fmt.Sprintf("camera at %d fps (not stamped: frames counted by arrival time)", info.FPS)
	if cam != nil {
		camera = fmt.Sprintf("camera %.2f Mbit/s, GOP %d frames at %d fps", info.ClipBitrate/1e6, info.GOPFrames, info.FPS)
	}
	fmt.Fprintf(stdout, "\ncamgate-bench: %s, %d cores (%s), %s; %s\n", mach.Host, mach.NProc, mach.CPUModel, mach.GoVersion, camera)
	fmt.Fprintf(stdout, "signaling: %s\n\n", describeFlow(info, rep.WebSocket))
	printTable(stdout, results, info.Flow)
	if jsonPath != "" {
		if err := writeJSON(jsonPath, rep); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nresults: %s\n", jsonPath)
	}
	return runErr
}

func cmdCamera(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fl := flag.NewFlagSet("camgate-bench camera", flag.ContinueOnError)
	fl.SetOutput(stderr)
	clipPath := fl.String("clip", "bench/clip.h264", "H.264 Annex-B clip to loop")
	listen := fl.String("listen", "127.0.0.1:8554", "RTSP address")
	fps := fl.Int("fps", 25, "frame rate")
	if err := fl.Parse(args); err != nil {
		return err
	}
	cam, err := startCamera(*clipPath, *listen, *fps, log)
	if err != nil {
		return err
	}
	defer cam.close()
	fmt.Fprintf(stdout, "camgate-bench: camera at %s (%.2f Mbit/s, GOP %d frames, %d fps)\n", cam.url(), cam.bitrate()/1e6, cam.gop(), cam.fps())
	<-ctx.Done()
	return nil
}
