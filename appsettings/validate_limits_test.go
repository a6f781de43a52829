package appsettings

import "testing"

func TestValidateLimitsRules(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Settings)
		errs   []string
	}{
		{"defaults", func(*Settings) {}, nil},
		{"at the bottom", func(s *Settings) {
			s.Limits = Limits{SessionsPerUser: 1, PendingSessionsPerUser: 1, SessionsPerAddress: 1, MaxSessions: 1, MinFreeFileDescriptors: 0}
		}, nil},
		{"at the top", func(s *Settings) {
			s.Limits = Limits{SessionsPerUser: 100000, PendingSessionsPerUser: 100000, SessionsPerAddress: 100000, MaxSessions: 100000, MinFreeFileDescriptors: 65536}
		}, nil},
		{"no sessions per user", func(s *Settings) { s.Limits.SessionsPerUser = 0 },
			[]string{
				"Limits.SessionsPerUser: must be from 1 to 100000 (got 0)",
			}},
		{"pending above the user's sessions", func(s *Settings) { s.Limits.PendingSessionsPerUser = 257 },
			[]string{"Limits.PendingSessionsPerUser: must be from 1 to Limits.SessionsPerUser, 256 (got 257)"}},
		{"no pending sessions", func(s *Settings) { s.Limits.PendingSessionsPerUser = 0 },
			[]string{"Limits.PendingSessionsPerUser: must be from 1 to Limits.SessionsPerUser, 256 (got 0)"}},
		{"pending checked alone when the user's limit is wrong", func(s *Settings) {
			s.Limits.SessionsPerUser = -1
			s.Limits.PendingSessionsPerUser = -1
		}, []string{
			"Limits.SessionsPerUser: must be from 1 to 100000 (got -1)",
			"Limits.PendingSessionsPerUser: must be from 1 to 100000 (got -1)",
		}},
		{"too many per address", func(s *Settings) { s.Limits.SessionsPerAddress = 100001 },
			[]string{"Limits.SessionsPerAddress: must be from 1 to 100000 (got 100001)"}},
		{"no sessions at all", func(s *Settings) { s.Limits.MaxSessions = 0 },
			[]string{"Limits.MaxSessions: must be from 1 to 100000 (got 0)"}},
		{"negative reserve", func(s *Settings) { s.Limits.MinFreeFileDescriptors = -1 },
			[]string{"Limits.MinFreeFileDescriptors: must be from 0 to 65536 (got -1)"}},
		{"everything wrong at once", func(s *Settings) { s.Limits = Limits{MinFreeFileDescriptors: 70000} }, []string{
			"Limits.SessionsPerUser: must be from 1 to 100000 (got 0)",
			"Limits.PendingSessionsPerUser: must be from 1 to 100000 (got 0)",
			"Limits.SessionsPerAddress: must be from 1 to 100000 (got 0)",
			"Limits.MaxSessions: must be from 1 to 100000 (got 0)",
			"Limits.MinFreeFileDescriptors: must be from 0 to 65536 (got 70000)",
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

// The section loads from a file and from environment variables like every
// other, keys in any case.
func TestLimitsSettingsLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "appsettings.json", `{"Limits":{"sessionsPerUser":8,"PendingSessionsPerUser":2}}`)
	s, err := Load(LoadOptions{ConfigDir: dir, Env: []string{"CAMGATE__Limits__MaxSessions=20"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{SessionsPerUser: 8, PendingSessionsPerUser: 2, SessionsPerAddress: 512, MaxSessions: 20, MinFreeFileDescriptors: 256}
	if s.Limits != want {
		t.Fatalf("Limits = %+v, want %+v", s.Limits, want)
	}
	write(t, dir, "appsettings.json", `{"Limits":{"SessionsPerUsers":8}}`)
	if _, err := Load(LoadOptions{ConfigDir: dir}); err == nil {
		t.Fatal("an unknown key under Limits was accepted")
	}
}
