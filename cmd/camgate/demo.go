package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/oauth"
)

// Demo mode is camgate with its embedded RTSP camera (cameras/demo), which
// loops a clip on loopback. cmd/camgate alone knows about it: it starts the
// camera and adds an overlay to the loaded settings (demoOverlay), so that
// to the rest of camgate the demo camera is a camera, its user a user and
// its role a role.
const (
	// demoCameraID and demoStreamID are the fixed Ids of the demo camera
	// and its stream, so that bookmarks and recordings survive restarts.
	demoCameraID = "A364956F-39A5-4CBC-9FFE-55B0C802CA77"
	demoStreamID = "0E7A1C52-3B7D-4C55-9D0B-5C8E51D0A001"
	// The demo user's password is public by design: the demo runs on
	// loopback with one demo camera.
	demoUser     = "demo"
	demoPassword = "demo"
	demoRole     = "demo"
	// demoRetain is how long the demo camera's recordings are kept.
	demoRetain = time.Hour
	// demoListen is where the demo camera listens by default: a free port
	// on loopback.
	demoListen = "127.0.0.1:0"
)

// demoFlags are the flags that switch the demo on and place it.
type demoFlags struct {
	fl      *flag.FlagSet
	enabled *bool
	listen  *string
	clip    *string
}

func addDemoFlags(fl *flag.FlagSet) demoFlags {
	return demoFlags{
		fl: fl,
		enabled: fl.Bool("demo", false, "run the embedded demo camera, with user \"demo\" (password \"demo\"), in addition to the configured cameras\n"+
			"(default: on without --config, off with it; --demo=false turns it off)"),
		listen: fl.String("demo-listen", demoListen, "RTSP address (host:port) of the demo camera; port 0 picks a free port"),
		clip: fl.String("demo-clip", "", "H.264 Annex-B file the demo camera loops (default: "+demoClipName+
			" in the working directory or beside the executable)"),
	}
}

// on reports whether the demo runs: as --demo says when it is given, else
// when there is no config folder (camgate with no flags at all, make run).
func (f demoFlags) on(configDir string) bool {
	given := false
	f.fl.Visit(func(fl *flag.Flag) { given = given || fl.Name == "demo" })
	if given {
		return *f.enabled
	}
	return configDir == ""
}

// startDemo starts the demo camera. The caller closes it.
func startDemo(listen, clipPath string, log *slog.Logger) (*demo.Server, error) {
	path, err := findDemoClip(clipPath)
	if err != nil {
		return nil, err
	}
	clip, err := demo.LoadClip(path)
	if err != nil {
		return nil, fmt.Errorf("demo camera: %w", err)
	}
	// The server names its component itself.
	srv := &demo.Server{Address: listen, Clip: clip, InBandParameterSets: true, StartOnFirstPlay: true, Logger: log}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("demo camera (--demo-listen %s): %w", listen, err)
	}
	log.Info("demo camera serving", "component", "demo", "clip", path, "url", srv.URL())
	return srv, nil
}

// demoOverlay adds the demo to loaded settings, before they are validated
// (appsettings.LoadOptions.Overlay): the demo camera at url, after the
// configured cameras (so that their paths in messages stay as written),
// with the simulated PTZ driver and recording on for demoRetain; user
// "demo" with role "demo", which has every right on the demo camera. A
// configured user or role of that name wins over the demo's.
type demoOverlay struct {
	url string
	// userAdded is set by apply when the demo user was added, so that
	// camgate prints its sign-in.
	userAdded bool
}

func (d *demoOverlay) apply(s *appsettings.Settings) error {
	var errs []error
	if !s.Auth.BuiltIn.Enabled {
		errs = append(errs, &appsettings.Error{Path: "Auth.BuiltIn.Enabled",
			Msg: `is false, but the demo's user "demo" signs in at the built-in provider: set it to true or run camgate with --demo=false`})
	}
	for i, c := range s.Cameras {
		path := fmt.Sprintf("Cameras[%d]", i)
		if appsettings.KeyOf(c.Id) == appsettings.KeyOf(demoCameraID) {
			errs = append(errs, &appsettings.Error{Path: path + ".Id",
				Msg: "is the Id of the demo camera; choose another or run camgate with --demo=false"})
		}
		for j, st := range c.Streams {
			if appsettings.KeyOf(st.Id) == appsettings.KeyOf(demoStreamID) {
				errs = append(errs, &appsettings.Error{Path: fmt.Sprintf("%s.Streams[%d].Id", path, j),
					Msg: "is the Id of the demo camera's stream; choose another or run camgate with --demo=false"})
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	s.Cameras = append(s.Cameras, appsettings.Camera{
		Id:        demoCameraID,
		Name:      "Demo camera",
		Transport: "tcp", // loopback: nothing is gained by UDP, and TCP never loses a packet
		Streams:   []appsettings.Stream{{Id: demoStreamID, Name: "Demo stream", Url: d.url, Default: true}},
		Recording: appsettings.CameraRecording{Enabled: true, Retain: appsettings.Duration(demoRetain)},
		Ptz:       appsettings.Ptz{Driver: appsettings.PtzSimulated}, // every other Ptz key takes its default
	})
	if !hasName(s.Auth.Roles, func(r appsettings.Role) string { return r.Name }, demoRole) {
		cam := []string{demoCameraID}
		s.Auth.Roles = append(s.Auth.Roles, appsettings.Role{Name: demoRole, Live: cam, Playback: cam, Ptz: cam, Export: cam, Admin: cam})
	}
	if !hasName(s.Auth.Users, func(u appsettings.User) string { return u.Username }, demoUser) {
		hash, err := oauth.HashPassword(demoPassword)
		if err != nil {
			return fmt.Errorf("demo user: %w", err)
		}
		s.Auth.Users = append(s.Auth.Users, appsettings.User{Username: demoUser, PasswordHash: hash, Roles: []string{demoRole}})
		d.userAdded = true
	}
	return nil
}

// hasName reports whether an item of list is called name, compared as
// oauth compares user and role names: regardless of case and of spaces
// around it.
func hasName[T any](list []T, nameOf func(T) string, name string) bool {
	for _, it := range list {
		if strings.EqualFold(strings.TrimSpace(nameOf(it)), name) {
			return true
		}
	}
	return false
}

// demoSettingHint explains the settings of the demo that camgate no longer
// reads (Demo.* and Recording.Demo.*, now the --demo flags): their
// "unknown setting" errors in err get a hint. Other errors are unchanged.
func demoSettingHint(err error) {
	var joined interface{ Unwrap() []error }
	list := []error{err}
	if errors.As(err, &joined) {
		list = joined.Unwrap()
	}
	for _, e := range list {
		var se *appsettings.Error
		if !errors.As(e, &se) || se.Msg != "unknown setting" {
			continue
		}
		first, rest, _ := strings.Cut(se.Path, ".")
		second, _, _ := strings.Cut(rest, ".")
		if strings.EqualFold(first, "Demo") || (strings.EqualFold(first, "Recording") && strings.EqualFold(second, "Demo")) {
			se.Msg += ": demo mode is switched by camgate's flags --demo, --demo-listen and --demo-clip, " +
				"and the demo camera always records, kept 1h; remove this setting"
		}
	}
}
