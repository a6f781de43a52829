package openapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	// The client generated below imports the runtime of oapi-codegen.
	// Importing it here keeps it in go.mod and go.sum, so that the
	// client's build finds it in the module cache without the network.
	_ "github.com/oapi-codegen/runtime"
)

// A Go client generated from the document with oapi-codegen (the version
// the tool line of go.mod pins; `go tool oapi-codegen`) compiles: the
// document is one a generator can use, not only one a validator accepts.
func TestGeneratedClientCompiles(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gen := exec.Command("go", "tool", "oapi-codegen", "-generate", "types,client", "-package", "client", filepath.Join(root, "gateway", "openapi", "openapi.json"))
	gen.Dir = root
	var code, stderr bytes.Buffer
	gen.Stdout, gen.Stderr = &code, &stderr
	if err := gen.Run(); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, stderr.Bytes())
	}
	write(t, filepath.Join(dir, "client.go"), code.Bytes())

	// The client is built as a module of its own with camgate's
	// requirements, offline: everything it needs is in camgate's go.sum.
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(mod, []byte("module camgate.test/client"))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "go.mod"), mod)
	write(t, filepath.Join(dir, "go.sum"), sum)
	build := exec.Command("go", "build", "./...")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the generated client: %v\n%s", err, out)
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
