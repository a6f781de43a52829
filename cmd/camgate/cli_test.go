package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runArgs runs camgate with args and returns its exit code and output.
func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// camgate --help, -h and camgate help print the usage of the gateway, its
// flags and every command on standard output, and exit 0.
func TestHelpListsCommandsAndFlags(t *testing.T) {
	t.Parallel()
	var first string
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}, {"help", "help"}} {
		code, stdout, stderr := runArgs(args...)
		if code != 0 || stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
		}
		for _, want := range []string{
			"usage: camgate [--config DIR] [--environment NAME]", "-config", "-environment", "-version", "-help",
			"camgate hash-password < FILE", "camgate rotate-signing-key [--config DIR] [--environment NAME]",
			"camgate reindex [--config DIR] [--environment NAME] [--camera ID]", "camgate help [COMMAND]", "camgate version",
			"Exit codes: 0", "2 for bad usage or settings",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: the help lacks %q:\n%s", args, want, stdout)
			}
		}
		if first == "" {
			first = stdout
		} else if stdout != first {
			t.Errorf("%v prints another help than --help", args)
		}
	}
}

// Every command has its help, as `camgate help NAME` and `camgate NAME
// --help`, on standard output with exit code 0.
func TestCommandHelp(t *testing.T) {
	t.Parallel()
	flags := map[string][]string{
		"hash-password":      {"standard input", "Auth.Users[n].PasswordHash"},
		"rotate-signing-key": {"-config", "-environment", "signing-keys.json"},
		"reindex":            {"-config", "-environment", "-camera", "Stop camgate first"},
		"help":               {"usage: camgate help [COMMAND]"},
		"version":            {"commit"},
	}
	for _, c := range commands() {
		for _, args := range [][]string{{"help", c.name}, {c.name, "--help"}, {c.name, "-h"}} {
			code, stdout, stderr := runArgs(args...)
			if code != 0 || stderr != "" {
				t.Fatalf("%v: exit %d, stderr %q", args, code, stderr)
			}
			if c.name == "help" {
				continue // help help is camgate's help
			}
			want := append([]string{"usage: camgate " + c.name, "Exit codes: 0"}, flags[c.name]...)
			for _, w := range want {
				if !strings.Contains(stdout, w) {
					t.Errorf("%v: the help lacks %q:\n%s", args, w, stdout)
				}
			}
		}
		if _, ok := flags[c.name]; !ok {
			t.Errorf("command %s is not covered by this test", c.name)
		}
	}
}

// versionRE is the line of camgate --version: version, commit, Go version
// and platform.
var versionRE = regexp.MustCompile(`^camgate (\S+) commit (\S+( \(modified\))?) (go1\.\S+) \w+/\w+\n$`)

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}, {"--config", "x", "--version"}} {
		code, stdout, stderr := runArgs(args...)
		if code != 0 || stderr != "" || !versionRE.MatchString(stdout) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
		// A test binary has no -X main.version and no module version.
		if m := versionRE.FindStringSubmatch(stdout); m[1] != "devel" {
			t.Errorf("%v: version %q, want devel", args, m[1])
		}
	}
}

