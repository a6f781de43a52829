package rtc

import (
	"time"

	"github.com/pion/rtcp"
)

// senderReportInterval is how often a viewer gets an RTCP sender report
// while video flows, as browsers send theirs.
const senderReportInterval = time.Second

// senderReports writes the RTCP sender reports (RFC 3550 section 6.4.1) of
// one viewer's video: the mapping of its RTP clock to wall-clock time, and
// the packets and bytes sent, which browsers use for round-trip time,
// statistics and the capture time of frames. camgate writes them itself,
// right after a frame, instead of with pion's report interceptor, which
// extrapolates the RTP time at the codec's 90 kHz (camgate's viewer clock
// counts milliseconds by default, so its reports were off by seconds) and
// reads the clock and takes a lock for every packet of every viewer.
type senderReports struct {
	ssrc  uint32
	clock rtpClock
	write func([]rtcp.Packet) error

	packets, octets uint32 // RTP packets and payload bytes, resends included
	next            time.Time
}

// count adds packets sent (their payload bytes).
func (r *senderReports) count(packets, octets int) {
	if r != nil {
		r.packets += uint32(packets)
		r.octets += uint32(octets)
	}
}

// afterFrame sends a report when one is due, for the frame of RTP
// timestamp ts whose first packet went at start: its RTP time is that
// timestamp plus the time since, on the viewer's clock.
func (r *senderReports) afterFrame(ts uint32, start time.Time) {
	if r == nil {
		return
	}
	now := time.Now()
	if now.Before(r.next) {
		return
	}
	r.next = now.Add(senderReportInterval)
	// A write error means the peer connection is closing; the session
	// notices through its state callbacks.
	_ = r.write([]rtcp.Packet{&rtcp.SenderReport{
		SSRC:        r.ssrc,
		NTPTime:     ntpTime(now),
		RTPTime:     ts + uint32(r.clock.fromDuration(now.Sub(start))),
		PacketCount: r.packets,
		OctetCount:  r.octets,
	}})
}

// ntpTime is t in the 64-bit NTP format of RTCP: seconds since 1900 and
// their binary fraction.
func ntpTime(t time.Time) uint64 {
	const secondsFrom1900To1970 = 2208988800
	secs := uint64(t.Unix() + secondsFrom1900To1970)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
