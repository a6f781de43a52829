package gateway

import (
	"net/netip"
	"testing"

	"github.com/camgate/camgate/appsettings"
)

func TestMetricsAllowFrom(t *testing.T) {
	t.Parallel()
	a := newMetricsAccess(appsettings.Metrics{AllowFrom: []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8"}})
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"10.200.0.1", true},
		{"11.0.0.1", false},
		{"2001:db8::1", false},
	} {
		if got := a.allowed(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("allowed(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if newMetricsAccess(appsettings.Metrics{}).allowed(netip.MustParseAddr("127.0.0.1")) {
		t.Error("an empty AllowFrom allows loopback")
	}
}
