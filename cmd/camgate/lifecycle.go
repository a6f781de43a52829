package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"
)

// component is a long-lived part of camgate, built by serve: run runs it
// until its ctx ends and returns when its goroutines have ended.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// errStoppedEarly is a component whose Run returned before its ctx ended
// without saying why.
var errStoppedEarly = errors.New("stopped before camgate shut down")

// runComponents runs the components at once, each with a ctx of its own,
// given in the order they were built. When ctx ends (or a component
// fails), it stops them one at a time in reverse order: a component's ctx
// ends only once every component built after it has returned, so that
// nothing loses what it depends on while it still runs (the gateway drains
// while the cameras still stream). It returns the first failure, once
// every component has returned.
func runComponents(ctx context.Context, comps []component, log *slog.Logger) error {
	g, failed := errgroup.WithContext(ctx)
	cancels := make([]context.CancelFunc, len(comps))
	ended := make([]chan struct{}, len(comps))
	for i, c := range comps {
		// Not a child of ctx: the components end in order, below.
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		cancels[i], ended[i] = cancel, make(chan struct{})
		g.Go(func() error {
			defer close(ended[i])
			err := c.run(cctx)
			if err == nil && cctx.Err() == nil {
				err = errStoppedEarly
			}
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			log.Debug("stopped", "component", c.name)
			return nil
		})
	}
	g.Go(func() error {
		<-failed.Done()
		for i := len(comps) - 1; i >= 0; i-- {
			cancels[i]()
			<-ended[i]
		}
		return nil
	})
	return g.Wait()
}
