package playback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camgate/camgate/cameras"
)

// minIdle is the shortest silence after which a run ends (its segment is
// closed) because the camera sent nothing.
const minIdle = 2 * time.Second

// Recorder records one camera stream into the store. It is a plain reader
// of the stream hub, like a viewer: the hub never waits for it, and when
// the disk falls behind and the reader's queue (Recording.QueueFrames) is
// full, the hub drops frames up to the next keyframe and counts them, as
// it does for a slow viewer; the recorder starts a new run at that
// keyframe. Its one goroutine cuts the frames into segments and fragments
// and keeps the index up to date. Create it with Store.NewRecorder, then
// Run it; when Run's ctx ends it writes what the hub queued for it.
type Recorder struct {
	store  *Store
	cam    *camera
	stream *cameras.Stream
	log    *slog.Logger

	segTicks    int64
	fragTicks   int64
	maxDrift    time.Duration
	syncEvery   time.Duration
	idle        time.Duration
	queueFrames int

	mu       sync.Mutex
	started  bool
	closed   bool
	reader   *cameras.Reader
	wg       sync.WaitGroup
	done     chan struct{} // closed when close begins: ends Run
	finished chan struct{} // closed when close has returned

	framesIn    atomic.Uint64
	written     atomic.Uint64
	skipped     atomic.Uint64
	runs        atomic.Uint64
	segments    atomic.Uint64
	fragments   atomic.Uint64
	writeErrors atomic.Uint64
	lastError   atomic.Value  // string
	handled     atomic.Uint64 // frames the writer has dealt with (tests wait on it)

	w writer
}

// RecorderStats are a recorder's counters since it started.
type RecorderStats struct {
	// FramesIn counts live frames taken from the stream hub.
	FramesIn uint64
	// FramesWritten counts frames written to segment files.
	FramesWritten uint64
	// Dropped counts frames the hub dropped because the recorder's queue
	// was full (the disk could not keep up).
	Dropped uint64
	// Skipped counts frames not recorded while waiting for a keyframe to
	// start a run.
	Skipped uint64
	// Runs, Segments and Fragments count what was started and written.
	Runs, Segments, Fragments uint64
	// WriteErrors counts failed writes; LastError is the latest.
	WriteErrors uint64
	LastError   string
}

// NewRecorder returns a recorder of the stream, which records under the
// stream's CameraID. A camera has at most one recorder at a time
// (ErrRecording).
func (s *Store) NewRecorder(stream *cameras.Stream) (*Recorder, error) {
	c, err := s.camera(context.Background(), stream.CameraID, true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, busy := s.recorders[c.id]; busy {
		return nil, fmt.Errorf("%w: %s", ErrRecording, stream.CameraID)
	}
	r := &Recorder{
		store:       s,
		cam:         c,
		stream:      stream,
		log:         s.log.With("camera", stream.CameraID, "stream", stream.StreamID),
		segTicks:    durToTicks(time.Duration(s.rec.SegmentDuration)),
		fragTicks:   durToTicks(time.Duration(s.rec.FragmentDuration)),
		maxDrift:    time.Duration(s.rec.MaxDrift),
		syncEvery:   time.Duration(s.rec.SyncInterval),
		idle:        max(minIdle, 2*time.Duration(s.rec.FragmentDuration)),
		queueFrames: s.rec.QueueFrames,
		done:        make(chan struct{}),
		finished:    make(chan struct{}),
	}
	r.w.r = r
	s.recorders[c.id] = r
	return r, nil
}

// start attaches the recorder to the stream hub and starts recording at the
// next live keyframe.
func (r *Recorder) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.started {
		return nil
	}
	r.started = true
	if newest, ok, err := r.cam.db.Newest(context.Background()); err != nil {
		return fmt.Errorf("playback: recorder: %w", err)
	} else if ok {
		r.w.lastEnd = newest.End
	}
	r.attach()
	r.spawn()
	r.log.Info("recording", "dir", r.cam.dir)
	return nil
}

// Run records until ctx ends or the store is closed, then writes the
// frames the hub queued for the recorder, finishes the open fragment and
// segment, and returns when the recorder's goroutine has exited. It fails
// at once, recording nothing, when the recorder cannot start (ErrClosed
// once the recorder or its store has been closed: a recorder runs once).
// Either way the camera is free for a new recorder when Run returns.
func (r *Recorder) Run(ctx context.Context) error {
	if err := r.start(); err != nil {
		r.close()
		return err
	}
	select {
	case <-ctx.Done():
	case <-r.done:
	}
	r.close()
	return nil
}

// Started reports whether Run has attached the recorder to the stream hub:
// from then on it records the frames written to the stream, from the next
// live keyframe. Tests wait for it before they write frames.
func (r *Recorder) Started() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.started
}

// attach adds the recorder's reader to the hub.
func (r *Recorder) attach() { r.reader = r.stream.AddReader(r.queueFrames) }

// spawn starts the recorder's goroutine.
func (r *Recorder) spawn() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.loop()
	}()
}

// close stops recording: the frames the hub queued for the recorder are
// written, the open segment is closed, and close returns when the
// recorder's goroutine has exited. Run calls it when its ctx ends, the
// store when it closes (which also makes Run return); when both do at
// once, each returns only when the recorder is closed.
func (r *Recorder) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.finished
		return
	}
	defer close(r.finished)
	r.closed = true
	close(r.done)
	started := r.started
	r.mu.Unlock()
	if started {
		r.reader.Close()
		r.wg.Wait()
	}
	r.store.mu.Lock()
	if r.store.recorders[r.cam.id] == r {
		delete(r.store.recorders, r.cam.id)
	}
	r.store.mu.Unlock()
}

// Stats returns the recorder's counters.
func (r *Recorder) Stats() RecorderStats {
	st := RecorderStats{
		FramesIn:      r.framesIn.Load(),
		FramesWritten: r.written.Load(),
		Skipped:       r.skipped.Load(),
		Runs:          r.runs.Load(),
		Segments:      r.segments.Load(),
		Fragments:     r.fragments.Load(),
		WriteErrors:   r.writeErrors.Load(),
	}
	r.mu.Lock()
	if r.reader != nil {
		st.Dropped = r.reader.Dropped()
	}
	r.mu.Unlock()
	st.LastError, _ = r.lastError.Load().(string)
	return st
}

// loop takes frames from the hub reader's queue and writes them, until the
// reader is closed and its queue is empty; then it closes the open segment.
// Each frame's wall time is its arrival at the hub (Frame.Arrived), so
// however long the disk makes a frame wait in the queue, its time is the
// same.
func (r *Recorder) loop() {
	w := &r.w
	for {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if w.run != nil {
			// A camera that sends nothing for r.idle ends the run, so an
			// outage does not keep the last fragment in memory.
			ctx, cancel = context.WithDeadline(ctx, w.lastArrival.Add(r.idle))
		}
		it, err := r.reader.Next(ctx)
		cancel()
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			w.endRun("no frames for " + r.idle.String())
			continue
		case err != nil:
			w.endRun("recorder closed")
			return
		case it.CatchUp:
			// The hub's cached GOP: frames from before the recorder was
			// attached, which a recorder of this camera before this one
			// may have written already. A recording starts at a live
			// keyframe.
			continue
		}
		r.framesIn.Add(1)
		w.handle(it)
	}
}
