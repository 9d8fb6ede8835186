package referral

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// OutcomeCheckDays is how long after the first job start the IPSPC job outcome is asked for
// (SPEC §11): 16 weeks, in which the person must have worked at least 7 hours a week in 13.
const OutcomeCheckDays = 16 * 7

// JobStart is what a job-started event records.
type JobStart struct {
	Start        calendar.Date
	HoursPerWeek int
	SelfEmployed string // "yes" or "no"
}

// Detail is the job-started event's Detail: "start=YYYY-MM-DD;hours=N;self-employed=yes|no"
// (returns read it, SPEC §12).
func (j JobStart) Detail() string {
	return fmt.Sprintf("start=%s;hours=%d;self-employed=%s", j.Start, j.HoursPerWeek, j.SelfEmployed)
}

// ParseJobStart reads a job-started event's Detail; ok is false when it has no valid start date.
func ParseJobStart(detail string) (j JobStart, ok bool) {
	for part := range strings.SplitSeq(detail, ";") {
		key, value, _ := strings.Cut(part, "=")
		switch key {
		case "start":
			d, err := calendar.ParseDate(value)
			if err != nil {
				return JobStart{}, false
			}
			j.Start, ok = d, true
		case "hours":
			j.HoursPerWeek, _ = strconv.Atoi(value)
		case "self-employed":
			j.SelfEmployed = value
		}
	}
	return j, ok
}

// FirstJobStart is the start date of r's first recorded job start. A Detail without a date (none
// is written so) falls back to the day it was recorded, which is never before the start: the
// outcome check may then come late, never early.
func FirstJobStart(r Referral) (calendar.Date, bool) {
	e, ok := r.FirstEvent(EventJobStarted)
	if !ok {
		return calendar.Date{}, false
	}
	if j, ok := ParseJobStart(e.Detail); ok {
		return j.Start, true
	}
	return calendar.DateOf(e.At), true
}

// AwaitingOutcome reports whether r waits for its job outcome (SPEC §9, §11): in work, with no
// outcome recorded yet. due is the day the outcome check is due: 16 weeks after the first job start.
func AwaitingOutcome(r Referral) (due calendar.Date, ok bool) {
	if r.Status != StatusInWork {
		return calendar.Date{}, false
	}
	if _, ok := r.FirstEvent(EventOutcome); ok {
		return calendar.Date{}, false
	}
	start, ok := FirstJobStart(r)
	if !ok {
		return calendar.Date{}, false
	}
	return start.AddDays(OutcomeCheckDays), true
}
