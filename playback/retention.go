package playback

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/camgate/camgate/playback/internal/index"
)

// Quota watermarks: above high × quota, the oldest segments go until at
// most low × quota remain.
const (
	quotaHigh = 0.95
	quotaLow  = 0.90
	// deleteBatch is how many segments one index query hands to retention.
	deleteBatch = 100
)

// CleanupResult says what one retention pass removed.
type CleanupResult struct {
	// ByAge and ByQuota count the segments removed by each rule.
	ByAge, ByQuota int
	// Bytes is the space they took.
	Bytes int64
}

func (s *Store) cleanupLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := s.Cleanup(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("retention failed", "error", err)
		} else if res.ByAge+res.ByQuota > 0 {
			s.log.Info("retention removed recordings", "byAge", res.ByAge, "byQuota", res.ByQuota, "bytes", res.Bytes)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Cleanup runs retention once: per camera, segments that ended longer ago
// than the camera's retention; then, while all recordings take more than
// 95% of the quota, the oldest segments of any camera until 90% remain.
// Segments being written are never removed. The background loop calls it
// every CleanupInterval.
func (s *Store) Cleanup(ctx context.Context) (CleanupResult, error) {
	var res CleanupResult
	names, err := s.cameraFolders()
	if err != nil {
		return res, err
	}
	var cams []*camera
	for _, name := range names {
		c, err := s.camera(ctx, name, false)
		if err != nil {
			return res, err
		}
		if c != nil {
			cams = append(cams, c)
		}
	}
	now := time.Now()
	for _, c := range cams {
		retain := s.opts.Retain(c.id)
		if retain <= 0 {
			continue
		}
		cutoff := now.Add(-retain).UnixNano()
		for {
			segs, err := c.db.EndedBefore(ctx, cutoff, deleteBatch)
			if err != nil {
				return res, err
			}
			for _, seg := range segs {
				if err := s.deleteSegment(ctx, c, seg); err != nil {
					return res, err
				}
				res.ByAge++
				res.Bytes += seg.Bytes
			}
			if len(segs) < deleteBatch {
				break
			}
		}
	}
	if quota := int64(s.rec.QuotaMB) * 1_000_000; quota > 0 {
		n, bytes, err := s.enforceQuota(ctx, cams, quota)
		res.ByQuota += n
		res.Bytes += bytes
		if err != nil {
			return res, err
		}
	}
	if res.ByAge+res.ByQuota > 0 {
		for _, c := range cams {
			if err := c.db.Vacuum(ctx); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// enforceQuota deletes the globally oldest segments while usage is above
// the low watermark, once it went above the high one.
func (s *Store) enforceQuota(ctx context.Context, cams []*camera, quota int64) (int, int64, error) {
	var total int64
	for _, c := range cams {
		n, err := c.db.TotalBytes(ctx)
		if err != nil {
			return 0, 0, err
		}
		total += n
	}
	if float64(total) <= quotaHigh*float64(quota) {
		return 0, 0, nil
	}
	target := int64(quotaLow * float64(quota))
	// Candidates per camera, oldest first; take the oldest of all each time.
	queue := make([][]index.Segment, len(cams))
	exhausted := make([]bool, len(cams))
	deleted, freed := 0, int64(0)
	for total > target {
		best := -1
		for i, c := range cams {
			if len(queue[i]) == 0 && !exhausted[i] {
				segs, err := c.db.Oldest(ctx, deleteBatch)
				if err != nil {
					return deleted, freed, err
				}
				queue[i], exhausted[i] = segs, len(segs) == 0
			}
			if len(queue[i]) > 0 && (best < 0 || queue[i][0].Start < queue[best][0].Start) {
				best = i
			}
		}
		if best < 0 {
			s.log.Warn("retention: over the quota, but only segments being written are left",
				"usedBytes", total, "quotaBytes", quota)
			break
		}
		seg := queue[best][0]
		queue[best] = queue[best][1:]
		if err := s.deleteSegment(ctx, cams[best], seg); err != nil {
			return deleted, freed, err
		}
		total -= seg.Bytes
		freed += seg.Bytes
		deleted++
	}
	return deleted, freed, nil
}

// deleteSegment removes a segment: the row is marked deleting, the file
// unlinked, the row removed, then empty folders. Each step is idempotent,
// so a crash in between is finished by the next start-up's recovery. A
// player reading the file keeps its open handle.
func (s *Store) deleteSegment(ctx context.Context, c *camera, seg index.Segment) error {
	if seg.State == index.StateOpen {
		return fmt.Errorf("playback: refusing to delete open segment %s", seg.Path)
	}
	if seg.State != index.StateDeleting {
		if err := c.db.SetState(ctx, seg.ID, index.StateDeleting); err != nil {
			return err
		}
	}
	abs := filepath.Join(c.dir, filepath.FromSlash(seg.Path))
	if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("playback: delete %s: %w", seg.Path, err)
	}
	if err := c.db.Delete(ctx, seg); err != nil {
		return err
	}
	// Remove the hour, day, month and year folders once empty.
	dir := filepath.Dir(abs)
	for range 4 {
		if dir == c.dir || os.Remove(dir) != nil {
			break
		}
		dir = filepath.Dir(dir)
	}
	return nil
}
