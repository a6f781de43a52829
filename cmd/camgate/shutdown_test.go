//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childConfigEnv names the config folder of the camgate that
// TestCamgateChild runs.
const childConfigEnv = "CAMGATE_TEST_CHILD_CONFIG"

// TestCamgateChild is camgate itself (run, with its signal handling and
// exit code), started as a child process by the tests below. It does
// nothing unless started by them.
func TestCamgateChild(t *testing.T) {
	dir := os.Getenv(childConfigEnv)
	if dir == "" {
		t.Skip("only run as the child of TestSIGTERM…")
	}
	os.Exit(run([]string{"--config", dir}, os.Stdout, os.Stderr))
}

// startChild runs camgate with the settings body and returns the process,
// its address and its standard error (complete once it has exited).
func startChild(t *testing.T, body string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	dir := writeConfig(t, strings.ReplaceAll(body, "DATADIR", filepath.ToSlash(t.TempDir())))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCamgateChild$")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "camgate: listening on http://"); ok {
				addr <- strings.TrimSuffix(rest, "/")
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("camgate ended before listening: %s", stderr.String())
		}
		return cmd, a, &stderr
	case <-time.After(30 * time.Second):
		t.Fatal("camgate did not say where it listens")
	}
	return nil, "", nil
}

// readyz asks /readyz on a new connection.
func readyz(addr string) (int, string, error) {
	c := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// SIGTERM with a request in flight (a sign-in whose body never comes):
// /readyz answers 503 while camgate drains, the request is cut at the
// shutdown deadline and said so in one log line, and camgate exits 0.
func TestSIGTERMDrainsAndExitsZero(t *testing.T) {
	t.Parallel()
	cmd, addr, stderr := startChild(t, `{
  "Http": { "Listen": "127.0.0.1:0", "DrainPeriod": "2s", "ShutdownTimeout": "1s", "ReadTimeout": "1m" },
  "WebRTC": { "UdpPort": 0, "MDNS": "disabled" },
  "DataDir": "DATADIR"
}`)
	// Ready once every component runs (the cameras may start a moment
	// after the listener answers).
	waitFor(t, "/readyz 200 before SIGTERM", func() bool {
		status, body, err := readyz(addr)
		if err != nil || (status != http.StatusOK && !strings.Contains(body, "not started")) {
			t.Fatalf("/readyz before SIGTERM: %d %s %v", status, body, err)
		}
		return status == http.StatusOK
	})
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /API/IDP/connect/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 200\r\n\r\ngrant_type=password", addr)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The listener keeps serving through the drain, and /readyz says 503.
	for {
		status, body, err := readyz(addr)
		if err != nil {
			t.Fatalf("/readyz after SIGTERM: %v; want a 503 while camgate drains", err)
		}
		if status == http.StatusOK {
			continue // the signal is on its way
		}
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "shutting down") {
			t.Fatalf("/readyz while draining: %d %s", status, body)
		}
		break
	}

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("camgate exited %d after SIGTERM; want 0. Log:\n%s", exit.ExitCode(), stderr)
		}
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("camgate did not exit after SIGTERM. Log:\n%s", stderr)
	}
	log := stderr.String()
	if n := strings.Count(log, "shutdown deadline reached: cut 1 request"); n != 1 {
		t.Errorf("the log has %d lines naming the cut request; want 1:\n%s", n, log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("the shutdown logged an error:\n%s", log)
	}
	_ = slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, slow); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Error("the half-sent sign-in's connection stayed open")
	}
}