// Bad usage of camgate or any command exits 2, prints nothing on standard
// output, and says on standard error what was wrong and what is expected
// (the usage line).
func TestBadUsageExitsTwo(t *testing.T) {
	t.Parallel()
	config := writeConfig(t, `{"DataDir": "`+filepath.ToSlash(t.TempDir())+`"}`)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"frob"}, []string{`unknown command "frob"`, "hash-password, rotate-signing-key, reindex, help, version", "usage: camgate [--config DIR]"}},
		{[]string{"--nope"}, []string{"flag provided but not defined: -nope", "usage: camgate [--config DIR] [--environment NAME]", "camgate --help"}},
		{[]string{"--config"}, []string{"flag needs an argument: -config", "usage: camgate [--config DIR]"}},
		{[]string{"--config", config, "reindex"}, []string{`"reindex" after the flags: a command comes first`}},
		{[]string{"--config", config, "extra"}, []string{`unexpected argument "extra"`, "usage: camgate"}},
		{[]string{"help", "nope"}, []string{`camgate help: unknown command "nope"`, "usage: camgate help [COMMAND]"}},
		{[]string{"help", "reindex", "version"}, []string{"takes one command at most"}},
		{[]string{"version", "now"}, []string{`camgate version: takes no arguments (got "now")`, "usage: camgate version"}},
		{[]string{"version", "--short"}, []string{"flag provided but not defined: -short", "usage: camgate version"}},
		{[]string{"hash-password", "hunter2"}, []string{"takes no arguments; it reads the password from standard input", "usage: camgate hash-password < FILE"}},
		{[]string{"hash-password", "--cost", "3"}, []string{"flag provided but not defined: -cost", "usage: camgate hash-password"}},
		{[]string{"rotate-signing-key", "now"}, []string{`unexpected argument "now"`, "usage: camgate rotate-signing-key [--config DIR]"}},
		{[]string{"rotate-signing-key", "--force"}, []string{"flag provided but not defined: -force", "usage: camgate rotate-signing-key"}},
		{[]string{"reindex", "extra"}, []string{`camgate reindex: unexpected argument "extra"`, "usage: camgate reindex [--config DIR] [--environment NAME] [--camera ID]", "camgate help reindex"}},
		{[]string{"reindex", "--camera"}, []string{"flag needs an argument: -camera", "usage: camgate reindex"}},
		{[]string{"reindex", "--config", config, "--camera", "../x"}, []string{"camgate reindex: --camera must be 1 to 64 letters, digits"}},
	} {
		code, stdout, stderr := runArgs(tc.args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d (want 2), stdout %q, stderr %q", tc.args, code, stdout, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr)
			}
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: stderr echoes what may be a password: %q", tc.args, stderr)
		}
	}
}

// reindex --camera with a camera that has no recordings says so and names
// those that have, instead of a raw stat error; without a recordings
// folder at all it says that.
func TestReindexUnknownCamera(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	config := writeConfig(t, `{"DataDir": "`+filepath.ToSlash(data)+`"}`)
	code, _, stderr := runArgs("reindex", "--config", config, "--camera", "nope")
	if code != exitFailed || !strings.Contains(stderr, "camgate reindex: there is no recordings folder "+filepath.Join(data, "recordings")+": nothing was recorded under this DataDir") {
		t.Fatalf("no recordings folder: exit %d, stderr %q", code, stderr)
	}
	const cam = "6c0d9f0e-1111-4a2b-8c3d-0123456789ab"
	if err := os.MkdirAll(filepath.Join(data, "recordings", cam), 0o755); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runArgs("reindex", "--config", config, "--camera", "nope")
	want := "camgate reindex: --camera nope has no recordings in " + filepath.Join(data, "recordings") + "; the cameras with recordings there: " + cam + "\n"
	if code != exitUsage || stdout != "" || stderr != want {
		t.Fatalf("unknown camera: exit %d, stdout %q, stderr %q, want %q", code, stdout, stderr, want)
	}
	if strings.Contains(stderr, "stat ") || strings.Contains(stderr, "no such file") {
		t.Errorf("a raw stat error: %q", stderr)
	}
}

// The Makefile sets the version with -ldflags -X main.version (and the
// commit with main.commit); the built binary prints them and exits with
// the codes the tests above get from run.
func TestBuiltBinaryVersionAndExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds camgate")
	}
	t.Parallel()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build camgate with")
	}
	bin := filepath.Join(t.TempDir(), "camgate")
	build := exec.Command(gobin, "build", "-ldflags", "-X main.version=v9.9.9-test -X main.commit=0123456789abcdef", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		m := versionRE.FindStringSubmatch(string(out))
		if err != nil || m == nil || m[1] != "v9.9.9-test" {
			t.Fatalf("%v: %q, %v", args, out, err)
		}
		// Go's own vcs.revision wins when the build recorded one.
		if !strings.HasPrefix(m[2], "0123456789abcdef") && !regexp.MustCompile(`^[0-9a-f]{40}`).MatchString(m[2]) {
			t.Errorf("%v: commit %q", args, m[2])
		}
	}
	exitCode := func(args ...string) int {
		err := exec.Command(bin, args...).Run()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return 0
	}
	for args, want := range map[string]int{"--help": 0, "help reindex": 0, "reindex --help": 0, "frob": 2, "--nope": 2, "reindex extra": 2} {
		if got := exitCode(strings.Fields(args)...); got != want {
			t.Errorf("camgate %s: exit %d, want %d", args, got, want)
		}
	}
}
