package playback

import (
	"testing"
	"time"
)

func TestRTPTimestamp(t *testing.T) {
	cases := []struct {
		offset time.Duration
		rate   uint32
		want   uint32
	}{
		{0, 1000, 0},
		{89500 * time.Millisecond, 1000, 89500},
		{-2500 * time.Millisecond, 1000, 0xffffffff - 2500 + 1},
		{1499 * time.Microsecond, 1000, 1},                   // rounds
		{1500 * time.Microsecond, 1000, 2},                   // half up
		{-1500 * time.Microsecond, 1000, 0xffffffff - 2 + 1}, // symmetric
		{time.Second, 90000, 90000},
		{40 * time.Millisecond, 90000, 3600},
		{-40 * time.Millisecond, 90000, 0xffffffff - 3600 + 1},
		{time.Duration(1<<31) * time.Millisecond, 1000, 1 << 31}, // 24.9 days: the signed ms clock wraps
		{14 * time.Hour, 90000, uint32(14 * 3600 * 90000 % (1 << 32))},
	}
	for _, tc := range cases {
		if got := (PlayFrame{Offset: tc.offset}).RTPTimestamp(tc.rate); got != tc.want {
			t.Errorf("RTPTimestamp(%v at %d Hz) = %d, want %d", tc.offset, tc.rate, got, tc.want)
		}
	}
}
