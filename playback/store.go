package playback

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/camgate/camgate/appsettings"
	"github.com/camgate/camgate/playback/internal/index"
)

// GapTolerance is the largest hole between two recordings that still counts
// as continuous: Spans merges across it and the player plays through it
// without gap events (the frame before it is simply shown a little longer).
const GapTolerance = time.Second

// Store is the recording store of one camgate: a folder per camera with
// segment files and a SQLite index. It recovers unfinished segments when it
// opens, runs retention in the background, creates recorders, and serves
// spans, exports and players. It is safe for concurrent use.
type Store struct {
	opts   Options
	rec    appsettings.Recording
	dir    string
	log    *slog.Logger
	unlock func()

	mu        sync.Mutex
	cams      map[string]*camera
	recorders map[string]*Recorder
	players   map[*Player]struct{}
	closed    bool
}

// camera is one camera folder and its index.
type camera struct {
	id  string // folder name: the camera id in lower case
	dir string
	db  *index.DB
}

// NewStore opens the store in opts.Dir (creating it), takes its lock,
// recovers segments that a crash left unfinished (truncating each to its
// last complete fragment and indexing it). It starts nothing: Run runs
// retention and closes the store when its ctx ends; Close releases a store
// that is not Run.
func NewStore(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, errors.New("playback: Options.Dir is required")
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	s := &Store{
		opts:      opts,
		rec:       opts.Recording,
		dir:       opts.Dir,
		log:       opts.Logger.With("component", "playback"),
		unlock:    unlock,
		cams:      map[string]*camera{},
		recorders: map[string]*Recorder{},
		players:   map[*Player]struct{}{},
	}
	if err := s.recoverAll(ctx); err != nil {
		s.closeDBs()
		unlock()
		return nil, err
	}
	return s, nil
}

// Run runs retention every CleanupInterval (the first pass at once) until
// ctx ends, then closes the store (Close) and returns when every goroutine
// of the store has exited. A store that is not Run keeps its recordings
// forever; its owner calls Close.
func (s *Store) Run(ctx context.Context) error {
	if s.opts.CleanupInterval > 0 {
		s.cleanupLoop(ctx, s.opts.CleanupInterval)
	} else {
		<-ctx.Done()
	}
	s.Close()
	return nil
}

// Dir is the recordings folder.
func (s *Store) Dir() string { return s.dir }

// Close closes the recorders and players still open, closes the indexes
// and releases the folder. It returns when their goroutines have exited.
// Run calls it when its ctx ends; a retention pass running on another
// goroutine (Cleanup) must have returned.
func (s *Store) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	recs := make([]*Recorder, 0, len(s.recorders))
	for _, r := range s.recorders {
		recs = append(recs, r)
	}
	players := make([]*Player, 0, len(s.players))
	for p := range s.players {
		players = append(players, p)
	}
	s.mu.Unlock()
	for _, r := range recs {
		r.close()
	}
	for _, p := range players {
		p.Close()
	}
	s.closeDBs()
	s.unlock()
}

func (s *Store) closeDBs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cams {
		if err := c.db.Close(); err != nil {
			s.log.Warn("closing index", "camera", c.id, "error", err)
		}
	}
	s.cams = map[string]*camera{}
}

// folderName maps a camera id to its folder: the id's key (lower case), so
// that every spelling of an Id finds the same folder. Ids are GUIDs in
// camgate; anything that could escape the folder is refused.
func folderName(cameraID string) (string, error) {
	id := string(appsettings.KeyOf(cameraID))
	ok := len(id) >= 1 && len(id) <= 64
	for _, c := range []byte(id) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			ok = false
			break
		}
	}
	if !ok {
		return "", &RequestError{Field: "cameraId", Msg: "must be 1 to 64 letters, digits, '-' or '_' (a camera GUID)"}
	}
	return id, nil
}

// camera returns the camera's folder and index. Without create, a camera
// that has no folder yields nil (it has no recordings).
func (s *Store) camera(ctx context.Context, cameraID string, create bool) (*camera, error) {
	name, err := folderName(cameraID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if c, ok := s.cams[name]; ok {
		return c, nil
	}
	dir := filepath.Join(s.dir, name)
	if !create {
		if _, err := os.Stat(filepath.Join(dir, index.FileName)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("playback: camera %s: %w", name, err)
	}
	db, err := index.Open(ctx, filepath.Join(dir, index.FileName))
	if err != nil {
		return nil, fmt.Errorf("playback: camera %s: %w", name, err)
	}
	c := &camera{id: name, dir: dir, db: db}
	s.cams[name] = c
	return c, nil
}

// cameraFolders lists the camera folders on disk, sorted.
func (s *Store) cameraFolders() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("playback: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if name, err := folderName(e.Name()); err == nil && name == e.Name() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Span is a stretch of continuous recording.
type Span struct {
	Start, End time.Time
}

// Spans returns the recorded spans of a camera that overlap [from, to),
// clipped to it, in time order. Segments less than GapTolerance apart are
// merged. It reads only the index. A camera without recordings has none.
func (s *Store) Spans(ctx context.Context, cameraID string, from, to time.Time) ([]Span, error) {
	if !to.After(from) {
		return nil, &RequestError{Field: "to", Msg: "must be after from"}
	}
	c, err := s.camera(ctx, cameraID, false)
	if err != nil || c == nil {
		return nil, err
	}
	segs, err := c.db.Overlapping(ctx, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("playback: spans: %w", err)
	}
	var out []Span
	var cur struct{ start, end int64 }
	have := false
	for _, seg := range segs {
		if seg.End <= seg.Start {
			continue // opened, nothing written yet
		}
		if have && seg.Start-cur.end <= int64(GapTolerance) {
			cur.end = max(cur.end, seg.End)
			continue
		}
		if have {
			out = append(out, Span{nsTime(cur.start), nsTime(cur.end)})
		}
		cur.start, cur.end, have = seg.Start, seg.End, true
	}
	if have {
		out = append(out, Span{nsTime(cur.start), nsTime(cur.end)})
	}
	for i := range out {
		if out[i].Start.Before(from) {
			out[i].Start = from.UTC()
		}
		if out[i].End.After(to) {
			out[i].End = to.UTC()
		}
	}
	return out, nil
}

// Range returns the start of a camera's oldest recording and the end of its
// newest; ok is false when it has none.
func (s *Store) Range(ctx context.Context, cameraID string) (oldest, newest time.Time, ok bool, err error) {
	c, err := s.camera(ctx, cameraID, false)
	if err != nil || c == nil {
		return time.Time{}, time.Time{}, false, err
	}
	lo, hi, ok, err := c.db.Range(ctx)
	if err != nil || !ok {
		return time.Time{}, time.Time{}, false, err
	}
	return nsTime(lo), nsTime(hi), true, nil
}

func (s *Store) addPlayer(p *Player) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.players[p] = struct{}{}
	return nil
}

func (s *Store) removePlayer(p *Player) {
	s.mu.Lock()
	delete(s.players, p)
	s.mu.Unlock()
}
