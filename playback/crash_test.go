//go:build unix

package playback

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/testutil"
	"github.com/camgate/camgate/playback/internal/index"
)

const crashChildEnv = "CAMGATE_PLAYBACK_CRASH_CHILD_DIR"

// crashRecording: short segments so a few seconds make several; camera time
// runs 4x faster than the wall clock in the child, so drift is allowed.
func crashRecording() appsettings.Recording {
	return testRecording(func(r *appsettings.Recording) {
		r.SegmentDuration = appsettings.Duration(10 * time.Second)
		r.MaxDrift = appsettings.Duration(time.Hour)
	})
}

// TestCrashChild is the process the crash test kills: it records the demo
// clip (100 frames per second of real time) until it is killed. It does
// nothing unless started by TestCrashRecovery.
func TestCrashChild(t *testing.T) {
	t.Parallel()
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("only run as the child of TestCrashRecovery")
	}
	s, err := NewStore(context.Background(), Options{Dir: dir, Recording: crashRecording(), CleanupInterval: -1,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	stream := cameras.NewStream(testCam, testStream)
	r, err := s.NewRecorder(stream)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, r.Run, r.Started) // until the parent kills this process
	c := loadClip(t)
	stream.BeginEpoch(nil, nil)
	pts := int64(0)
	for k := 0; ; k++ {
		stream.WriteAU(pts, c.AccessUnit(k%c.Len()))
		pts += frameTicks
		time.Sleep(10 * time.Millisecond)
	}
}

// fileSnap is what a frozen recording had on disk: complete fragments
// (counted by walking the boxes and parsing each moof+mdat with
// mediacommon, independently of the store's reader).
type fileSnap struct {
	fragments, samples, keyParts int
	end                          int64
}

