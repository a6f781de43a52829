package appsettings

import (
	"testing"
	"time"
)

func TestValidateWebSocketRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		{"defaults", func(*Settings) {}, nil},
		{"sessions at their limits", func(s *Settings) { s.WebSocket.MaxSessionsPerConnection = 1 }, nil},
		{"sessions at the top", func(s *Settings) { s.WebSocket.MaxSessionsPerConnection = 1024 }, nil},
		{"no sessions", func(s *Settings) { s.WebSocket.MaxSessionsPerConnection = 0 },
			[]string{"WebSocket.MaxSessionsPerConnection: must be from 1 to 1024 (got 0)"}},
		{"too many sessions", func(s *Settings) { s.WebSocket.MaxSessionsPerConnection = 1025 },
			[]string{"WebSocket.MaxSessionsPerConnection: must be from 1 to 1024 (got 1025)"}},
		{"no connections", func(s *Settings) { s.WebSocket.MaxConnectionsPerUser = -1 },
			[]string{"WebSocket.MaxConnectionsPerUser: must be from 1 to 1024 (got -1)"}},
		{"too many connections", func(s *Settings) { s.WebSocket.MaxConnectionsPerUser = 2000 },
			[]string{"WebSocket.MaxConnectionsPerUser: must be from 1 to 1024 (got 2000)"}},
		{"ping interval at its limits", func(s *Settings) {
			s.WebSocket.PingInterval = Duration(time.Second)
			s.WebSocket.RegisterTimeout = Duration(5 * time.Minute)
		}, nil},
		{"ping interval too short", func(s *Settings) { s.WebSocket.PingInterval = Duration(999 * time.Millisecond) },
			[]string{"WebSocket.PingInterval: must be from 1s to 5m (got 999ms)"}},
		{"ping interval too long", func(s *Settings) { s.WebSocket.PingInterval = Duration(5*time.Minute + time.Second) },
			[]string{"WebSocket.PingInterval: must be from 1s to 5m (got 5m1s)"}},
		{"register timeout zero", func(s *Settings) { s.WebSocket.RegisterTimeout = 0 },
			[]string{"WebSocket.RegisterTimeout: must be from 1s to 5m (got 0s)"}},
		{"message rate and burst at their limits", func(s *Settings) {
			s.WebSocket.MaxMessagesPerSecond = 1
			s.WebSocket.MaxMessageBurst = 100000
		}, nil},
		{"no messages", func(s *Settings) { s.WebSocket.MaxMessagesPerSecond = 0 },
			[]string{"WebSocket.MaxMessagesPerSecond: must be from 1 to 100000 (got 0)"}},
		{"burst too large", func(s *Settings) { s.WebSocket.MaxMessageBurst = 100001 },
			[]string{"WebSocket.MaxMessageBurst: must be from 1 to 100000 (got 100001)"}},
		{"everything wrong at once", func(s *Settings) {
			s.WebSocket = WebSocket{}
		}, []string{
			"WebSocket.MaxSessionsPerConnection: must be from 1 to 1024 (got 0)",
			"WebSocket.MaxConnectionsPerUser: must be from 1 to 1024 (got 0)",
			"WebSocket.PingInterval: must be from 1s to 5m (got 0s)",
			"WebSocket.RegisterTimeout: must be from 1s to 5m (got 0s)",
			"WebSocket.MaxMessagesPerSecond: must be from 1 to 100000 (got 0)",
			"WebSocket.MaxMessageBurst: must be from 1 to 100000 (got 0)",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSettings()
			tc.mutate(&s)
			checkErrors(t, s.Validate(), tc.errs)
		})
	}
}

// The settings load from a file and from environment variables like every
// other section.
func TestWebSocketSettingsLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"WebSocket":{"maxSessionsPerConnection":4,"PingInterval":"5s","MaxMessageBurst":50}}`)
	s, err := Load(LoadOptions{ConfigDir: dir, Env: []string{"CAMGATE__WebSocket__MaxConnectionsPerUser=2"}})
	if err != nil {
		t.Fatal(err)
	}
	want := WebSocket{MaxSessionsPerConnection: 4, MaxConnectionsPerUser: 2,
		PingInterval: Duration(5 * time.Second), RegisterTimeout: Duration(10 * time.Second),
		MaxMessagesPerSecond: 100, MaxMessageBurst: 50}
	if s.WebSocket != want {
		t.Fatalf("WebSocket = %+v, want %+v", s.WebSocket, want)
	}
}
