// Package testutil holds helpers for the tests of camgate's packages. It
// imports no camgate package, so that any package's tests may use it,
// including the in-package tests of cameras.
package testutil

import (
	"context"
	"sync"
	"testing"
	"time"
)

// readyDeadline bounds the wait for a component to start: it only catches
// a hang.
const readyDeadline = 30 * time.Second

// Run runs a component's Run(ctx) on a goroutine until the test ends or
// stop is called, the way cmd/camgate runs it. It returns once ready
// reports true (nil: at once), and fails the test when Run returns before
// that. stop cancels Run's ctx and returns when Run has returned; an error
// from Run fails the test. stop may be called more than once.
func Run(t testing.TB, run func(context.Context) error, ready func() bool) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-ended; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(readyDeadline)
	for ready != nil && !ready() {
		select {
		case err := <-ended:
			once.Do(func() { cancel() })
			t.Fatalf("Run returned before it was ready: %v", err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after %s", readyDeadline)
		}
	}
	return stop
}