func snapshotFiles(t *testing.T, camDir string) map[string]fileSnap {
	t.Helper()
	out := map[string]fileSnap{}
	rels, err := walkSegments(camDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(camDir, filepath.FromSlash(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			// A running child removed it between the listing and the read
			// (a segment closed without a frame); a stopped one cannot.
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var snap fileSnap
		off := 0
		for off+8 <= len(b) {
			size := int(binary.BigEndian.Uint32(b[off:]))
			typ := string(b[off+4 : off+8])
			if size < 8 || off+size > len(b) {
				break
			}
			if typ != "moof" {
				off += size
				continue
			}
			if off+size+8 > len(b) {
				break
			}
			mdat := int(binary.BigEndian.Uint32(b[off+size:]))
			if string(b[off+size+4:off+size+8]) != "mdat" || off+size+mdat > len(b) {
				break
			}
			var parts fmp4.Parts
			if err := parts.Unmarshal(b[off : off+size+mdat]); err != nil {
				t.Fatalf("%s: fragment at %d: %v", rel, off, err)
			}
			snap.fragments++
			snap.samples += len(parts[0].Tracks[0].Samples)
			if !parts[0].Tracks[0].Samples[0].IsNonSyncSample {
				snap.keyParts++
			}
			off += size + mdat
			snap.end = int64(off)
		}
		out[rel] = snap
	}
	return out
}

func totalFragments(m map[string]fileSnap) int {
	n := 0
	for _, s := range m {
		n += s.fragments
	}
	return n
}

// TestCrashRecovery kills a recording process with SIGKILL three times at
// random moments, then checks that after a restart every fragment that was
// complete on disk is indexed and plays, and that the index agrees with the
// files (and with a rebuild from them).
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	camDir := filepath.Join(dir, strings.ToLower(testCam))
	want := map[string]fileSnap{}
	for round := range 3 {
		var stderr bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		before := totalFragments(want)
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join(camDir, index.FileName)); err == nil && totalFragments(snapshotFiles(t, camDir)) >= before+4 {
				break
			}
			if time.Now().After(deadline) {
				// The test fails either way; this only reaps the child.
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("round %d: the child wrote nothing:\n%s", round, stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		// Let it run on for a random while, so the kill can land in the
		// middle of a write, a segment cut or an index update.
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		for rel, s := range snapshotFiles(t, camDir) {
			want[rel] = s
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not SIGKILL:\n%s", round, err, stderr.String())
		}
		t.Logf("round %d: killed with %d files, %d complete fragments on disk", round, len(want), totalFragments(want))
	}

	// Restart: recovery runs in NewStore. The child processes ran on real
	// time, outside any bubble; the checks and playback run in one, so the
	// player's 1x pacing takes no time.
	var segs []index.Segment
	synctest.Test(t, func(t *testing.T) { segs = checkRecovered(t, dir, camDir, want) })

	// A rebuild from the files gives the same index.
	ctx := context.Background()
	if _, err := Reindex(ctx, dir, "", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	db, err := index.Open(ctx, filepath.Join(camDir, index.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rebuilt, _ := db.All(ctx)
	if len(rebuilt) != len(segs) {
		t.Fatalf("rebuilt %d segments, recovered %d", len(rebuilt), len(segs))
	}
	sort.Slice(rebuilt, func(i, j int) bool { return rebuilt[i].Start < rebuilt[j].Start })
	for i := range segs {
		a, b := rebuilt[i], segs[i]
		if a.Start != b.Start || a.End != b.End || a.Path != b.Path || a.Bytes != b.Bytes || a.Frames != b.Frames || a.Run != b.Run {
			t.Errorf("segment %d: rebuilt %+v, recovered %+v", i, a, b)
		}
	}
}

// checkRecovered opens the store after the kills (recovery runs), checks
// that every fragment complete on disk at a kill is indexed, that the index
// agrees with the files, and that every recovered frame plays; it returns
// the index rows.
func checkRecovered(t *testing.T, dir, camDir string, want map[string]fileSnap) []index.Segment {
	s := openStore(t, dir, crashRecording())
	ctx := context.Background()
	c, err := s.camera(ctx, testCam, false)
	if err != nil || c == nil {
		t.Fatalf("camera: %v", err)
	}
	segs, err := c.db.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]index.Segment{}
	for _, g := range segs {
		byPath[g.Path] = g
		if g.State == index.StateOpen {
			t.Errorf("segment %s still open after recovery", g.Path)
		}
	}
	after := snapshotFiles(t, camDir)
	totalSamples := 0
	for rel, w := range want {
		if w.fragments == 0 {
			if _, ok := byPath[rel]; ok {
				t.Errorf("%s: indexed without a complete fragment", rel)
			}
			continue
		}
		g, ok := byPath[rel]
		got := after[rel]
		if !ok || got != w || g.Frames != int64(w.samples) || g.Bytes != w.end {
			t.Errorf("%s: before the kill %+v; after recovery file %+v, index %+v (present %v)", rel, w, got, g, ok)
		}
		totalSamples += w.samples
	}
	if len(byPath) != len(after) {
		t.Errorf("%d index rows, %d files", len(byPath), len(after))
	}
	// The index agrees with the files: times, sizes, keyframes.
	kfs, _ := c.db.AllKeyframes(ctx)
	var scannedKfs []index.Keyframe
	for _, g := range segs {
		sc, err := scanSegmentFile(c.dir, g.Path, false)
		if err != nil {
			t.Fatal(err)
		}
		if sc.seg.Start != g.Start || sc.seg.End != g.End || sc.seg.Bytes != g.Bytes || sc.seg.Frames != g.Frames || sc.truncated != 0 {
			t.Errorf("%s: file %+v, index %+v", g.Path, sc.seg, g)
		}
		for _, k := range sc.keyframes {
			scannedKfs = append(scannedKfs, index.Keyframe{T: k.T, SegmentID: g.ID, Offset: k.Offset})
		}
	}
	if fmt.Sprint(kfs) != fmt.Sprint(scannedKfs) {
		t.Errorf("keyframes: index %d, files %d", len(kfs), len(scannedKfs))
	}

	// Every recovered frame plays, in order.
	oldest, _, _, _ := s.Range(ctx, testCam)
	p, err := s.Open(ctx, PlayRequest{CameraID: testCam, Start: oldest, Speed: 1, SkipGaps: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var last time.Time
	for {
		f, err := p.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && !f.Frame.Key {
			t.Fatal("first frame is not a keyframe")
		}
		if !f.Time.After(last) {
			t.Fatalf("frame %d at %v, not after %v", n, f.Time, last)
		}
		last = f.Time
		n++
	}
	p.Close()
	if n != totalSamples {
		t.Errorf("played %d frames, %d were complete on disk", n, totalSamples)
	}
	t.Logf("recovered %d segments, %d frames", len(segs), n)
	return segs

}
