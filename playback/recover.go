package playback

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/camgate/camgate/playback/internal/index"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// nameLayout is the time part of a segment's file name: UTC, millisecond
// precision, so names sort chronologically.
const nameLayout = "20060102T150405.000Z"

// segmentRel returns the path of a segment, relative to the camera folder:
// YYYY/MM/DD/HH/<start>_<run>.mp4, all UTC.
func segmentRel(start int64, run string) string {
	t := nsTime(start)
	return path.Join(t.Format("2006"), t.Format("01"), t.Format("02"), t.Format("15"), t.Format(nameLayout)+"_"+run+".mp4")
}

// parseSegmentName reads the start time and run from a segment file name.
func parseSegmentName(name string) (start int64, run string, ok bool) {
	base, found := strings.CutSuffix(name, ".mp4")
	if !found || len(base) < len(nameLayout)+2 || base[len(nameLayout)] != '_' {
		return 0, "", false
	}
	t, err := time.ParseInLocation(nameLayout, base[:len(nameLayout)], time.UTC)
	if err != nil {
		return 0, "", false
	}
	return t.UnixNano(), base[len(nameLayout)+1:], true
}

// scanned is what indexing one file produced.
type scanned struct {
	seg       index.Segment
	keyframes []index.Keyframe
	truncated int64 // bytes cut from an unfinished tail
	empty     bool  // no complete fragment: the file was removed (repair) or should be
}

