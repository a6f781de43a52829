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

	"github.com/camgate/camgate/playback"
)

// serve records the demo camera into DataDir (its overlay turns its
// recording on), and at shutdown closes the recorders and the store: the
// recording is then complete and the folder free for the next camgate.
func TestServeRecordsTheDemoCamera(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("records in real time")
	}
	s := servingDemoSettings(t, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, context.Background(), s, slog.New(slog.DiscardHandler), &stdout, "")
	}()

	// A segment file appears with the first recorded keyframe; wait for
	// its first complete fragment (a moof box written after the init).
	camDir := filepath.Join(s.DataDir, "recordings", strings.ToLower(demoCameraID))
	deadline := time.Now().Add(20 * time.Second)
	for !hasFragment(camDir) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no fragment under %s after 20 s (serve: %v)", camDir, <-done)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}

	// The store was released and the recording is indexed and closed.
	store, err := playback.NewStore(context.Background(), playback.Options{Dir: filepath.Join(s.DataDir, "recordings"), CleanupInterval: -1,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("the store is still held after shutdown: %v", err)
	}
	defer store.Close()
	oldest, newest, ok, err := store.Range(context.Background(), demoCameraID)
	if err != nil || !ok || !newest.After(oldest) {
		t.Fatalf("recorded range %v – %v (ok %v, err %v), want a recording", oldest, newest, ok, err)
	}
}

// hasFragment reports whether a segment file under dir holds a fragment.
func hasFragment(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".mp4") {
			b, _ := os.ReadFile(path)
			found = found || bytes.Contains(b, []byte("moof"))
		}
		return nil
	})
	return found
}

// reindex is one of camgate's commands; an unknown command lists it.
func TestReindexIsACommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "recordings"), 0o750); err != nil {
		t.Fatal(err)
	}
	config := writeConfig(t, `{"DataDir": "`+filepath.ToSlash(data)+`"}`)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"reindex", "--config", config}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "reindexed 0 camera(s)") {
		t.Fatalf("camgate reindex: code %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"reindx"}, &stdout, &stderr); code != exitSettings || !strings.Contains(stderr.String(), "reindex") {
		t.Fatalf("unknown command: code %d, stderr %q", code, stderr.String())
	}
}
