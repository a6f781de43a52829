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
func reindexUsage() usage {
	return usage{
		name: "reindex", synopsis: "[--config DIR] [--environment NAME] [--camera ID]",
		about: "Rebuilds the recording index (DataDir/recordings/<camera>/index.sqlite) from the\n" +
			"segment files, which are the source of truth, and cuts files a crash left\n" +
			"unfinished back to their last complete fragment. Stop camgate first.",
		exits: "0 rebuilt, 1 the work failed (camgate is running, an unreadable folder, no recordings folder), " +
			"2 bad usage or settings, or a --camera with no recordings",
	}
}

func runReindex(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("camgate reindex", flag.ContinueOnError)
	sf := addSettingsFlags(fl, "folder with appsettings.json, to find DataDir (default: built-in settings, DataDir \"data\")")
	camera := fl.String("camera", "", "rebuild only this camera's index (its GUID); default: every camera")
	if code, ok := parseFlags(fl, args, reindexUsage(), stdout, stderr); !ok {
		return code
	}
	if fl.NArg() > 0 {
		return reindexUsage().bad(stderr, "unexpected argument %q", fl.Arg(0))
	}
	settings, ok := sf.load(stderr, nil)
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
