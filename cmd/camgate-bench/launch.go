package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// camgateProc is camgate run as a separate process, as in production, so
// that /proc shows its CPU and memory alone.
type camgateProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	dataDir string
	exited  chan struct{} // closed when the process has ended
	waitErr error         // its exit status, once exited is closed
}

// launchCamgate starts bin with --config configDir. The settings file is
// used as it is, except for what the environment overrides: a free HTTP
// port, the camera URL (the bench camera's port is chosen at start-up) and
// a scratch DataDir for the signing keys.
func launchCamgate(bin, configDir, cameraURL string, logFile io.Writer) (*camgateProc, error) {
	dataDir, err := os.MkdirTemp("", "camgate-bench-data-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", configDir)
	cmd.Env = append(os.Environ(),
		"CAMGATE__Http__Listen=127.0.0.1:0",
		"CAMGATE__Cameras__0__Streams__0__Url="+cameraURL,
		"CAMGATE__DataDir="+dataDir,
	)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dataDir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &camgateProc{cmd: cmd, dataDir: dataDir, exited: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(line, "camgate: listening on "); ok {
				select {
				case found <- strings.TrimRight(strings.TrimSpace(u), "/"):
				default:
				}
			}
		}
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	select {
	case u := <-found:
		p.base = u
		return p, nil
	case <-p.exited:
		os.RemoveAll(dataDir)
		return nil, fmt.Errorf("camgate exited at start-up (%w); see its log", p.waitErr)
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, errors.New("camgate did not print its address within 30 s")
	}
}

func (p *camgateProc) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, waits up to 15 s, then kills.
func (p *camgateProc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	os.RemoveAll(p.dataDir)
}

// configCamera reads the id of the first camera of configDir/appsettings.json.
func configCamera(configDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(configDir, "appsettings.json"))
	if err != nil {
		return "", err
	}
	var s struct {
		Cameras []struct {
			ID string `json:"Id"`
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(configDir, "appsettings.json"), err)
	}
	if len(s.Cameras) == 0 || s.Cameras[0].ID == "" {
		return "", fmt.Errorf("%s has no camera", filepath.Join(configDir, "appsettings.json"))
	}
	return s.Cameras[0].ID, nil
}
