// Command camgate is the camera gateway: it pulls H.264 from RTSP cameras and
// serves it to browsers over WebRTC with the signaling contracts of the
// Milestone XProtect API Gateway.
//
// Usage:
//
//	camgate [--config DIR] [--environment NAME] [--demo] [--demo-listen ADDR] [--demo-clip FILE]
//	camgate hash-password < FILE       (reads a password on standard input)
//	camgate rotate-signing-key [--config DIR] [--environment NAME]
//	camgate reindex [--config DIR] [--environment NAME] [--camera ID]
//	                                   (rebuilds the recording index; camgate stopped)
//	camgate help [COMMAND]             (also --help)
//	camgate version                    (also --version)
//
// Without --config camgate runs its embedded demo camera on built-in
// defaults; --demo adds it to a configuration. Bad settings and bad usage end the process with exit code 2
// and a message that says what is wrong; see docs/operations.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/gateway"
	"github.com/camgate/camgate/oauth"
	"github.com/camgate/camgate/playback"
	"github.com/camgate/camgate/ptz"
	"github.com/camgate/camgate/web"
)

// exitSettings is the exit code for settings that cannot be used, the
// same as for bad usage.
const exitSettings = exitUsage

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// mainUsage is the gateway's own usage (camgate without a command).
func mainUsage() usage {
	return usage{
		synopsis: "[--config DIR] [--environment NAME] [--demo] [--demo-listen ADDR] [--demo-clip FILE]",
		about: "Runs the gateway. Without --config it runs on built-in settings with the embedded\n" +
			"demo camera; with --config DIR it reads DIR/appsettings.json, then\n" +
			"DIR/appsettings.{NAME}.json, then CAMGATE__Section__Key environment variables.\n" +
			"--demo adds the demo camera (and its user) to any settings; --demo=false leaves it out.",
		exits: "0 after a shutdown on SIGINT or SIGTERM, 1 when it failed, 2 for bad usage or settings",
	}
}

// mainFlags are the flags of camgate without a command.
type mainFlags struct {
	fl       *flag.FlagSet
	settings settingsFlags
	demo     demoFlags
	version  *bool
}

func newMainFlags() mainFlags {
	fl := flag.NewFlagSet("camgate", flag.ContinueOnError)
	return mainFlags{
		fl:       fl,
		settings: addSettingsFlags(fl, "folder with appsettings.json (default: built-in settings with the demo camera)"),
		demo:     addDemoFlags(fl),
		version:  fl.Bool("version", false, "print the version, the commit and the Go version, and exit"),
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		if code, handled := runCommand(args[0], args[1:], os.Stdin, stdout, stderr); handled {
			return code
		}
		return mainUsage().bad(stderr, "unknown command %q; the commands are %s", args[0], commandNames())
	}
	mf := newMainFlags()
	// The gateway's help is camgate's whole help: its flags and every
	// command.
	mf.fl.SetOutput(stderr)
	mf.fl.Usage = func() {}
	switch err := mf.fl.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		writeHelp(stdout)
		return exitOK
	case err != nil:
		return mainUsage().bad(stderr, "")
	}
	if *mf.version {
		fmt.Fprintln(stdout, versionLine())
		return exitOK
	}
	if mf.fl.NArg() > 0 {
		if _, isCommand := findCommand(mf.fl.Arg(0)); isCommand {
			return mainUsage().bad(stderr, "%q after the flags: a command comes first (camgate %s --config DIR)", mf.fl.Arg(0), mf.fl.Arg(0))
		}
		return mainUsage().bad(stderr, "unexpected argument %q; camgate takes flags only, or a command first (%s)", mf.fl.Arg(0), commandNames())
	}
	// The logger exists before the settings, for the demo camera; it takes
	// Logging.Level once they are loaded.
	level := new(slog.LevelVar)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	var overlay func(*appsettings.Settings) error
	var demoSignIn *demoOverlay
	if mf.demo.on(*mf.settings.configDir) {
		// The demo camera listens before the settings are validated: its
		// URL, with the port it got, is part of them.
		srv, err := startDemo(*mf.demo.listen, *mf.demo.clip, log)
		if err != nil {
			log.Error("camgate stopped", "error", err)
			return 1
		}
		defer srv.Close() // after serve: the cameras have stopped reading it
		demoSignIn = &demoOverlay{url: srv.URL()}
		overlay = demoSignIn.apply
	}
	settings, ok := mf.settings.load(stderr, overlay)
	if !ok {
		return exitSettings
	}
	_ = level.UnmarshalText([]byte(settings.Logging.Level)) // the values of LogLevel are slog levels
	tuneGC()
	raiseFileLimit(log)

	// The first SIGINT or SIGTERM starts the graceful shutdown (ctx); a
	// second one cuts its drain and deadline short (hurry).
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, shutdown := context.WithCancel(context.Background())
	defer shutdown()
	hurry, cutNow := context.WithCancel(context.Background())
	defer cutNow()
	go func() {
		select {
		case <-sigs:
			shutdown()
		case <-hurry.Done():
			return
		}
		select {
		case <-sigs:
			log.Warn("second signal: cutting the shutdown short")
			cutNow()
		case <-hurry.Done():
		}
	}()
	signInHint := ""
	if demoSignIn != nil && demoSignIn.userAdded {
		signInHint = fmt.Sprintf("demo mode: sign in as %q with password %q", demoUser, demoPassword)
	}
	if err := serve(ctx, hurry, settings, log, stdout, signInHint); err != nil {
		log.Error("camgate stopped", "error", err)
		return 1
	}
	return 0
}

