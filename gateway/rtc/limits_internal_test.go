package rtc

import (
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

// Sessions are refused as Unavailable (503) while fewer than MinFreeFileDescriptors
// are free below the soft limit; the refusal takes no place.
func TestMinFreeFileDescriptors(t *testing.T) {
	t.Parallel()
	l := newSessionLimits(testLimitsConfig(), 10*time.Second)
	open := 1024 - 256 // exactly the reserve free: admitted
	l.fds = func() (int, int, bool) { return open, 1024, true }
	p := &fakeOwner{user: "i\x00s"}
	addr := netip.MustParseAddr("127.0.0.1")
	slot, err := l.admit(p, addr)
	if err != nil {
		t.Fatalf("admit with the reserve free: %v", err)
	}
	open++
	_, err = l.admit(p, addr)
	if e, ok := AsError(err); !ok || e.Kind != Unavailable || e.Limit != "Limits.MinFreeFileDescriptors" || e.RetryAfter != 15*time.Second {
		t.Fatalf("admit with one descriptor less free: %#v, want Unavailable (a 503) of Limits.MinFreeFileDescriptors, retry after 15 s", err)
	}
	if l.total != 1 || l.users["i\x00s"].open != 1 || l.users["i\x00s"].pending != 1 || l.addrs[AddressKey(addr)] != 1 {
		t.Fatalf("counts after the refusal: total %d, user %+v, address %d; want only the first session", l.total, *l.users["i\x00s"], l.addrs[AddressKey(addr)])
	}
	l.answered(slot)
	l.answered(slot)
	if u := l.users["i\x00s"]; u.open != 1 || u.pending != 0 {
		t.Fatalf("after the answer: %+v, want 1 open, 0 pending", *u)
	}
	l.free(slot)
	l.free(slot)
	if l.total != 0 || len(l.users) != 0 || len(l.addrs) != 0 {
		t.Fatalf("after free: total %d, users %v, addresses %v; want nothing", l.total, l.users, l.addrs)
	}
	// 0 turns the check off.
	l.cfg.MinFreeFileDescriptors = 0
	if _, err := l.admit(p, addr); err != nil {
		t.Fatalf("admit with the check off: %v", err)
	}
}

// On Linux the count follows the descriptors the process opens.
func TestOpenFileDescriptors(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counted on Linux only")
	}
	before, limit, ok := openFileDescriptors()
	if !ok || before <= 0 || limit < before {
		t.Fatalf("openFileDescriptors() = %d, %d, %v", before, limit, ok)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	after, _, _ := openFileDescriptors()
	f.Close()
	// Not parallel, yet the runtime or another test's leftovers may open
	// or close one meanwhile: a count, not an exact figure.
	if after < before+1 || after > before+3 {
		t.Fatalf("%d descriptors before opening a file, %d after", before, after)
	}
}

// The per-address limits count an IPv6 client by its /64.
func TestAddressKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ a, b string }{
		{"192.0.2.1", "192.0.2.1/32"},
		{"::ffff:192.0.2.1", "192.0.2.1/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
	} {
		if got := AddressKey(netip.MustParseAddr(tc.a)).String(); got != tc.b {
			t.Errorf("AddressKey(%s) = %s, want %s", tc.a, got, tc.b)
		}
	}
}
