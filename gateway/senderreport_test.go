package gateway_test

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// receivedReport is an RTCP sender report and when it arrived.
type receivedReport struct {
	sr      rtcp.SenderReport
	arrived time.Time
}

// fromNTP is the wall-clock time of a 64-bit NTP timestamp.
func fromNTP(ntp uint64) time.Time {
	const secondsFrom1900To1970 = 2208988800
	secs := int64(ntp>>32) - secondsFrom1900To1970
	nanos := int64((ntp & 0xffffffff) * uint64(time.Second) >> 32)
	return time.Unix(secs, nanos)
}

// A viewer gets a sender report about once a second. Its RTP time is on
// the viewer's clock (milliseconds by default) and agrees with the frames:
// it is the timestamp of the frame the report follows plus the moments
// camgate took to send that frame. (pion's report interceptor, which
// camgate used before, extrapolated the RTP time at 90 kHz and was off by
// up to seconds.)
func TestSenderReportsFollowTheViewerClock(t *testing.T) {
	// Not parallel: a report's RTP time is its frame's timestamp plus the
	// time camgate took to send that frame, and the bound below (250 ms)
	// holds only while no other test of this package is loading the CPU:
	// with eight running beside it under -race, sending one frame took
	// 740 ms once.
	env := newTestEnv(t, envOptions{})
	env.waitStreaming()
	c := env.play(liveBody)
	c.waitFrames(1, 20*time.Second)
	receivers := c.pc.GetReceivers()
	if len(receivers) == 0 {
		t.Fatal("the viewer has no receiver")
	}
	var mu sync.Mutex
	var reports []receivedReport
	go func() {
		for {
			pkts, _, err := receivers[0].ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if sr, ok := p.(*rtcp.SenderReport); ok {
					mu.Lock()
					reports = append(reports, receivedReport{sr: *sr, arrived: time.Now()})
					mu.Unlock()
				}
			}
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(reports)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sender reports in 15 s, want one a second", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.mu.Lock()
	firstSeq := c.seqs[0]
	c.mu.Unlock()
	mu.Lock()
	reports = append([]receivedReport(nil), reports...)
	mu.Unlock()
	// The frames sent before the last report, however late the client's
	// goroutines handle them.
	lastSent := firstSeq + uint16(reports[len(reports)-1].sr.PacketCount-1)
	frames := c.waitFrames(1, time.Second)
	for int16(frames[len(frames)-1].lastSeq-lastSent) < 0 {
		frames = c.waitFrames(len(frames)+1, 10*time.Second)
	}
	ssrc := uint32(receivers[0].Track().SSRC())
	checked := 0
	for i, r := range reports {
		if r.sr.SSRC != ssrc {
			t.Fatalf("report %d is for SSRC %x, the track is %x", i, r.sr.SSRC, ssrc)
		}
		// Its wall-clock time is when it was sent: before it arrived (the
		// client's goroutine may read it late on a busy machine).
		if skew := fromNTP(r.sr.NTPTime).Sub(r.arrived); skew > 0 || skew < -5*time.Second {
			t.Fatalf("report %d says %v, it arrived at %v", i, fromNTP(r.sr.NTPTime), r.arrived)
		}
		if i > 0 && r.sr.PacketCount <= reports[i-1].sr.PacketCount {
			t.Fatalf("packet count did not grow: %d after %d", r.sr.PacketCount, reports[i-1].sr.PacketCount)
		}
		// The report goes right after a frame and counts the packets sent
		// up to that frame's last one (this viewer sends no NACKs, so no
		// packet went twice): that finds the frame among those received,
		// whatever the order in which the client's goroutines saw the
		// report and the frames. The report's RTP time is the frame's
		// timestamp plus the time camgate took to send it, on the viewer's
		// millisecond clock: a few ms, where the 90 kHz extrapolation of
		// pion's report interceptor was up to seconds off.
		seq := firstSeq + uint16(r.sr.PacketCount-1)
		var after *receivedFrame
		for k := range frames {
			if frames[k].lastSeq == seq {
				after = &frames[k]
			}
		}
		if after == nil {
			continue // that frame's last packet was lost on loopback
		}
		checked++
		// The bound is generous for a busy machine; the old error was
		// anything up to 89 times the 40 ms between frames.
		if got := int32(r.sr.RTPTime - after.timestamp); got < 0 || got > 250 {
			t.Fatalf("report %d: RTP time %d is %d ms after the timestamp %d of the frame it follows (packet %d), want 0 to 250",
				i, r.sr.RTPTime, got, after.timestamp, r.sr.PacketCount)
		}
	}
	if checked < 2 {
		t.Fatalf("only %d of %d reports follow a frame received", checked, len(reports))
	}
	t.Logf("%d sender reports checked", len(reports))
}
