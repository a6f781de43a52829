package playback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/camgate/camgate/cameras"
	"github.com/camgate/camgate/playback/internal/index"
	"github.com/camgate/camgate/playback/internal/segfile"
)

// Reading for a player: segment by segment, following the live edge,
// keyframes only when decimating, and every sample built as a live frame.

// sample is one recorded frame read from a segment, built as a live frame
// (cameras.FrameBuilder): its PTS is set when Next returns it.
type sample struct {
	t     int64 // recorded time, ns
	dur   int64 // ns
	frame *cameras.Frame
}

// cursor reads one segment.
type cursor struct {
	seg      index.Segment
	file     *os.File
	init     *segfile.Init
	off      int64
	frag     *segfile.Fragment
	idx      int
	ticks    int64 // decode time of frag.Samples[idx], from the segment start
	decimate bool
	kfs      []index.Keyframe
	kfi      int
	recheck  bool // the segment was seen closed; read once more before leaving it
}

func (c *cursor) close() {
	if c != nil && c.file != nil {
		c.file.Close()
		c.file = nil
	}
}

// buildFrame builds a recorded sample (AVCC) as a live frame, with the
// function live ingest uses, so that one sender plays both. A sample that
// builds nothing a decoder could use (damaged, or without NAL units) is
// skipped: nil.
func (p *Player) buildFrame(payload []byte) *cameras.Frame {
	var au h264.AVCC
	if err := au.Unmarshal(payload); err != nil {
		return nil
	}
	f := p.build.Build(au)
	if f != nil {
		f.Epoch = 1
	}
	return f
}

// openCursor opens a segment for reading, at keyframe kf or (nil) at its
// first fragment.
func (p *Player) openCursor(ctx context.Context, seg index.Segment, kf *index.Keyframe) error {
	c := &cursor{seg: seg}
	f, err := os.Open(filepath.Join(p.cam.dir, filepath.FromSlash(seg.Path)))
	if err != nil {
		return fmt.Errorf("playback: segment %s: %w", seg.Path, err)
	}
	c.file = f
	if c.init, err = segfile.ReadInit(f); err != nil {
		f.Close()
		return fmt.Errorf("playback: segment %s: %w", seg.Path, err)
	}
	c.off = c.init.End
	// The builder takes the parameter sets of the recording, for a file
	// whose IDRs lack them; camgate's own files carry them in every IDR.
	if c.init.H265() {
		p.build.ResetH265(c.init.VPS, c.init.SPS, c.init.PPS)
	} else {
		p.build.Reset(c.init.SPS, c.init.PPS)
	}
	from := seg.Start
	if kf != nil {
		c.off, from = kf.Offset, kf.T
	}
	c.decimate = p.decimate(seg)
	p.keyOnly.Store(c.decimate)
	if c.decimate {
		if c.kfs, err = p.cam.db.Keyframes(ctx, seg, from); err != nil {
			f.Close()
			return fmt.Errorf("playback: %w", err)
		}
	}
	p.cur = c
	return nil
}

// decimate decides whether a segment is played as keyframes only: above 2×,
// when speed × frame rate or speed × bitrate exceeds the budget.
func (p *Player) decimate(seg index.Segment) bool {
	if p.req.Speed <= 2 {
		return false
	}
	secs := float64(seg.End-seg.Start) / float64(time.Second)
	if secs < 0.5 || seg.Frames < 2 {
		return p.lastDec // too little to measure yet
	}
	fps := float64(seg.Frames) / secs
	kbps := float64(seg.Bytes) * 8 / 1000 / secs
	p.lastDec = p.req.Speed*fps > p.maxFPS || p.req.Speed*kbps > p.maxKbps
	return p.lastDec
}

// nextSample returns the next recorded frame to play, crossing segments
// (and noting gaps), following the live edge at speeds up to 1, and
// skipping non-keyframes while decimating. io.EOF means nothing is left.
func (p *Player) nextSample(ctx context.Context) (sample, error) {
	for p.cur != nil {
		c := p.cur
		if c.decimate {
			s, ok, err := p.nextKeySample(ctx, c)
			if err != nil || ok {
				return s, err
			}
		} else {
			if c.frag != nil && c.idx < len(c.frag.Samples) {
				fs := c.frag.Samples[c.idx]
				s := sample{t: c.seg.Start + ticksToNs(c.ticks), dur: ticksToNs(int64(fs.Duration))}
				c.ticks += int64(fs.Duration)
				c.idx++
				if s.frame = p.buildFrame(fs.Payload); s.frame == nil {
					continue
				}
				return s, nil
			}
			f, err := segfile.ReadFragment(c.file, c.off, -1, true)
			if err == nil {
				c.frag, c.idx, c.ticks, c.off = f, 0, int64(f.BaseTime), c.off+f.Size
				continue
			}
			if errors.Is(err, segfile.ErrCorrupt) {
				p.store.log.Warn("playback: damaged fragment; skipping the rest of the segment", "camera", p.cam.id,
					"path", c.seg.Path, "error", err)
			} else if !errors.Is(err, io.EOF) && !errors.Is(err, segfile.ErrIncomplete) {
				return sample{}, fmt.Errorf("playback: read %s: %w", c.seg.Path, err)
			} else if more, err := p.waitForData(ctx, c); err != nil {
				return sample{}, err
			} else if more {
				continue
			}
		}
		if err := p.advance(ctx); err != nil {
			return sample{}, err
		}
	}
	return sample{}, io.EOF
}

