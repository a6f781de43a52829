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
	"syscall"

	"github.com/camgate/camgate/playback"
)

// runReindex is `camgate reindex`: it rebuilds the recording index of every
// camera (or one) from the segment files under DataDir/recordings, cutting
// files that a crash left unfinished back to their last complete fragment.
// camgate must not be running on the same DataDir. Exit codes: 0 done, 1
// the work failed (camgate running, unreadable folder), 2 bad usage or
// settings.
func runReindex(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("camgate reindex", flag.ContinueOnError)
	fl.SetOutput(stderr)
	sf := addSettingsFlags(fl, "folder with appsettings.json, to find DataDir (default: built-in settings, DataDir \"data\")")
	camera := fl.String("camera", "", "rebuild only this camera's index (its GUID); default: every camera")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: camgate reindex [--config DIR] [--environment NAME] [--camera ID]\n\n"+
			"Rebuilds the recording index (DataDir/recordings/<camera>/index.sqlite) from the\n"+
			"segment files, which are the source of truth. Stop camgate first.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return exitSettings
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "camgate reindex: unexpected argument %q\n", fl.Arg(0))
		return exitSettings
	}
	settings, ok := sf.load(stderr)
	if !ok {
		return exitSettings
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "reindex")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := filepath.Join(settings.DataDir, "recordings")
	res, err := playback.Reindex(ctx, dir, *camera, log)
	var bad *playback.RequestError
	if errors.As(err, &bad) {
		fmt.Fprintf(stderr, "camgate reindex: --camera %s\n", bad.Msg)
		return exitSettings
	}
	if err != nil {
		fmt.Fprintf(stderr, "camgate %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "reindexed %d camera(s) in %s: %d segments, %d keyframes, %d bytes; %d repaired, %d removed, %d unreadable\n",
		res.Cameras, dir, res.Segments, res.Keyframes, res.Bytes, res.Repaired, res.Removed, res.Unreadable)
	return 0
}
