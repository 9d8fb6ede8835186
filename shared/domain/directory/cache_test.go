package directory

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCachedReloadsAfterTTLAndServesStaleOnError(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	loads := 0
	var failNext bool
	c := &Cached[int]{
		TTL: time.Minute,
		Now: func() time.Time { return now },
		Load: func(context.Context) (int, error) {
			if failNext {
				return 0, errors.New("throttled")
			}
			loads++
			return loads, nil
		},
	}
	steps := []struct {
		name    string
		advance time.Duration
		fail    bool
		want    int
	}{
		{"first get loads", 0, false, 1},
		{"within TTL is cached", 30 * time.Second, false, 1},
		{"after TTL reloads", 31 * time.Second, false, 2},
		{"reload failure serves stale", 2 * time.Minute, true, 2},
		{"recovers", time.Second, false, 3},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		failNext = s.fail
		got, err := c.Get(context.Background())
		if err != nil || got != s.want {
			t.Fatalf("%s: Get = %d, %v; want %d", s.name, got, err, s.want)
		}
	}
}

func TestCachedFirstLoadErrorIsReturned(t *testing.T) {
	c := &Cached[Prefixes]{TTL: time.Minute, Load: func(context.Context) (Prefixes, error) { return nil, errors.New("down") }}
	if _, _, err := (Finder{Prefixes: c}).AreaFor(context.Background(), "S1 2HH"); err == nil {
		t.Fatal("AreaFor with no directory loaded: want error, got nil")
	}
}

func TestFinderAreaFor(t *testing.T) {
	c := &Cached[Prefixes]{TTL: time.Minute, Load: func(context.Context) (Prefixes, error) {
		return Prefixes{"S1": "south-yorkshire", "S35 0": "elsewhere", "S35": "south-yorkshire"}, nil
	}}
	f := Finder{Prefixes: c}
	for pc, want := range map[string]string{"S1 2HH": "south-yorkshire", "S35 0AB": "elsewhere", "S35 1AB": "south-yorkshire", "ZZ1 1ZZ": ""} {
		got, ok, err := f.AreaFor(context.Background(), pc)
		if err != nil || got != want || ok != (want != "") {
			t.Errorf("AreaFor(%q) = %q, %v, %v; want %q", pc, got, ok, err, want)
		}
	}
}
