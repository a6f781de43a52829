package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/camgate/camgate/oauth"
)

// maxPasswordLen bounds the line hash-password reads.
const maxPasswordLen = 4096

// runCommand runs the subcommand name with its arguments:
//
//	camgate hash-password             reads a password line from stdin, prints its argon2id hash
//	camgate rotate-signing-key [--config DIR] [--environment NAME]
//	                                  adds a new signing key under DataDir, prints its key id
//	camgate reindex [--config DIR] [--environment NAME] [--camera ID]
//	                                  rebuilds the recording index from the segment files
//
// handled is false when name is not a subcommand (main then treats the
// arguments as its own flags). code is the process exit code: 0, 1 when the
// work failed, 2 for bad usage or settings.
func runCommand(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, handled bool) {
	switch name {
	case "hash-password":
		return hashPasswordCommand(args, stdin, stdout, stderr), true
	case "rotate-signing-key":
		return rotateSigningKeyCommand(args, stdout, stderr), true
	case "reindex":
		return runReindex(args, stdout, stderr), true
	}
	return 0, false
}

// hashPasswordCommand prints the hash for Auth.Users[].PasswordHash. The
// password comes from stdin, never from an argument, which would end up in
// the shell's history and the process list.
func hashPasswordCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("camgate hash-password", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: camgate hash-password < password-file\n\nReads one line (the password) from standard input and prints its argon2id hash\nfor Auth.Users[].PasswordHash.")
	}
	if err := fl.Parse(args); err != nil {
		return exitSettings
	}
	if fl.NArg() > 0 {
		// Do not echo the argument: it may be the password.
		fmt.Fprintln(stderr, "camgate hash-password: takes no arguments; it reads the password from standard input")
		return exitSettings
	}
	if isTerminal(stdin) {
		fmt.Fprintln(stderr, "camgate: reading the password from standard input (type it and press Enter; it is shown as you type)")
	}
	password, err := readPasswordLine(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "camgate hash-password: %v\n", err)
		return exitSettings
	}
	hash, err := oauth.HashPassword(password)
	if err != nil {
		fmt.Fprintf(stderr, "camgate hash-password: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, hash)
	return 0
}

// readPasswordLine reads the first line of r without its line ending. Only
// the line ending is removed: spaces are part of a password.
func readPasswordLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("cannot read standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case line == "":
		return "", errors.New("no password on standard input")
	case len(line) > maxPasswordLen:
		return "", fmt.Errorf("the password is longer than %d bytes", maxPasswordLen)
	}
	return line, nil
}

// isTerminal reports whether r is a character device such as a terminal,
// to decide whether to prompt.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// rotateSigningKeyCommand adds a signing key to the DataDir of the settings
// (the same layering as the server: --config, --environment, CAMGATE__
// variables; without --config the default DataDir "data").
func rotateSigningKeyCommand(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("camgate rotate-signing-key", flag.ContinueOnError)
	fl.SetOutput(stderr)
	sf := addSettingsFlags(fl, "folder with appsettings.json, to find DataDir (default: built-in settings, DataDir \"data\")")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: camgate rotate-signing-key [--config DIR] [--environment NAME]\n\nAdds a new signing key to DataDir/oauth/signing-keys.json and prints its key id.\nPrevious keys keep verifying the tokens they signed; a running camgate signs\nwith the new key within 10 seconds.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return exitSettings
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "camgate rotate-signing-key: unexpected argument %q\n", fl.Arg(0))
		return exitSettings
	}
	settings, ok := sf.load(stderr)
	if !ok {
		return exitSettings
	}
	kid, err := oauth.RotateSigningKey(settings.DataDir)
	if err != nil {
		fmt.Fprintf(stderr, "camgate rotate-signing-key: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, kid)
	return 0
}
