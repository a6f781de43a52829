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

// runCommand runs the subcommand name (commands()) with its arguments.
// handled is false when name is not a subcommand. code is the process exit
// code: 0, 1 when the work failed, 2 for bad usage or settings.
func runCommand(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, handled bool) {
	if c, ok := findCommand(name); ok {
		return c.run(args, stdin, stdout, stderr), true
	}
	return 0, false
}

func hashPasswordUsage() usage {
	return usage{
		name: "hash-password", synopsis: "< FILE",
		about: "Reads one line (the password) from standard input and prints its argon2id hash\n" +
			"for Auth.Users[n].PasswordHash. The password is never an argument, which would end\n" +
			"up in the shell's history and the process list.",
		exits: "0 printed, 1 hashing failed, 2 bad usage or no password on standard input",
	}
}

// hashPasswordCommand prints the hash for Auth.Users[].PasswordHash. The
// password comes from stdin, never from an argument, which would end up in
// the shell's history and the process list.
func hashPasswordCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("camgate hash-password", flag.ContinueOnError)
	if code, ok := parseFlags(fl, args, hashPasswordUsage(), stdout, stderr); !ok {
		return code
	}
	if fl.NArg() > 0 {
		// Do not echo the argument: it may be the password.
		return hashPasswordUsage().bad(stderr, "takes no arguments; it reads the password from standard input")
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

func rotateSigningKeyUsage() usage {
	return usage{
		name: "rotate-signing-key", synopsis: "[--config DIR] [--environment NAME]",
		about: "Adds a new signing key to DataDir/oauth/signing-keys.json and prints its key id.\n" +
			"Previous keys keep verifying the tokens they signed; a running camgate signs\n" +
			"with the new key within 10 seconds. Run it as camgate's user.",
		exits: "0 added, 1 the key file could not be written, 2 bad usage or settings",
	}
}

// rotateSigningKeyCommand adds a signing key to the DataDir of the settings
// (the same layering as the server: --config, --environment, CAMGATE__
// variables; without --config the default DataDir "data").
func rotateSigningKeyCommand(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("camgate rotate-signing-key", flag.ContinueOnError)
	sf := addSettingsFlags(fl, "folder with appsettings.json, to find DataDir (default: built-in settings, DataDir \"data\")")
	if code, ok := parseFlags(fl, args, rotateSigningKeyUsage(), stdout, stderr); !ok {
		return code
	}
	if fl.NArg() > 0 {
		return rotateSigningKeyUsage().bad(stderr, "unexpected argument %q", fl.Arg(0))
	}
	settings, ok := sf.load(stderr, nil)
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