// nextKeySample returns the next keyframe of the segment that is due for a
// decimated stream; ok is false when the segment has none left.
func (p *Player) nextKeySample(ctx context.Context, c *cursor) (sample, bool, error) {
	for {
		for c.kfi < len(c.kfs) {
			k := c.kfs[c.kfi]
			c.kfi++
			if k.T < p.nextKeyT {
				continue
			}
			f, err := segfile.ReadFragment(c.file, k.Offset, -1, true)
			if err != nil {
				if errors.Is(err, segfile.ErrCorrupt) || errors.Is(err, segfile.ErrIncomplete) || errors.Is(err, io.EOF) {
					continue
				}
				return sample{}, false, fmt.Errorf("playback: read %s: %w", c.seg.Path, err)
			}
			fs := f.Samples[0]
			if fs.IsNonSyncSample {
				continue
			}
			fr := p.buildFrame(fs.Payload)
			if fr == nil || !fr.Key {
				continue
			}
			return sample{t: c.seg.Start + ticksToNs(int64(f.BaseTime)), dur: ticksToNs(int64(fs.Duration)), frame: fr}, true, nil
		}
		// The keyframes known when the segment was opened are used up. An
		// open segment may have more by now.
		if c.seg.State != index.StateOpen && c.recheck {
			return sample{}, false, nil
		}
		seg, ok, err := p.cam.db.Segment(ctx, c.seg.ID)
		if err != nil {
			return sample{}, false, fmt.Errorf("playback: %w", err)
		}
		if !ok {
			return sample{}, false, nil
		}
		from := c.seg.Start
		if len(c.kfs) > 0 {
			from = c.kfs[len(c.kfs)-1].T + 1
		}
		c.seg, c.recheck = seg, true
		more, err := p.cam.db.Keyframes(ctx, seg, from)
		if err != nil {
			return sample{}, false, fmt.Errorf("playback: %w", err)
		}
		if len(more) == 0 {
			return sample{}, false, nil
		}
		c.kfs, c.kfi = more, 0
	}
}

// waitForData is called at the end of the data of a segment. It reports
// whether reading the segment again may give more: once after the segment
// was closed (its last fragments), and, for an open segment at speeds up
// to 1, after waiting for the recorder to write more (the live edge).
func (p *Player) waitForData(ctx context.Context, c *cursor) (bool, error) {
	seg, ok, err := p.cam.db.Segment(ctx, c.seg.ID)
	if err != nil {
		return false, fmt.Errorf("playback: %w", err)
	}
	if !ok {
		return false, nil // deleted by retention meanwhile
	}
	c.seg = seg
	if seg.State != index.StateOpen {
		if c.recheck {
			return false, nil
		}
		c.recheck = true
		return true, nil
	}
	if p.req.Speed > 1 {
		return false, nil // ends at the live edge
	}
	if err := p.sleep(ctx, tailPoll); err != nil {
		return false, err
	}
	return true, nil
}

// advance moves to the segment after the current one, noting a gap.
func (p *Player) advance(ctx context.Context) error {
	prev := p.cur
	p.cur = nil
	prev.close()
	after := prev.seg
	for {
		next, ok, err := p.cam.db.SegmentAfter(ctx, after.Start)
		if err != nil {
			return fmt.Errorf("playback: %w", err)
		}
		if !ok {
			return nil
		}
		if next.Start-prev.seg.End > int64(GapTolerance) && p.gap == nil {
			p.gap = &gapInfo{from: prev.seg.End, until: next.Start}
		} else if p.gap != nil {
			p.gap.until = next.Start
		}
		err = p.openCursor(ctx, next, nil)
		if err == nil {
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, segfile.ErrCorrupt) && !errors.Is(err, segfile.ErrIncomplete) {
			return err
		}
		p.store.log.Warn("playback: segment unreadable; skipped", "camera", p.cam.id, "path", next.Path, "error", err)
		after = next
	}
}