// serve builds the components, runs them until ctx ends, then stops them
// in reverse order of construction (runComponents): the gateway drains
// first (until hurry ends at the latest) while the cameras, PTZ and
// recorders still run; then the recorders finish their open fragment, the
// store closes, PTZ controllers send their final stop, the cameras stop,
// and the identity provider's background work ends. Requests cut at the
// shutdown deadline are logged, not an error: camgate then still exits 0.
// signInHint, unless empty, is printed after the URL: how to sign in (the
// demo's public user).
func serve(ctx, hurry context.Context, settings appsettings.Settings, log *slog.Logger, stdout io.Writer, signInHint string) error {
	a, err := build(ctx, hurry, settings, log)
	if err != nil {
		return err
	}
	log.Info("camgate started", "http", a.gw.Addr().String(), "mediaUdpPort", a.gw.MediaPort(),
		"cameras", len(a.cameras.Cameras()), "ptzCameras", len(a.ptz.CameraIDs()), "recording", len(a.recorders))
	fmt.Fprintf(stdout, "camgate: listening on %s\n", browserURL(a.gw.Addr()))
	if len(settings.Auth.Users) == 0 && len(settings.Auth.Issuers) == 0 {
		log.Warn("nobody can sign in: there are no Auth.Users and no Auth.Issuers (camgate hash-password makes a password hash)")
	}
	if signInHint != "" {
		fmt.Fprintf(stdout, "camgate: %s\n", signInHint)
	}
	return runComponents(ctx, a.components(log), log)
}

// app is camgate's components, built and not yet running.
type app struct {
	auth      *oauth.Service
	cameras   *cameras.Registry
	ptz       *ptz.Registry
	store     *playback.Store
	recorders []cameraRecorder
	gw        *gateway.Gateway
}

// cameraRecorder is a camera's recorder.
type cameraRecorder struct {
	camera string
	*playback.Recorder
}

// build builds the components in the order they depend on each other.
// When one cannot be built, what was built before it is released.
func build(ctx, hurry context.Context, settings appsettings.Settings, log *slog.Logger) (_ *app, err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	// Listen first: the identity provider's issuer URL defaults to the
	// address camgate actually listens on.
	ln, err := net.Listen("tcp", settings.Http.Listen)
	if err != nil {
		return nil, fmt.Errorf("Http.Listen %s: %w", settings.Http.Listen, err)
	}
	undo = append(undo, func() { _ = ln.Close() })
	issuer := settings.Auth.BuiltIn.Issuer
	if issuer == "" {
		issuer = strings.TrimSuffix(browserURL(ln.Addr()), "/") + "/API/IDP"
	}
	a := &app{}
	if a.auth, err = oauth.New(ctx, oauth.Options{Auth: settings.Auth, DataDir: settings.DataDir, Issuer: issuer, Log: log}); err != nil {
		return nil, err
	}
	undo = append(undo, a.auth.Close)
	a.cameras = cameras.NewRegistry(settings.Cameras, log)
	// The PTZ controllers start in Run; a command before then waits.
	if a.ptz, err = newPTZRegistry(settings, log); err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = a.ptz.Close() })
	// The recording store recovers what a crash left unfinished before it
	// returns.
	if a.store, err = playback.NewStore(ctx, storeOptions(settings, log)); err != nil {
		return nil, fmt.Errorf("recordings: %w", err)
	}
	undo = append(undo, a.store.Close)
	a.recorders = newRecorders(settings, a.cameras, a.store, log)
	a.gw, err = gateway.New(gateway.Options{Config: gatewayConfig(settings), Cameras: a.cameras, Auth: a.auth, PTZ: a.ptz, Store: a.store,
		Web: web.Files(), Log: log, Listener: ln, Hurry: hurry})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// storeOptions is the recording store's part of the settings: the folder
