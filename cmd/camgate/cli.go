package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// Exit codes of camgate and every command (docs/operations.md).
const (
	exitOK     = 0
	exitFailed = 1 // the work failed
	exitUsage  = 2 // bad usage: an unknown command or flag, a missing or extra argument
)

// version is camgate's version, set at build time by the Makefile from
// `git describe` (-ldflags "-X main.version=…"). Empty: the module version
// Go recorded (go install …@v1.2.3), else "devel". commit is the
// Makefile's `git rev-parse HEAD`, used when Go recorded no vcs.revision
// (GOFLAGS=-buildvcs=false, a git worktree).
var version, commit string //nolint:gochecknoglobals // set by the linker (-X), the only way to stamp a build

// command is a subcommand of camgate.
type command struct {
	name     string
	synopsis string // what follows the name in a usage line
	summary  string // one line, for camgate help
	run      func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands lists camgate's subcommands in the order help shows them (a
// function, not a variable: help and version are among them).
func commands() []command {
	return []command{
		{"hash-password", "< FILE", "print the argon2id hash of the password on standard input, for Auth.Users[n].PasswordHash",
			hashPasswordCommand},
		{"rotate-signing-key", "[--config DIR] [--environment NAME]", "add a token signing key under DataDir and print its key id",
			func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
				return rotateSigningKeyCommand(args, stdout, stderr)
			}},
		{"reindex", "[--config DIR] [--environment NAME] [--camera ID]", "rebuild the recording index from the segment files (stop camgate first)",
			func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
				return runReindex(args, stdout, stderr)
			}},
		{"help", "[COMMAND]", "print this help, or a command's (also --help)", helpCommand},
		{"version", "", "print the version, the commit and the Go version (also --version)",
			func(args []string, _ io.Reader, stdout, stderr io.Writer) int {
				return versionCommand(args, stdout, stderr)
			}},
	}
}

// findCommand returns the command called name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// usage is what a command's help and its bad-usage messages say.
type usage struct {
	name     string // the command, "" for the gateway itself
	synopsis string
	about    string // what it does, a paragraph or two
	exits    string // its exit codes
}

func (u usage) prog() string { return strings.TrimSpace("camgate " + u.name) }

func (u usage) line() string { return strings.TrimSpace("usage: " + u.prog() + " " + u.synopsis) }

// bad reports bad usage on stderr: the problem, the usage line and where
// to read more. It returns exitUsage.
func (u usage) bad(stderr io.Writer, format string, a ...any) int {
	if format != "" {
		fmt.Fprintf(stderr, "%s: %s\n", u.prog(), fmt.Sprintf(format, a...))
	}
	more := "camgate help " + u.name
	if u.name == "" {
		more = "camgate --help"
	}
	fmt.Fprintf(stderr, "%s\n(%s says more)\n", u.line(), more)
	return exitUsage
}

// help writes the command's help: usage line, what it does, its flags and
// exit codes.
func (u usage) help(w io.Writer, fl *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\n%s\n", u.line(), u.about)
	writeFlags(w, fl)
	fmt.Fprintf(w, "\nExit codes: %s.\n", u.exits)
}

// writeFlags lists fl's flags, if it has any, as the flag package does.
func writeFlags(w io.Writer, fl *flag.FlagSet) {
	n := 0
	fl.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	out := fl.Output()
	fl.SetOutput(w)
	fl.PrintDefaults()
	fl.SetOutput(out)
}

// parseFlags parses a command's arguments. --help (or -h) writes the help
// on stdout: the command is done, with exit code 0. A flag that is not
// defined or lacks its value (the flag package has said which) writes the
// usage on stderr: done, with exitUsage. ok means: go on.
func parseFlags(fl *flag.FlagSet, args []string, u usage, stdout, stderr io.Writer) (code int, ok bool) {
	fl.SetOutput(stderr)
	fl.Usage = func() {} // parseFlags writes the help and the usage itself
	err := fl.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		u.help(stdout, fl)
		return exitOK, false
	case err != nil:
		return u.bad(stderr, ""), false
	}
	return exitOK, true
}

// helpCommand is `camgate help [COMMAND]`.
func helpCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	u := usage{name: "help", synopsis: "[COMMAND]"}
	switch {
	case len(args) == 0 || len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		writeHelp(stdout)
		return exitOK
	case len(args) > 1:
		return u.bad(stderr, "takes one command at most (got %d arguments)", len(args))
	}
	if c, ok := findCommand(args[0]); ok {
		return c.run([]string{"--help"}, stdin, stdout, stderr)
	}
	return u.bad(stderr, "unknown command %q; the commands are %s", args[0], commandNames())
}

// writeHelp writes camgate's help: the gateway's usage and flags, and every
// command.
func writeHelp(w io.Writer) {
	mf := newMainFlags()
	fmt.Fprintf(w, "camgate %s: a camera gateway. It pulls H.264 from RTSP cameras and serves it to\n"+
		"browsers over WebRTC, with the signaling of Milestone XProtect's API Gateway.\n\n", versionString())
	fmt.Fprintf(w, "%s\n\n%s\n", mainUsage().line(), mainUsage().about)
	writeFlags(w, mf.fl)
	fmt.Fprintln(w, "  -help, -h\n    \tprint this help, and exit")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %s\n    \t%s\n", strings.TrimSpace("camgate "+c.name+" "+c.synopsis), c.summary)
	}
	fmt.Fprintf(w, "\n`camgate help COMMAND` (or `camgate COMMAND --help`) describes a command.\n"+
		"Exit codes: %s.\nSee docs/operations.md and docs/configuration.md.\n", mainUsage().exits)
}

// versionCommand is `camgate version`.
func versionCommand(args []string, stdout, stderr io.Writer) int {
	u := usage{name: "version", about: "Prints camgate's version, the commit it was built from (\"modified\" when the\n" +
		"working tree had changes) and the Go version, on one line.", exits: "0 printed, 2 bad usage"}
	fl := flag.NewFlagSet("camgate version", flag.ContinueOnError)
	if code, ok := parseFlags(fl, args, u, stdout, stderr); !ok {
		return code
	}
	if fl.NArg() > 0 {
		return u.bad(stderr, "takes no arguments (got %q)", fl.Arg(0))
	}
	fmt.Fprintln(stdout, versionLine())
	return exitOK
}

// buildInfo is what the binary says about its build.
type buildInfo struct {
	version  string // the -X main.version value, the module version, or "devel"
	commit   string // vcs.revision, else the -X main.commit value; "" when neither
	modified bool   // vcs.modified
	goVer    string
}

func readBuildInfo() buildInfo {
	b := buildInfo{version: version, commit: commit, goVer: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if ok {
		if b.version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.commit = s.Value
			case "vcs.modified":
				b.modified = s.Value == "true"
			}
		}
	}
	if b.version == "" {
		b.version = "devel"
	}
	return b
}

func versionString() string { return readBuildInfo().version }

// versionLine is the line of camgate --version, e.g.
// "camgate v0.4.0-12-g1a2b3c4 commit 1a2b3c4d… (modified) go1.26.0 linux/amd64".
func versionLine() string {
	b := readBuildInfo()
	rev := b.commit
	if rev == "" {
		rev = "unknown"
	}
	if b.modified {
		rev += " (modified)"
	}
	return fmt.Sprintf("camgate %s commit %s %s %s/%s", b.version, rev, b.goVer, runtime.GOOS, runtime.GOARCH)
}
