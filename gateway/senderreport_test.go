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
// the report's wall-clock and RTP times advance together with the frames'
// arrivals and timestamps. (pion's report interceptor, which camgate used
// before, extrapolated the RTP time at 90 kHz and was off by up to seconds.)
func TestSenderReportsFollowTheViewerClock(t *testing.T) {
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
	frames := c.waitFrames(1, time.Second)
	ssrc := uint32(receivers[0].Track().SSRC())
	mu.Lock()
	defer mu.Unlock()
	for i, r := range reports {
		if r.sr.SSRC != ssrc {
			t.Fatalf("report %d is for SSRC %x, the track is %x", i, r.sr.SSRC, ssrc)
		}
		if skew := fromNTP(r.sr.NTPTime).Sub(r.arrived); skew > time.Second || skew < -time.Second {
			t.Fatalf("report %d says %v, it arrived at %v", i, fromNTP(r.sr.NTPTime), r.arrived)
		}
		// The last frame that arrived before the report: the report's RTP
		// time is its timestamp plus, in ms, the time between them.
		var last *struct {
			ts      uint32
			arrived time.Time
		}
		for _, f := range frames {
			if f.arrived.Before(r.arrived) {
				last = &struct {
					ts      uint32
					arrived time.Time
				}{f.timestamp, f.arrived}
			}
		}
		if last == nil {
			continue
		}
		want := int64(r.arrived.Sub(last.arrived) / time.Millisecond)
		if got := int64(int32(r.sr.RTPTime - last.ts)); got < want-50 || got > want+50 {
			t.Fatalf("report %d: RTP time %d is %d ms after the last frame's %d, which arrived %d ms before it", i, r.sr.RTPTime, got, last.ts, want)
		}
		if i > 0 && r.sr.PacketCount <= reports[i-1].sr.PacketCount {
			t.Fatalf("packet count did not grow: %d after %d", r.sr.PacketCount, reports[i-1].sr.PacketCount)
		}
	}
	t.Logf("%d sender reports checked", len(reports))
}
