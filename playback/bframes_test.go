package playback

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/cameras/cameratest"
	"github.com/camgate/camgate/cameras/testutil"
)

// needFFprobe skips a test without ffprobe, except in CI (.ci/run installs
// it), where a skip would hide a broken export.
func needFFprobe(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe is missing (apt-get install ffmpeg); CI=true, so this is not skipped")
		}
		t.Skip("ffprobe is missing (apt-get install ffmpeg): the export cannot be checked")
	}
}

// recordClipCamera records a testdata clip served as an RTSP camera until
// the recorder has written frames frames, and returns the store.
func recordClipCamera(t *testing.T, clipName string, frames uint64) *Store {
	t.Helper()
	srv, _ := cameratest.Serve(t, clipName)
	cam := startCameraRegistry(t, srv.URL())
	s := openStore(t, t.TempDir(), testRecording(nil))
	r, err := s.NewRecorder(cam.Hub)
	if err != nil {
		t.Fatal(err)
	}
	stopRec := testutil.Run(t, r.Run, r.Started)
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats().FramesWritten < frames {
		if time.Now().After(deadline) {
			t.Fatalf("the recorder wrote %+v, want %d frames", r.Stats(), frames)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopRec()
	return s
}

// exportAll writes the whole recording of testCam to an MP4 file.
func exportAll(t *testing.T, s *Store) (string, ExportInfo) {
	t.Helper()
	oldest, newest, _, err := s.Range(context.Background(), testCam)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	info, err := s.Export(context.Background(), testCam, oldest, newest.Sub(oldest), &buf)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file, info
}

// probedPacket is a packet of an MP4 as ffprobe reads it.
type probedPacket struct {
	PTS float64
	DTS float64
}

// probeVideo decodes a file with ffmpeg (any decoder error fails the test)
// and returns its codec, duration and packets as ffprobe reads them.
func probeVideo(t *testing.T, file string) (codec string, duration time.Duration, pkts []probedPacket) {
	t.Helper()
	if out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", file, "-f", "null", "-").CombinedOutput(); err != nil || len(out) != 0 {
		t.Fatalf("ffmpeg cannot decode the export: %v\n%s", err, out)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries",
		"format=duration:stream=codec_name:packet=pts_time,dts_time", "-of", "json", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var probe struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
		Packets []struct {
			PTS string `json:"pts_time"`
			DTS string `json:"dts_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &probe); err != nil || len(probe.Streams) != 1 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	secs, _ := strconv.ParseFloat(probe.Format.Duration, 64)
	for _, p := range probe.Packets {
		pts, _ := strconv.ParseFloat(p.PTS, 64)
		dts, _ := strconv.ParseFloat(p.DTS, 64)
		pkts = append(pkts, probedPacket{PTS: pts, DTS: dts})
	}
	return probe.Streams[0].CodecName, time.Duration(secs * float64(time.Second)), pkts
}

// checkFramePacing checks that an export's frames, in presentation order,
// follow each other one frame interval (40 ms at 25 fps) apart, and that
// the file lasts as many frames (±2 %). The last reorder frames may leave
// holes: a recording cut in decode order can end with a frame whose
// B-frames, presented before it, were not recorded yet.
func checkFramePacing(t *testing.T, duration time.Duration, pkts []probedPacket, reorder int) {
	t.Helper()
	const interval = 0.040
	pts := make([]float64, len(pkts))
	for i, p := range pkts {
		pts[i] = p.PTS
	}
	slices.Sort(pts)
	for i := 1; i < len(pts)-reorder; i++ {
		if d := pts[i] - pts[i-1]; d < interval*0.9 || d > interval*1.1 {
			t.Fatalf("frames %d and %d (presentation order) are %.3f s apart, want %.3f s", i-1, i, d, interval)
		}
	}
	want := time.Duration(float64(len(pkts)) * interval * float64(time.Second))
	if duration < want*98/100 || duration > want*102/100 {
		t.Errorf("the export lasts %v for %d frames, want %v ±2 %%", duration, len(pkts), want)
	}
}

// A recording of a camera with B-frames exports to an MP4 whose frames
// carry their composition offsets: it decodes without error, and its frames
// are presented at the camera's frame rate, for the right duration.
func TestExportOfBFramesCamera(t *testing.T) {
	t.Parallel()
	needFFprobe(t)
	s := recordClipCamera(t, "bframes.mp4", 125)
	file, info := exportAll(t, s)
	codec, duration, pkts := probeVideo(t, file)
	t.Logf("export: %d frames, %v, %s", info.Frames, duration, codec)
	if codec != "h264" || len(pkts) != info.Frames {
		t.Fatalf("export: codec %s, %d packets, want h264 and %d", codec, len(pkts), info.Frames)
	}
	reordered := false
	for _, p := range pkts {
		reordered = reordered || p.PTS != p.DTS
	}
	if !reordered {
		t.Error("no frame of the export has a composition offset: B-frames play in decode order")
	}
	checkFramePacing(t, duration, pkts, 2) // the clip's -bf 2
}

// An H.265 camera is recorded as it comes (hvc1 in the segments) and
// exported as an H.265 MP4 that decodes at the right duration; it plays
// back as H.265 frames.
func TestRecordAndExportH265Camera(t *testing.T) {
	t.Parallel()
	needFFprobe(t)
	s := recordClipCamera(t, "h265.mp4", 75)
	file, info := exportAll(t, s)
	codec, duration, pkts := probeVideo(t, file)
	t.Logf("export: %d frames, %v, %s", info.Frames, duration, codec)
	if codec != "hevc" || len(pkts) != info.Frames {
		t.Fatalf("export: codec %s, %d packets, want hevc and %d", codec, len(pkts), info.Frames)
	}
	checkFramePacing(t, duration, pkts, 0)
	if out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_tag_string", "-of", "csv=p=0", file).CombinedOutput(); err != nil || string(bytes.TrimSpace(out)) != "hvc1" {
		t.Errorf("the export's sample entry is %q (%v), want hvc1", out, err)
	}

	oldest, _, _, err := s.Range(context.Background(), testCam)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Open(context.Background(), PlayRequest{CameraID: testCam, Start: oldest, Speed: MaxSpeed, SkipGaps: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	f, err := p.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if vps, _, _ := f.Frame.ParamSets(); f.Frame.Codec != cameras.CodecH265 || !f.Frame.Key || vps == nil {
		t.Errorf("the first frame played back: codec %s, key %v, VPS %x: want an H.265 keyframe with its VPS", f.Frame.Codec, f.Frame.Key, vps)
	}
}
