// Package calendar is the England and Wales working-day calendar: civil dates, the Europe/London
// day an instant falls on, and deadlines counted in working days (SPEC §6).
package calendar

import (
	"fmt"
	"sync"
	"time"
	_ "time/tzdata" // the provided.al2023 Lambda image may lack a zoneinfo database
)

// Date is a civil date with no time zone. Deadlines are days, not instants, so keeping them as
// dates avoids a whole class of midnight and daylight-saving bugs.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

const layout = "2006-01-02"

// ParseDate parses a strict "YYYY-MM-DD" that names a real calendar date. time.Parse with this
// layout already demands two-digit months and days, no surrounding text, and a day that exists in
// that month (so 2025-02-29 fails).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("calendar: date %q is not a real date as YYYY-MM-DD: %w", s, err)
	}
	return dateOfTime(t), nil
}

func dateOfTime(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// midnightUTC is used only for arithmetic: UTC has no daylight-saving gaps, so adding days is exact.
func (d Date) midnightUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// valid reports whether d is a real day that String writes in a form ParseDate reads back: the
// zero Date is not (it has no month), nor is a five-digit year.
func (d Date) valid() bool {
	return d.Year >= 0 && d.Year <= 9999 && dateOfTime(d.midnightUTC()) == d
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// Long writes the date out for people, as the NHS style guide asks: "Wednesday 25 November
// 2026". A Date that is not a real day (the zero Date) is written as String writes it.
func (d Date) Long() string {
	if !d.valid() {
		return d.String()
	}
	return d.midnightUTC().Format("Monday 2 January 2006")
}

// AddDays returns the date n calendar days after d (before it, if n is negative).
func (d Date) AddDays(n int) Date {
	return dateOfTime(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week d falls on.
func (d Date) Weekday() time.Weekday {
	return d.midnightUTC().Weekday()
}

// Compare returns -1 if d is before o, 0 if they are the same day, and +1 if d is after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return sign(d.Year - o.Year)
	case d.Month != o.Month:
		return sign(int(d.Month - o.Month))
	default:
		return sign(d.Day - o.Day)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// MarshalText writes "YYYY-MM-DD". It refuses a date that is not real (such as the zero Date),
// because ParseDate could never read it back; use a pointer or `omitzero` for an absent date.
func (d Date) MarshalText() ([]byte, error) {
	if !d.valid() {
		return nil, fmt.Errorf("calendar: cannot marshal %s: not a real date", d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads a strict "YYYY-MM-DD" (see ParseDate).
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

var london = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		// Unreachable: time/tzdata is linked in, so only a broken build gets here.
		panic("calendar: load Europe/London: " + err.Error())
	}
	return loc
})

// London returns the Europe/London time zone, in which the service's days begin and end.
func London() *time.Location { return london() }

// DateOf returns the civil date of instant t in Europe/London, whatever zone t carries: a
// referral received at 00:30 BST is received on that day, not the previous UTC day.
func DateOf(t time.Time) Date {
	return dateOfTime(t.In(London()))
}

// YearsBetween returns the whole years from birth to on: a person's age on the date on. It is
// negative if on is before birth; callers validate that.
//
// Someone born on 29 February reaches each birthday on 1 March in non-leap years (on 28 February
// they are still a year younger). This is a choice: it is the conservative reading for age
// thresholds, since nobody is counted a year older before the 28th has fully passed, and it is
// what comparing (month, day) pairs gives, so there is no special case to get wrong.
func YearsBetween(birth, on Date) int {
	years := on.Year - birth.Year
	if on.Month < birth.Month || (on.Month == birth.Month && on.Day < birth.Day) {
		years--
	}
	return years
}
