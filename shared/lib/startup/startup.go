// Package startup holds a function's start-up reads (its secrets) out of the cold start: they
// are made when the first request that needs them arrives (Deferred) or in the background from
// start-up (Background), and that request waits for them. A failure costs one request (503),
// never the execution environment.
package startup

import (
	"context"
	"errors"
	"sync"
)

// Read is a start-up read that succeeds once. An attempt that fails is not retried by itself:
// the request waiting for it gets its error (and answers 503), and the next Wait starts a new
// attempt, so a transient failure costs one request, never the execution environment.
type Read struct {
	fetch func(context.Context) error

	mu       sync.Mutex
	done     bool
	inflight *attempt
}

type attempt struct {
	finished chan struct{}
	err      error
}

// Deferred returns a read whose first attempt begins at the first Wait. fetch gets a context
// without a deadline (it sets its own time limits) and may store what it read where the code
// behind Wait reads it: a nil Wait happens after a successful fetch.
func Deferred(fetch func(context.Context) error) *Read {
	return &Read{fetch: fetch}
}

// Background is Deferred with the first attempt begun now, in a goroutine.
func Background(fetch func(context.Context) error) *Read {
	t := Deferred(fetch)
	t.mu.Lock()
	t.begin()
	t.mu.Unlock()
	return t
}

// begin starts an attempt; t.mu is held.
func (t *Read) begin() *attempt {
	a := &attempt{finished: make(chan struct{})}
	t.inflight = a
	go func() {
		// Not the request's context: a request that gives up must not fail the read for the
		// next one.
		err := t.fetch(context.Background())
		t.mu.Lock()
		a.err, t.inflight = err, nil
		t.done = t.done || err == nil
		t.mu.Unlock()
		close(a.finished)
	}()
	return a
}

// Wait returns nil once an attempt has succeeded. Otherwise it waits for the attempt in flight,
// or starts one, and returns that attempt's error, or ctx's if ctx ends first.
func (t *Read) Wait(ctx context.Context) error {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return nil
	}
	a := t.inflight
	if a == nil {
		a = t.begin()
	}
	t.mu.Unlock()
	select {
	case <-a.finished:
		return a.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// All runs reads concurrently, so start-up pays the slowest round trip rather than their sum,
// and returns their errors joined.
func All(ctx context.Context, reads ...func(context.Context) error) error {
	errs := make([]error, len(reads))
	var wg sync.WaitGroup
	for i, read := range reads {
		wg.Go(func() { errs[i] = read(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
