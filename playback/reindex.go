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
	"strings"

	"github.com/camgate/camgate/playback/internal/index"
)

// ReindexResult counts what Reindex did.
type ReindexResult struct {
	// Cameras, Segments and Keyframes count what the new indexes hold.
	Cameras, Segments, Keyframes int
	// Bytes is the size of the indexed segments.
	Bytes int64
	// Repaired counts files cut back to their last complete fragment.
	Repaired int
	// Removed counts files without a complete fragment, deleted.
	Removed int
	// Unreadable counts files that are not segments; they are left alone.
	Unreadable int
}

// Reindex rebuilds the index of every camera folder under dir (only
// cameraID's when it is not empty) from the segment files, which are the
// source of truth: segments with their times from camgate's metadata box
// (or the file name), runs, sizes, frame counts and keyframe tables.
// Files that a crash left unfinished are truncated to their last complete
// fragment. The new index replaces the old one only when it is complete.
//
// camgate must not be running on dir: Reindex takes the store's lock and
// fails when it is held.
func Reindex(ctx context.Context, dir, cameraID string, log *slog.Logger) (ReindexResult, error) {
	if log == nil {
		log = slog.Default()
	}
	var res ReindexResult
	if cameraID != "" {
		if _, err := folderName(cameraID); err != nil {
			return res, err
		}
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return res, fmt.Errorf("reindex: there is no recordings folder %s: nothing was recorded under this DataDir (is it the DataDir of the settings camgate runs with?)", dir)
	} else if err != nil {
		return res, fmt.Errorf("reindex: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return res, fmt.Errorf("reindex: %w", err)
	}
	defer unlock()
	var names []string
	if cameraID != "" {
		name, err := folderName(cameraID)
		if err != nil {
			return res, err
		}
		if _, err := os.Stat(filepath.Join(dir, name)); errors.Is(err, fs.ErrNotExist) {
			return res, noSuchCamera(dir, cameraID)
		} else if err != nil {
			return res, fmt.Errorf("reindex: camera %s: %w", cameraID, err)
		}
		names = []string{name}
	} else {
		s := &Store{dir: dir}
		if names, err = s.cameraFolders(); err != nil {
			return res, err
		}
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := reindexCamera(ctx, filepath.Join(dir, name), &res, log.With("camera", name)); err != nil {
			return res, fmt.Errorf("reindex: camera %s: %w", name, err)
		}
		res.Cameras++
	}
	return res, nil
}

// noSuchCamera is the error for a camera id with no folder under dir: a
// *RequestError that lists the cameras that have one.
func noSuchCamera(dir, cameraID string) error {
	have, err := (&Store{dir: dir}).cameraFolders()
	list := "none"
	if err == nil && len(have) > 0 {
		list = strings.Join(have, ", ")
	}
	return &RequestError{Field: "cameraId", Msg: fmt.Sprintf("%s has no recordings in %s; the cameras with recordings there: %s", cameraID, dir, list)}
}

func reindexCamera(ctx context.Context, camDir string, res *ReindexResult, log *slog.Logger) error {
	rels, err := walkSegments(camDir, 0)
	if err != nil {
		return err
	}
	var segs []index.Segment
	var kfs [][]index.Keyframe
	for _, rel := range rels {
		sc, err := scanSegmentFile(camDir, rel, true)
		if err != nil {
			res.Unreadable++
			log.Warn("reindex: not a readable segment; left alone", "path", rel, "error", err)
			continue
		}
		if sc.empty {
			res.Removed++
			log.Info("reindex: removed a segment without a complete fragment", "path", rel)
			continue
		}
		if sc.truncated > 0 {
			res.Repaired++
			log.Info("reindex: cut an unfinished segment back to its last complete fragment", "path", rel, "bytes", sc.truncated)
		}
		sc.seg.State = index.StateIndexed
		segs = append(segs, sc.seg)
		kfs = append(kfs, sc.keyframes)
	}
	// Chronological order (file names sort so; metadata decides).
	order := make([]int, len(segs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return segs[order[a]].Start < segs[order[b]].Start })
	sortedSegs := make([]index.Segment, len(segs))
	sortedKfs := make([][]index.Keyframe, len(segs))
	for i, j := range order {
		sortedSegs[i], sortedKfs[i] = segs[j], kfs[j]
	}

	final := filepath.Join(camDir, index.FileName)
	tmp := final + ".rebuild"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	db, err := index.Open(ctx, tmp)
	if err != nil {
		return err
	}
	if _, err := db.Bulk(ctx, sortedSegs, sortedKfs); err != nil {
		db.Close()
		return err
	}
	if err := db.Checkpoint(ctx); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	// The old index's WAL must go before the new file takes its name, or
	// SQLite would replay it into the new one.
	for _, p := range []string{final + "-wal", final + "-shm", tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	res.Segments += len(sortedSegs)
	for i := range sortedSegs {
		res.Keyframes += len(sortedKfs[i])
		res.Bytes += sortedSegs[i].Bytes
	}
	log.Info("reindex: camera indexed", "segments", len(sortedSegs))
	return nil
}
