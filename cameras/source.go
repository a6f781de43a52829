package cameras

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/bluenviron/gortsplib/v4"
	"github.com/bluenviron/gortsplib/v4/pkg/base"
	"github.com/bluenviron/gortsplib/v4/pkg/description"
	"github.com/bluenviron/gortsplib/v4/pkg/format"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v4/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/camgate/camgate/appsettings"
)

// ingestCounters are per-packet problems, aggregated instead of logged one
// by one.
type ingestCounters struct {
	decodeErrors atomic.Uint64
	packetsLost  atomic.Uint64
	lastError    atomic.Value // string
}

func (c *ingestCounters) decodeError(err error) {
	c.decodeErrors.Add(1)
	c.lastError.Store(err.Error())
}

// rtspPull is one run of an RTSP source: connect, describe, set up the video
// media (H.264 or H.265), play, and publish access units into the stream until the connection
// fails or ctx ends. Reconnecting is the supervisor's job.
type rtspPull struct {
	url       string
	transport appsettings.Transport
	stream    *Stream
	counters  *ingestCounters
	// onFirstFrame is called once, when the first access unit arrives.
	onFirstFrame func()
	// log receives the RTSP client's own notices (a transport switch).
	log *slog.Logger
}

func (p *rtspPull) run(ctx context.Context) error {
	u, err := base.ParseURL(p.url)
	if err != nil {
		var parseErr *url.Error
		if errors.As(err, &parseErr) {
			// url.Parse's message quotes the whole URL, password and all,
			// and even its detail ("invalid port") may show part of it.
			err = errors.New("not a valid URL")
		}
		return &badURLError{fmt.Errorf("bad RTSP URL %q: %w", redactURL(p.url), err)}
	}
	c := &gortsplib.Client{
		Scheme:        u.Scheme,
		Host:          u.Host,
		Transport:     transportOf(p.transport),
		OnDecodeError: p.counters.decodeError,
		OnPacketsLost: func(lost uint64) { p.counters.packetsLost.Add(lost) },
		// Without this gortsplib prints through the standard log package.
		OnTransportSwitch: func(err error) {
			p.log.Info("RTSP transport switched", "reason", scrubText(err.Error(), p.url))
		},
	}
	if err := c.Start2(); err != nil {
		return p.clean(fmt.Errorf("connect: %w", err))
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()

	desc, _, err := c.Describe(u)
	if err != nil {
		return p.clean(fmt.Errorf("describe: %w", err))
	}
	medi, forma, decode, err := p.videoOf(desc)
	if err != nil {
		return err
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return p.clean(fmt.Errorf("setup: %w", err))
	}

	var gotFrame atomic.Bool
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS2(medi, pkt)
		if !ok {
			return
		}
		au, err := decode(pkt)
		if err != nil {
			if !errors.Is(err, errMorePackets) {
				p.counters.decodeError(err)
			}
			return
		}
		p.stream.WriteAU(pts, au)
		if !gotFrame.Swap(true) && p.onFirstFrame != nil {
			p.onFirstFrame()
		}
	})
	if _, err := c.Play(nil); err != nil {
		return p.clean(fmt.Errorf("play: %w", err))
	}
	err = c.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return p.clean(err)
}

// errMorePackets stands for the depacketizers' "not a whole access unit
// yet", which is no error.
var errMorePackets = errors.New("more packets needed")

// videoOf picks the camera's video: H.264 if it offers it (every browser
// decodes it), else H.265. It starts the stream's epoch with the parameter
// sets of the SDP and returns the media, the format and its depacketizer,
// or an *UnsupportedError.
func (p *rtspPull) videoOf(desc *description.Session) (*description.Media, format.Format,
	func(*rtp.Packet) ([][]byte, error), error,
) {
	var h264 *format.H264
	if medi := desc.FindFormat(&h264); medi != nil {
		dec, err := h264.CreateDecoder()
		if err != nil {
			return nil, nil, nil, p.clean(fmt.Errorf("H.264 decoder: %w", err))
		}
		sps, pps := h264.SafeParams()
		p.stream.BeginEpoch(sps, pps)
		return medi, h264, depacketizer(dec.Decode, rtph264.ErrMorePacketsNeeded, rtph264.ErrNonStartingPacketAndNoPrevious), nil
	}
	var h265 *format.H265
	if medi := desc.FindFormat(&h265); medi != nil {
		dec, err := h265.CreateDecoder()
		if err != nil {
			return nil, nil, nil, p.clean(fmt.Errorf("H.265 decoder: %w", err))
		}
		vps, sps, pps := h265.SafeParams()
		p.stream.BeginEpochH265(vps, sps, pps)
		return medi, h265, depacketizer(dec.Decode, rtph265.ErrMorePacketsNeeded, rtph265.ErrNonStartingPacketAndNoPrevious), nil
	}
	return nil, nil, nil, unsupported(desc.Medias)
}

// depacketizer wraps a gortsplib decoder: its errors that only mean "not a
// whole access unit yet" become errMorePackets.
func depacketizer(decode func(*rtp.Packet) ([][]byte, error), notYet ...error) func(*rtp.Packet) ([][]byte, error) {
	return func(pkt *rtp.Packet) ([][]byte, error) {
		au, err := decode(pkt)
		for _, e := range notYet {
			if errors.Is(err, e) {
				return nil, errMorePackets
			}
		}
		return au, err
	}
}

// clean removes the URL's password from an error, in case a library quotes
// the URL.
func (p *rtspPull) clean(err error) error {
	if err == nil {
		return nil
	}
	return scrubSecret(err, p.url)
}

func transportOf(name appsettings.Transport) *gortsplib.Transport {
	var t gortsplib.Transport
	switch name {
	case appsettings.TransportUDP:
		t = gortsplib.TransportUDP
	case appsettings.TransportTCP:
		t = gortsplib.TransportTCP
	default:
		return nil // automatic: UDP first, TCP when no UDP packet arrives
	}
	return &t
}

func describeFormats(medias []*description.Media) string {
	var names []string
	for _, m := range medias {
		for _, f := range m.Formats {
			names = append(names, f.Codec())
		}
	}
	if len(names) == 0 {
		return "no media"
	}
	return strings.Join(names, ", ")
}
