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

// rtspPull is one run of an RTSP source: connect, describe, set up the H.264
// media, play, and publish access units into the stream until the connection
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
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil {
		return unsupported(desc.Medias)
	}
	dec, err := forma.CreateDecoder()
	if err != nil {
		return p.clean(fmt.Errorf("H.264 decoder: %w", err))
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return p.clean(fmt.Errorf("setup: %w", err))
	}
	sps, pps := forma.SafeParams()
	p.stream.BeginEpoch(sps, pps)

	var gotFrame atomic.Bool
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS2(medi, pkt)
		if !ok {
			return
		}
		au, err := dec.Decode(pkt)
		if err != nil {
			if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
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
