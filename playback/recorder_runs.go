package playback

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// Runs: a run is a stretch of frames with one continuous time base (see
// docs/recording.md, "Runs and the time base"). This file decides where
// runs start and end; recorder_segments.go writes their frames.

// writer is the state of the recorder's goroutine: the run, the segment
// being written and the fragment being built.
type writer struct {
	r           *Recorder
	run         *run
	seg         *openSegment
	part        []*fmp4.Sample
	partFirst   int64 // DTS of the first sample of part
	held        *held
	lastDur     int64 // duration of the last written sample, ticks
	lastEnd     int64 // end of the newest recording, ns: new runs start after it
	lastArrival time.Time
	errLog      rateLog
}

// run is a stretch of frames with one continuous time base.
type run struct {
	id      string
	epoch   uint64
	params  segfile.Params
	clock0  time.Time // arrival of the first frame
	wall0   int64     // wall time given to the first frame, ns
	dts0    int64
	lastDTS int64
	prevAt  time.Time // arrival and DTS of the previous frame
	prevDTS int64
	seq     int64 // sequence number of the next segment
}

// held is the newest frame, kept until the next one gives its duration.
type held struct {
	f   *cameras.Frame
	dts int64
}

// handle records one live frame taken from the hub.
func (w *writer) handle(it cameras.Item) {
	defer w.r.handled.Add(1)
	f := it.Frame
	w.lastArrival = f.Arrived
	var dts int64
	if w.run != nil {
		var reason string
		dts, reason = w.check(f, it.AfterDrop)
		if reason != "" {
			w.endRun(reason)
		}
	}
	if w.run == nil {
		if !f.Key {
			w.r.skipped.Add(1)
			return
		}
		var ok bool
		if dts, ok = w.startRun(f); !ok {
			w.r.skipped.Add(1)
			return
		}
	}
	w.add(f, dts)
}

// check returns the frame's DTS, or why the frame cannot continue the run.
// afterDrop reports that the hub dropped frames right before this one.
func (w *writer) check(f *cameras.Frame, afterDrop bool) (int64, string) {
	run := w.run
	if afterDrop {
		return 0, "frames were dropped (the disk fell behind)"
	}
	if f.Epoch != run.epoch {
		return 0, "the camera reconnected"
	}
	if f.Key && !paramsOf(f).Equal(run.params) {
		return 0, "the parameter sets changed"
	}
	// The hub derived the decode time (cameras.Frame.DTS): samples are
	// stored in decode order, timed by it, with PTS − DTS as their
	// composition offset.
	dts := f.DTS
	if dts <= run.lastDTS {
		return 0, "the timestamps went back"
	}
	// A jump of the camera's timestamps against camgate's clock from one
	// frame to the next (an RTP timestamp discontinuity) ends the run at
	// once, so that no sample (and no segment) stretches over the jump.
	if step := f.Arrived.Sub(run.prevAt) - ticksToDurSigned(dts-run.prevDTS); step > w.r.maxDrift || step < -w.r.maxDrift {
		return 0, fmt.Sprintf("the camera's timestamps jumped by %v", (-step).Round(time.Millisecond))
	}
	// Slow drift between the two clocks is checked at keyframes, where a
	// new run can start without losing a frame.
	if f.Key {
		drift := f.Arrived.Sub(run.clock0) - ticksToDurSigned(dts-run.dts0)
		if drift > w.r.maxDrift || drift < -w.r.maxDrift {
			return 0, fmt.Sprintf("the camera's clock drifted by %v from camgate's", drift.Round(time.Millisecond))
		}
	}
	run.prevAt, run.prevDTS = f.Arrived, dts
	return dts, ""
}

func ticksToDurSigned(t int64) time.Duration {
	if t < 0 {
		return -ticksToDur(-t)
	}
	return ticksToDur(t)
}

// paramsOf returns the parameter sets at the front of a keyframe (the hub
// puts them there). A change of codec changes them too: an H.264 frame has
// no VPS.
func paramsOf(f *cameras.Frame) segfile.Params {
	vps, sps, pps := f.ParamSets()
	if f.Codec != cameras.CodecH265 {
		vps = nil
	}
	return segfile.Params{VPS: vps, SPS: sps, PPS: pps}
}

func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// startRun starts a run at keyframe f and returns its DTS.
func (w *writer) startRun(f *cameras.Frame) (int64, bool) {
	params := paramsOf(f)
	if params.SPS == nil || params.PPS == nil || (f.Codec == cameras.CodecH265 && params.VPS == nil) {
		return 0, false
	}
	dts := f.DTS
	run := &run{id: newRunID(), epoch: f.Epoch, params: params, clock0: f.Arrived, prevAt: f.Arrived, prevDTS: dts}
	run.dts0, run.lastDTS = dts, dts
	wall := f.Arrived.UnixNano()
	if wall < w.lastEnd {
		// The clock went back (or the previous run's camera clock ran
		// ahead): recordings never overlap, so this run starts where the
		// last one ended.
		if w.lastEnd-wall > int64(time.Second) {
			w.r.log.Warn("recorder: camgate's clock is behind the newest recording; the new run starts after it",
				"behind", time.Duration(w.lastEnd-wall).Round(time.Millisecond))
		}
		wall = w.lastEnd
	}
	run.wall0 = wall
	w.run = run
	w.r.runs.Add(1)
	return dts, true
}

// endRun writes what the run holds in memory and closes its segment.
func (w *writer) endRun(reason string) {
	if w.run == nil {
		return
	}
	if w.held != nil && w.seg != nil {
		dur := w.lastDur
		if dur <= 0 {
			dur = segfile.TimeScale / 25
		}
		next := w.held.dts + dur
		if w.appendHeld(dur, next) {
			w.flushPart()
		}
	}
	w.closeSegment()
	w.r.log.Info("recording run ended", "reason", reason)
	w.run, w.held, w.part = nil, nil, nil
}

// abortRun drops the run after a failure, keeping what was written.
func (w *writer) abortRun() {
	if w.seg != nil {
		w.part = nil
		w.held = nil
		w.closeSegment()
	}
	w.run, w.held, w.part = nil, nil, nil
}
