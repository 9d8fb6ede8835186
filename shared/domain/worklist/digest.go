package worklist

import (
	"fmt"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// DigestHour is the local hour on Monday from which the weekly digest is due (SPEC §11).
const DigestHour = 8

// DigestWeek says whether the weekly digest is due at now (a run of the hourly reminders
// schedule) and, if so, the ISO week ("2026-W50") it is for: the digest is claimed once per area
// and week, so every run of that week after the first finds the claim taken.
//
// Due from Monday 08:00 Europe/London until the end of Friday: a run missed on Monday catches up
// later in the working week, but not at the weekend, when nobody reads it and the next Monday's
// digest is a few hours away (docs/decisions.md).
func DigestWeek(now time.Time) (week string, due bool) {
	local := now.In(calendar.London())
	wd := local.Weekday()
	switch {
	case wd == time.Saturday || wd == time.Sunday:
		return "", false
	case wd == time.Monday && local.Hour() < DigestHour:
		return "", false
	}
	year, w := local.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", year, w), true
}

// DigestClaimKey is the key of the claim that keeps an area's digest to one per ISO week.
func DigestClaimKey(areaID, week string) string { return "DIGEST#" + areaID + "#" + week }

// LastWeek is the previous ISO week as of now, Monday 00:00 to Monday 00:00 Europe/London: the
// digest's "received last week".
func LastWeek(now time.Time) (from, to time.Time) {
	local := now.In(calendar.London())
	offset := (int(local.Weekday()) + 6) % 7 // days since Monday
	y, m, d := local.Date()
	to = time.Date(y, m, d-offset, 0, 0, 0, 0, calendar.London())
	from = time.Date(y, m, d-offset-7, 0, 0, 0, 0, calendar.London())
	return from, to
}

// Digest is the weekly email's content: counts only, no patient data (SPEC §11).
type Digest struct {
	AreaID           string
	AreaName         string
	Waitlisted       int
	OldestWaitDays   int // 0 when nobody waits
	Overdue          int
	ReceivedLastWeek int
	Bouncing         int // specialists whose address is marked failing
}

// DigestOf counts the digest from the area's worklist and the referrals received last week.
func DigestOf(w Worklist, receivedLastWeek int) Digest {
	d := Digest{AreaID: w.AreaID, AreaName: w.AreaName, Waitlisted: len(w.Waitlist), Overdue: len(w.Overdue), ReceivedLastWeek: receivedLastWeek}
	for _, wt := range w.Waitlist {
		d.OldestWaitDays = max(d.OldestWaitDays, wt.DaysWaiting)
	}
	for _, s := range w.Specialists {
		if s.Bouncing {
			d.Bouncing++
		}
	}
	return d
}
