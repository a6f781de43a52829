package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camgate/camgate/oauth"
)

func TestUnknownCommandIsNotHandled(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "--config", "serve", "hash"} {
		if _, handled := runCommand(name, nil, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}); handled {
			t.Errorf("%q was handled", name)
		}
	}
}

func TestHashPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stdin, password string
	}{
		{"newline", "s3cret pass\n", "s3cret pass"},
		{"CRLF", "s3cret\r\n", "s3cret"},
		{"no newline", "s3cret", "s3cret"},
		{"first line only", "s3cret\nsecond\n", "s3cret"},
		{"spaces kept", "  padded  \n", "  padded  "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, handled := runCommand("hash-password", nil, strings.NewReader(tc.stdin), &stdout, &stderr)
			if !handled || code != 0 {
				t.Fatalf("code %d handled %v; stderr %q", code, handled, stderr.String())
			}
			hash := strings.TrimSuffix(stdout.String(), "\n")
			if strings.Count(stdout.String(), "\n") != 1 || !strings.HasPrefix(hash, "$argon2id$v=19$") {
				t.Fatalf("stdout %q", stdout.String())
			}
			if ok, err := oauth.VerifyPassword(tc.password, hash); err != nil || !ok {
				t.Fatalf("the hash does not verify %q: %v", tc.password, err)
			}
			if strings.Contains(stderr.String()+stdout.String(), strings.TrimSpace(tc.password)) {
				t.Fatal("the password is printed")
			}
		})
	}
}

func TestHashPasswordRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stdin string
		args        []string
	}{
		{"empty input", "", nil},
		{"empty line", "\n", nil},
		{"too long", strings.Repeat("x", 5000) + "\n", nil},
		{"password as argument", "", []string{"hunter2"}},
		{"unknown flag", "pw\n", []string{"--cost", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code, _ := runCommand("hash-password", tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if code != exitSettings || stdout.Len() != 0 {
				t.Fatalf("code %d stdout %q", code, stdout.String())
			}
			if strings.Contains(stderr.String(), "hunter2") {
				t.Fatalf("stderr echoes the argument: %q", stderr.String())
			}
		})
	}
}

func keyCount(t *testing.T, dataDir string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "oauth", "signing-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return len(f.Keys)
}

func TestRotateSigningKeyWithConfig(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	body, _ := json.Marshal(map[string]any{"DataDir": dataDir})
	config := writeConfig(t, string(body))
	var kids []string
	for i := 1; i <= 2; i++ {
		var stdout, stderr bytes.Buffer
		code, handled := runCommand("rotate-signing-key", []string{"--config", config}, nil, &stdout, &stderr)
		if !handled || code != 0 {
			t.Fatalf("code %d; stderr %q", code, stderr.String())
		}
		kid := strings.TrimSpace(stdout.String())
		if kid == "" || strings.Contains(kid, "\n") {
			t.Fatalf("stdout %q", stdout.String())
		}
		kids = append(kids, kid)
		if n := keyCount(t, dataDir); n != i {
			t.Fatalf("after rotation %d the file holds %d keys", i, n)
		}
	}
	if kids[0] == kids[1] {
		t.Fatal("two rotations printed the same key id")
	}
}

// Without --config the default DataDir "data" in the working directory is
// used, as by the server.
func TestRotateSigningKeyDefaultDataDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	if code, _ := runCommand("rotate-signing-key", nil, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("code %d; stderr %q", code, stderr.String())
	}
	if n := keyCount(t, filepath.Join(dir, "data")); n != 1 {
		t.Fatalf("%d keys", n)
	}
}

func TestRotateSigningKeyBadUsage(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"bad settings":   {"--config", writeConfig(t, `{"DataDirr":"x"}`)},
		"missing config": {"--config", filepath.Join(t.TempDir(), "nope")},
		"extra argument": {"now"},
		"unknown flag":   {"--force"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code, _ := runCommand("rotate-signing-key", args, nil, &stdout, &stderr); code != exitSettings || stdout.Len() != 0 {
				t.Fatalf("code %d stdout %q stderr %q", code, stdout.String(), stderr.String())
			}
		})
	}
}
