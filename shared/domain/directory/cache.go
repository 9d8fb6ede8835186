package directory

import (
	"context"
	"sync"
	"time"
)

// Cached keeps a value loaded from the directory table for TTL, so the intake path reads the
// prefix map once per container rather than once per referral. Prefixes change by deployment-scale
// admin actions, never mid-request, so minutes of staleness are harmless; caseloads are NOT cached
// (routing reads them consistently inside each attempt).
type Cached[T any] struct {
	Load func(ctx context.Context) (T, error)
	TTL  time.Duration
	Now  func() time.Time // time.Now when nil

	mu       sync.Mutex
	value    T
	loadedAt time.Time
	loaded   bool
}

// Get returns the cached value, reloading it when older than TTL. When a reload fails and an older
// value exists, the older value is served: a directory read blip must not stop referrals.
func (c *Cached[T]) Get(ctx context.Context) (T, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded && now().Sub(c.loadedAt) < c.TTL {
		return c.value, nil
	}
	v, err := c.Load(ctx)
	if err != nil {
		if c.loaded {
			return c.value, nil
		}
		var zero T
		return zero, err
	}
	c.value, c.loadedAt, c.loaded = v, now(), true
	return v, nil
}

// Finder answers the intake's postcode → area question from cached prefixes.
type Finder struct {
	Prefixes *Cached[Prefixes]
}

// AreaFor implements referral.AreaFinder.
func (f Finder) AreaFor(ctx context.Context, postcode string) (string, bool, error) {
	p, err := f.Prefixes.Get(ctx)
	if err != nil {
		return "", false, err
	}
	id, ok := p.AreaFor(postcode)
	return id, ok, nil
}
