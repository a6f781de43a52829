package gateway_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/camgate/camgate/appsettings"
)

// openFDs counts the test process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// With the default WebRTC.MDNS a session costs no file descriptor: pion's
// mDNS query mode opened multicast sockets for every peer connection (3 to
// 4 per session). Not parallel, so that no other test opens or closes
// descriptors meanwhile.
func TestSessionsCostNoFileDescriptor(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts /proc/self/fd")
	}
	env := newTestEnv(t, envOptions{inBandParams: true, mutate: func(s *appsettings.Settings) {
		s.WebRTC.MDNS = appsettings.Defaults().WebRTC.MDNS
	}})
	env.waitStreaming()
	// One request first, so that the keep-alive connection the POSTs
	// reuse is open before the count.
	createSession(t, env, liveBody)
	before := openFDs(t)
	const sessions = 5
	for range sessions {
		createSession(t, env, liveBody)
	}
	after := openFDs(t)
	// Allow one connection (two descriptors in this process) should the
	// client open another.
	if after-before > 2 {
		t.Fatalf("%d sessions opened %d file descriptors (%d before, %d after), want none", sessions, after-before, before, after)
	}
	t.Logf("%d sessions: %d file descriptors before, %d after", sessions, before, after)
}
