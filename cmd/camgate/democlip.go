package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// demoClipName is where the repository keeps the demo clip.
const demoClipName = "testdata/demo.h264"

// findDemoClip resolves the demo clip: the configured path (--demo-clip),
// else testdata/demo.h264 in the working directory (make run), else beside
// the executable or one folder above it (bin/camgate in a checkout).
func findDemoClip(configured string) (string, error) {
	if configured != "" {
		if _, err := os.Stat(configured); err != nil {
			return "", fmt.Errorf("--demo-clip: %w", err)
		}
		return configured, nil
	}
	candidates := []string{demoClipName}
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		candidates = append(candidates, filepath.Join(dir, demoClipName), filepath.Join(dir, "..", demoClipName))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", errors.New("demo camera: " + demoClipName + " not found in the working directory or beside the executable; " +
		"run camgate from the repository folder, give --demo-clip an H.264 Annex-B file, or run with --demo=false")
}
