package startup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestRead: a failed attempt fails the Wait that waited for it, the next Wait tries again, and
// after a success no Wait fetches again; a Deferred read fetches nothing before its first Wait.
// Values stored by fetch are visible after Wait (run with -race).
func TestRead(t *testing.T) {
	tests := []struct {
		name      string
		outcomes  []error // of successive attempts
		wantWaits []bool  // whether each Wait succeeds
		wantCalls int32
	}{
		{"first attempt succeeds", []error{nil}, []bool{true, true, true}, 1},
		{"fails once, then succeeds", []error{errors.New("throttled"), nil}, []bool{false, true, true}, 2},
		{"fails twice", []error{errors.New("a"), errors.New("b"), nil}, []bool{false, false, true}, 3},
	}
	for _, tt := range tests {
		for _, background := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/background=%v", tt.name, background), func(t *testing.T) {
				var calls atomic.Int32
				var value string // written by fetch, read after Wait
				fetch := func(context.Context) error {
					n := calls.Add(1)
					if err := tt.outcomes[n-1]; err != nil {
						return err
					}
					value = "secret"
					return nil
				}
				task := Deferred(fetch)
				if background {
					task = Background(fetch)
				} else if n := calls.Load(); n != 0 {
					t.Fatalf("a deferred read fetched %d times before its first Wait", n)
				}
				for i, want := range tt.wantWaits {
					err := task.Wait(context.Background())
					if (err == nil) != want {
						t.Fatalf("Wait %d: err = %v, want success %v", i, err, want)
					}
					if err == nil && value != "secret" {
						t.Fatalf("Wait %d succeeded before fetch stored its value", i)
					}
				}
				if got := calls.Load(); got != tt.wantCalls {
					t.Errorf("fetch ran %d times, want %d", got, tt.wantCalls)
				}
			})
		}
	}
}

// TestWaitHonoursItsContext: a request that gives up stops waiting, and its giving up does not
// fail the attempt, which the next Wait still gets.
func TestWaitHonoursItsContext(t *testing.T) {
	release := make(chan struct{})
	task := Background(func(ctx context.Context) error {
		<-release
		return ctx.Err()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := task.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with an expired context = %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := task.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after the attempt finished = %v, want nil", err)
	}
}

// TestAll: every read runs, at the same time (each waits for the others to start), and every
// error is returned.
func TestAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		errs    []error
		wantErr []string
	}{
		{"all succeed", []error{nil, nil, nil}, nil},
		{"one fails", []error{nil, errors.New("link secret: denied"), nil}, []string{"link secret: denied"}},
		{"two fail", []error{errors.New("a failed"), nil, errors.New("c failed")}, []string{"a failed", "c failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			started := make(chan struct{}, len(tt.errs))
			var reads []func(context.Context) error
			var ran atomic.Int32
			for _, e := range tt.errs {
				reads = append(reads, func(ctx context.Context) error {
					started <- struct{}{}
					for len(started) < cap(started) { // all must be running at once
						select {
						case <-ctx.Done():
							return ctx.Err()
						case <-time.After(time.Millisecond):
						}
					}
					ran.Add(1)
					return e
				})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := All(ctx, reads...)
			if int(ran.Load()) != len(tt.errs) {
				t.Fatalf("%d of %d reads finished (not concurrent?): %v", ran.Load(), len(tt.errs), err)
			}
			if (err != nil) != (len(tt.wantErr) > 0) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to name %q", err, w)
				}
			}
		})
	}
}