// DataDir/recordings, the Recording section and each camera's retention.
func storeOptions(s appsettings.Settings, log *slog.Logger) playback.Options {
	return playback.Options{
		Dir:       filepath.Join(s.DataDir, "recordings"),
		Recording: s.Recording,
		Retain:    s.CameraRetain,
		Logger:    log,
	}
}

// gatewayConfig is the gateway's part of the settings. The Host check
// takes the issuer as configured: a default one names the bound address,
// which passes anyway.
func gatewayConfig(s appsettings.Settings) gateway.Config {
	return gateway.Config{HTTP: s.Http, CORS: s.CORS, Metrics: s.Metrics, WebRTC: s.WebRTC, Limits: s.Limits,
		WebSocket: s.WebSocket, SessionGrace: time.Duration(s.Auth.SessionGrace), Issuer: s.Auth.BuiltIn.Issuer}
}

// components are the app's components in the order they were built, which
// runComponents stops in reverse.
func (a *app) components(log *slog.Logger) []component {
	return []component{
		{"oauth", a.auth.Run},
		{"cameras", a.cameras.Run},
		{"ptz", func(ctx context.Context) error {
			if err := a.ptz.Run(ctx); err != nil {
				log.Warn("ptz: a camera may not have stopped at shutdown", "component", "ptz", "error", err)
			}
			return nil
		}},
		{"playback", a.store.Run},
		{"recorders", func(ctx context.Context) error { return runRecorders(ctx, a.recorders, log) }},
		{"gateway", a.gw.Run},
	}
}

// newRecorders makes a recorder of the default stream of every camera
// whose recording is enabled (Cameras[n].Recording). A recorder that
// cannot be made is logged and skipped: the camera still plays live.
func newRecorders(settings appsettings.Settings, registry *cameras.Registry, store *playback.Store, log *slog.Logger) []cameraRecorder {
	var out []cameraRecorder
	for _, cam := range registry.Cameras() {
		rec, ok := settings.CameraRecording(cam.ID)
		if !ok || !rec.Enabled {
			continue
		}
		r, err := store.NewRecorder(cam.DefaultStream().Hub)
		if err != nil {
			log.Error("recording cannot start; the camera still plays live", "component", "playback", "camera", cam.ID, "error", err)
			continue
		}
		out = append(out, cameraRecorder{cam.ID, r})
	}
	return out
}

// runRecorders runs the recorders until ctx ends; each then finishes its
// open fragment. A recorder that cannot start is logged and left out: its
// camera still plays live, and the others record.
func runRecorders(ctx context.Context, recs []cameraRecorder, log *slog.Logger) error {
	var wg sync.WaitGroup
	for _, r := range recs {
		wg.Go(func() {
			if err := r.Run(ctx); err != nil {
				log.Error("recording cannot start; the camera still plays live", "component", "playback", "camera", r.camera, "error", err)
			}
		})
	}
	<-ctx.Done() // with no recorder (or none that started) as well
	wg.Wait()
	return nil
}

// browserURL is the address to print for a person: a wildcard listener is
// reachable on loopback from the same machine.
func browserURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String() + "/"
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return fmt.Sprintf("http://%s/", net.JoinHostPort(host, fmt.Sprint(tcp.Port)))
}

// oneLine joins the problems of a settings error so that the whole error is
// one readable line.
func oneLine(err error) string {
	var parts []string
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			parts = append(parts, e.Error())
		}
	} else {
		parts = strings.Split(err.Error(), "\n")
	}
	return strings.Join(parts, "; ")
}