// scanSegmentFile reads a segment file and returns its index row and
// keyframes. With repair it truncates an unfinished tail to the last
// complete fragment (so that every player can read the file), patches the
// mvhd duration, and removes a file without a complete fragment.
func scanSegmentFile(camDir, rel string, repair bool) (scanned, error) {
	abs := filepath.Join(camDir, filepath.FromSlash(rel))
	flag := os.O_RDONLY
	if repair {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(abs, flag, 0)
	if err != nil {
		return scanned{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return scanned{}, err
	}
	var out scanned
	sc, err := segfile.ScanFile(f, info.Size())
	if err != nil {
		if errors.Is(err, segfile.ErrIncomplete) || errors.Is(err, segfile.ErrCorrupt) {
			// Not even a complete init block: a crash right after the file
			// was created.
			out.empty = true
			if repair {
				f.Close()
				return out, os.Remove(abs)
			}
			return out, nil
		}
		return scanned{}, err
	}
	if len(sc.Fragments) == 0 {
		out.empty = true
		if repair {
			f.Close()
			return out, os.Remove(abs)
		}
		return out, nil
	}
	start, run, _ := parseSegmentName(path.Base(rel))
	var seq int64
	if sc.Init.HasMeta {
		start, run, seq = sc.Init.Meta.Start, sc.Init.Meta.Run, sc.Init.Meta.Seq
	}
	if run == "" {
		run = "unknown"
	}
	size := info.Size()
	if sc.End < size {
		out.truncated = size - sc.End
		if repair {
			if err := f.Truncate(sc.End); err != nil {
				return scanned{}, fmt.Errorf("truncate %s: %w", rel, err)
			}
			size = sc.End
		}
	}
	if repair {
		if err := segfile.PatchDuration(f, sc.Init, sc.Duration()/90); err != nil {
			return scanned{}, fmt.Errorf("patch %s: %w", rel, err)
		}
		if err := f.Sync(); err != nil {
			return scanned{}, fmt.Errorf("sync %s: %w", rel, err)
		}
	}
	codec, w, h := segfile.CodecInfo(sc.Init.Params)
	out.seg = index.Segment{
		Start: start, End: start + ticksToNs(int64(sc.Duration())),
		Run: run, Seq: seq, Path: rel, Bytes: size, Frames: sc.Frames(),
		Codec: codec, Width: int64(w), Height: int64(h),
	}
	for _, fr := range sc.Fragments {
		if fr.StartsWithKeyframe() {
			out.keyframes = append(out.keyframes, index.Keyframe{T: start + ticksToNs(int64(fr.BaseTime)), Offset: fr.Offset})
		}
	}
	return out, nil
}

// walkSegments lists the segment files of a camera folder (relative paths,
// sorted, which is chronological). With since > 0 it skips hour folders
// that end before since.
func walkSegments(camDir string, since int64) ([]string, error) {
	var out []string
	err := filepath.WalkDir(camDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(camDir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			depth := strings.Count(rel, "/") + 1
			if depth > 4 {
				return fs.SkipDir
			}
			if since > 0 && depth == 4 {
				// rel is YYYY/MM/DD/HH: skip hours that ended before since.
				t, err := time.ParseInLocation("2006/01/02/15", rel, time.UTC)
				if err == nil && t.Add(time.Hour).UnixNano() <= since {
					return fs.SkipDir
				}
			}
			return nil
		}
		if strings.Count(rel, "/") == 4 && strings.HasSuffix(rel, ".mp4") {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// recoverAll recovers every camera folder.
func (s *Store) recoverAll(ctx context.Context) error {
	names, err := s.cameraFolders()
	if err != nil {
		return err
	}
	for _, name := range names {
		c, err := s.camera(ctx, name, true)
		if err != nil {
			return err
		}
		if err := s.recoverCamera(ctx, c); err != nil {
			return fmt.Errorf("playback: recover camera %s: %w", name, err)
		}
	}
	return nil
}

// recoverCamera brings a camera's index in line with its files after a
// crash: it finishes interrupted deletions, scans the segments left open
// (truncating each to its last complete fragment), and indexes files newer
// than the index knows (created just before the crash).
func (s *Store) recoverCamera(ctx context.Context, c *camera) error {
	log := s.log.With("camera", c.id)
	deleting, err := c.db.WithState(ctx, index.StateDeleting)
	if err != nil {
		return err
	}
	for _, seg := range deleting {
		if err := s.deleteSegment(ctx, c, seg); err != nil {
			return err
		}
	}
	open, err := c.db.WithState(ctx, index.StateOpen)
	if err != nil {
		return err
	}
	for _, seg := range open {
		sc, err := scanSegmentFile(c.dir, seg.Path, true)
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && sc.empty):
			log.Info("recovery: removed an unfinished segment without a complete fragment", "path", seg.Path)
			if err := c.db.Delete(ctx, seg); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		sc.seg.ID, sc.seg.State = seg.ID, index.StateRecovered
		if err := c.db.Replace(ctx, sc.seg, sc.keyframes); err != nil {
			return err
		}
		log.Info("recovery: indexed an unfinished segment", "path", seg.Path, "frames", sc.seg.Frames,
			"end", nsTime(sc.seg.End), "truncatedBytes", sc.truncated)
	}
	// Files the index does not know: the newest ones, created by a recorder
	// that died before it inserted their rows.
	var since int64
	if newest, ok, err := c.db.Newest(ctx); err != nil {
		return err
	} else if ok {
		since = newest.Start
	}
	rels, err := walkSegments(c.dir, since)
	if err != nil {
		return err
	}
	for _, rel := range rels {
		if _, known, err := c.db.SegmentByPath(ctx, rel); err != nil {
			return err
		} else if known {
			continue
		}
		sc, err := scanSegmentFile(c.dir, rel, true)
		if err != nil {
			log.Warn("recovery: cannot read a segment file; skipped", "path", rel, "error", err)
			continue
		}
		if sc.empty {
			log.Info("recovery: removed a segment file without a complete fragment", "path", rel)
			continue
		}
		sc.seg.State = index.StateRecovered
		if _, err := c.db.InsertSegment(ctx, sc.seg, sc.keyframes); err != nil {
			return err
		}
		log.Info("recovery: indexed a segment file missing from the index", "path", rel, "frames", sc.seg.Frames)
	}
	return nil
}
