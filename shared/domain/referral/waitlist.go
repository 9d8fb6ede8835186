package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// DeadlinesFunc computes contactBy and meetBy for a referral assigned at the given instant.
type DeadlinesFunc func(at time.Time) (contactBy, meetBy calendar.Date, err error)

// WaitlistStore assigns waitlisted referrals when capacity frees.
type WaitlistStore interface {
	AssignOldestWaitlisted(ctx context.Context, area string, now time.Time, deadlines DeadlinesFunc) (Referral, bool, error)
}

// Waitlist drains an area's waitlist, oldest first, into freed capacity (SPEC §5). It runs after
// a close, a capacity rise, a new or reactivated specialist.
type Waitlist struct {
	Store    WaitlistStore
	Calendar *calendar.Calendar
	Policy   Policy
	Now      func() time.Time
}

// maxDrain bounds one drain: no area has more free capacity than this at once.
const maxDrain = 500

// Drain assigns waitlisted referrals in area until the waitlist is empty or nobody has capacity.
// Deadlines are recomputed from the day each is assigned (SPEC §6).
func (w *Waitlist) Drain(ctx context.Context, area string) ([]Referral, error) {
	deadlines := func(at time.Time) (calendar.Date, calendar.Date, error) { return Deadlines(w.Calendar, at, w.Policy) }
	var assigned []Referral
	for range maxDrain {
		r, ok, err := w.Store.AssignOldestWaitlisted(ctx, area, w.Now(), deadlines)
		if err != nil {
			return assigned, fmt.Errorf("drain %s after %d assigned: %w", area, len(assigned), err)
		}
		if !ok {
			return assigned, nil
		}
		assigned = append(assigned, r)
	}
	return assigned, nil
}
