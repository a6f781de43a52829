package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/demo"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/playback"
)

func TestReindexCommand(t *testing.T) {
	t.Parallel()
	const cam = "11111111-2222-3333-4444-555555555555"
	data := t.TempDir()
	config := t.TempDir()
	if err := os.WriteFile(filepath.Join(config, "appsettings.json"), []byte(`{"DataDir": "`+filepath.ToSlash(data)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Record a few seconds of the demo clip.
	clip, err := demo.LoadClip(filepath.Join("..", "..", "testdata", "demo.h264"))
	if err != nil {
		t.Fatal(err)
	}
	rec := appsettings.Defaults().Recording
	rec.MaxDrift = appsettings.Duration(time.Minute) // the frames come faster than real time
	opts := playback.Options{Dir: filepath.Join(data, "recordings"), Recording: rec, CleanupInterval: -1, Logger: slog.New(slog.DiscardHandler)}
	store, err := playback.NewStore(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	stream := cameras.NewStream(cam, "11111111-2222-3333-4444-000000000001")
	r, err := store.NewRecorder(stream)
	if err != nil {
		t.Fatal(err)
	}
	stopRec := testutil.Run(t, r.Run, r.Started)
	stream.BeginEpoch(nil, nil)
	for k := range 250 {
		stream.WriteAU(int64(k)*3600, clip.AccessUnit(k))
		time.Sleep(time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().FramesIn < 250 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stopRec()

	// While camgate holds the store, reindex refuses.
	var stdout, stderr bytes.Buffer
	if code := runReindex([]string{"--config", config}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "in use by another camgate") {
		t.Fatalf("reindex while running: code %d, stderr %q", code, stderr.String())
	}
	store.Close()

	// Lose the index; reindex rebuilds it.
	camDir := filepath.Join(data, "recordings", strings.ToLower(cam))
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(camDir, "index.sqlite"+s))
	}
	stdout.Reset()
	stderr.Reset()
	if code := runReindex([]string{"--config", config, "--camera", cam}, &stdout, &stderr); code != 0 {
		t.Fatalf("reindex: code %d, stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "reindexed 1 camera(s) in ") || !strings.Contains(stdout.String(), " 1 segments, 3 keyframes, ") {
		t.Errorf("stdout %q", stdout.String())
	}
	store, err = playback.NewStore(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	lo, hi, ok, err := store.Range(context.Background(), cam)
	if err != nil || !ok || hi.Sub(lo) != 10*time.Second {
		t.Errorf("after reindex: range %v … %v (%v, %v), want 10 s", lo, hi, ok, err)
	}

	// Bad usage.
	for _, args := range [][]string{{"extra"}, {"--nope"}} {
		stderr.Reset()
		if code := runReindex(args, &stdout, &stderr); code != exitSettings {
			t.Errorf("%v: code %d", args, code)
		}
	}
	stderr.Reset()
	if code := runReindex([]string{"--config", config, "--camera", "../x"}, &stdout, &stderr); code != exitSettings || !strings.HasPrefix(stderr.String(), "camgate reindex: --camera must be") {
		t.Errorf("bad camera id: code %d, %q", code, stderr.String())
	}
}
