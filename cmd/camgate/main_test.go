package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Bad settings stop camgate with exit code 2 and one line naming what is
// wrong, with no stack trace and no password.
func TestBadSettingsExitTwoWithOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown key", `{"Http":{"Listenn":"127.0.0.1:0"}}`, []string{"Http.Listenn", "unknown setting"}},
		{"syntax error", "{\n  \"Http\": {\n    \"Listen\": \"127.0.0.1:0\",\n  }\n}", []string{"appsettings.json:4:3", "invalid character"}},
		{"two bad values", `{"Cameras":[{"Id":"cam1","Streams":[{"Id":"x","Url":"http://user:hunter2@192.0.2.1/"}]}]}`,
			[]string{"Cameras[0].Id", "GUID", "Cameras[0].Streams[0].Url", "; "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"--config", writeConfig(t, tc.body)}, &stdout, &stderr)
			if code != exitSettings {
				t.Fatalf("exit code = %d, want %d (stderr: %s)", code, exitSettings, stderr.String())
			}
			out := stderr.String()
			if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "camgate: bad settings: ") {
				t.Fatalf("stderr is not one line starting with the prefix: %q", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stderr %q does not mention %q", out, w)
				}
			}
			if strings.Contains(out, "hunter2") || strings.Contains(out, "goroutine") {
				t.Errorf("stderr leaks a password or a stack trace: %q", out)
			}
		})
	}
}

func TestMissingConfigFolderExitsTwo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--config", filepath.Join(t.TempDir(), "nope")}, &stdout, &stderr); code != exitSettings {
		t.Fatalf("exit code = %d, want %d", code, exitSettings)
	}
	if code := run([]string{"--no-such-flag"}, &stdout, &stderr); code != exitSettings {
		t.Fatalf("unknown flag: exit code = %d, want %d", code, exitSettings)
	}
}
