package returns

import (
	"context"
	"fmt"
	"time"
)

// Ledger is where facts are kept by area and month, with one level snapshot per area and ended
// month (dynamo.Returns). Reading a month costs what that month holds for that area, whatever is
// stored for other months and areas: that is what keeps a report's cost flat (SPEC §12).
type Ledger interface {
	// MonthFacts returns the facts of one area's month (not its snapshot).
	MonthFacts(ctx context.Context, area, month string) ([]Fact, error)
	// Snapshot returns the area's level snapshot at the end of month; ok is false when none was written.
	Snapshot(ctx context.Context, area, month string) (facts []Fact, ok bool, err error)
}

// SnapshotWriter also stores snapshots (the month-end schedule).
type SnapshotWriter interface {
	Ledger
	PutSnapshot(ctx context.Context, area, month string, facts []Fact) error
}

// WalkBack bounds how many months back a missing opening snapshot is rebuilt from: the schedule
// writes one every month, so only a new deployment (or snapshots deleted after a replay) walks
// far, and then once. Level facts older than this without a snapshot after them are not counted.
const WalkBack = 36

// Settle is how long after a month ends its snapshot waits: stream records may arrive late (the
// stream's retries give up after 6 hours), and a snapshot written too early would miss them.
const Settle = 24 * time.Hour

// Read returns the rows of areas for from..to (see Rows) from the ledger: each month's facts and
// the snapshot of the month before from. A missing snapshot is rebuilt in memory from the latest
// one within WalkBack months; Read never writes, so a GET of a report changes nothing.
func Read(ctx context.Context, l Ledger, areas []string, from, to string) ([]Row, error) {
	months, err := Months(from, to)
	if err != nil {
		return nil, err
	}
	var facts []Fact
	for _, area := range areas {
		open, _, err := snapshotAt(ctx, l, area, PreviousMonth(from))
		if err != nil {
			return nil, err
		}
		facts = append(facts, open...)
		for _, m := range months {
			fs, err := l.MonthFacts(ctx, area, m)
			if err != nil {
				return nil, fmt.Errorf("returns of %s for %s: %w", area, m, err)
			}
			facts = append(facts, fs...)
		}
	}
	return Rows(facts, areas, from, to)
}

// Close writes the snapshot of the last month that ended at least Settle before now, for every
// area that has none, and of any earlier months rebuilt on the way. It returns how many it wrote;
// run again, it writes nothing (a daily schedule: ReturnsFunction).
func Close(ctx context.Context, l SnapshotWriter, areas []string, now time.Time) (written int, err error) {
	month := PreviousMonth(Month(now.Add(-Settle)))
	for _, area := range areas {
		_, built, err := snapshotAt(ctx, l, area, month)
		if err != nil {
			return written, err
		}
		for _, snap := range built {
			if err := l.PutSnapshot(ctx, area, snap[0].Month, snap); err != nil {
				return written, fmt.Errorf("snapshot of %s for %s: %w", area, snap[0].Month, err)
			}
			written++
		}
	}
	return written, nil
}

// snapshotAt returns area's snapshot at the end of month: the stored one, or one rebuilt from the
// latest stored snapshot within WalkBack months (or from nothing) and the facts of the months
// after it. built lists the snapshots it rebuilt, oldest first; each starts with its WaitlistLevel.
func snapshotAt(ctx context.Context, l Ledger, area, month string) (snap []Fact, built [][]Fact, err error) {
	var missing []string // newest first
	for m := month; len(missing) < WalkBack; m = PreviousMonth(m) {
		s, ok, err := l.Snapshot(ctx, area, m)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot of %s for %s: %w", area, m, err)
		}
		if ok {
			snap = s
			break
		}
		missing = append(missing, m)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		fs, err := l.MonthFacts(ctx, area, missing[i])
		if err != nil {
			return nil, nil, fmt.Errorf("returns of %s for %s: %w", area, missing[i], err)
		}
		snap = Snapshot(append(snap, fs...), area, missing[i])
		built = append(built, snap)
	}
	return snap, built, nil
}

// Changes returns what a store must do to go from old's facts to new's (the facts of one referral
// before and after a change): put the facts that are new or differ, remove those that are gone or
// moved to another area or month. Identical facts are left alone, so a change costs only the
// writes of its own events, and applying the same change twice (a stream retry) changes nothing.
func Changes(old, new []Fact) (put, remove []Fact) {
	type at struct{ area, month, key string }
	where := func(f Fact) at { return at{f.Area, f.Month, f.Key()} }
	had := make(map[at]Fact, len(old))
	for _, f := range old {
		had[where(f)] = f
	}
	has := make(map[at]bool, len(new))
	for _, f := range new {
		has[where(f)] = true
		if g, ok := had[where(f)]; !ok || g != f {
			put = append(put, f)
		}
	}
	for _, f := range old {
		if !has[where(f)] {
			remove = append(remove, f)
		}
	}
	return put, remove
}

// Resnapshot rewrites every area's snapshots from month from to the last settled month, rolling
// forward from no levels before from: after the facts were rebuilt from the referrals
// (`report -rebuild`), when the stored snapshots may have missed facts. It returns how many it wrote.
func Resnapshot(ctx context.Context, l SnapshotWriter, areas []string, from string, now time.Time) (written int, err error) {
	last := PreviousMonth(Month(now.Add(-Settle)))
	for _, area := range areas {
		var snap []Fact
		for m := from; m <= last; m = nextMonth(m) {
			fs, err := l.MonthFacts(ctx, area, m)
			if err != nil {
				return written, fmt.Errorf("returns of %s for %s: %w", area, m, err)
			}
			snap = Snapshot(append(snap, fs...), area, m)
			if err := l.PutSnapshot(ctx, area, m, snap); err != nil {
				return written, fmt.Errorf("snapshot of %s for %s: %w", area, m, err)
			}
			written++
		}
	}
	return written, nil
}

func nextMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return "9999-12" // ends a loop over months
	}
	return t.AddDate(0, 1, 0).Format("2006-01")
}
