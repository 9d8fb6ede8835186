package referral

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// OutcomeCheckDays is how long after the first job starts its outcome is checked: 16 weeks
// (SPEC §9: the outcome-check email is a prompt, not a gate).
const OutcomeCheckDays = 16 * 7

// Job is one job start in a referral's history, with the outcome recorded for it, if any.
type Job struct {
	Start        calendar.Date
	HoursPerWeek int
	SelfEmployed bool
	Outcome      string // "sustained", "not-sustained", or "" while none is recorded
}

// JobDetail is a job-started event's Detail (its format is fixed: the returns read it).
func JobDetail(start string, hours int, selfEmployed string) string {
	return fmt.Sprintf("start=%s;hours=%d;self-employed=%s", start, hours, selfEmployed)
}

// Jobs lists r's job starts in the order they were recorded; an outcome belongs to the job
// started last before it.
func (r Referral) Jobs() []Job {
	var jobs []Job
	for _, e := range r.Events {
		switch e.Type {
		case EventJobStarted:
			if j, ok := ParseJobDetail(e.Detail); ok {
				jobs = append(jobs, j)
			}
		case EventOutcome:
			if n := len(jobs); n > 0 && jobs[n-1].Outcome == "" {
				jobs[n-1].Outcome = e.Detail
			}
		}
	}
	return jobs
}

// ParseJobDetail reads a job-started event's Detail (JobDetail's format); ok is false when it has
// no readable start date or its hours are not a whole number. The one reader of that format.
func ParseJobDetail(detail string) (j Job, ok bool) {
	var err error
	for _, kv := range strings.Split(detail, ";") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "start":
			j.Start, err = calendar.ParseDate(v)
		case "hours":
			j.HoursPerWeek, err = strconv.Atoi(v)
		case "self-employed":
			j.SelfEmployed = v == "yes"
		}
		if err != nil {
			return Job{}, false
		}
	}
	return j, j.Start != (calendar.Date{})
}

// OutcomeCheckDue is when the outcome check of r's first job falls due (OutcomeCheckDays after it
// started), while no outcome has been recorded; ok is false otherwise. A later job keeps the
// first job's date: the check is a prompt, not a gate (SPEC §9).
func (r Referral) OutcomeCheckDue() (day calendar.Date, ok bool) {
	var first *Job
	for _, e := range r.Events {
		switch e.Type {
		case EventOutcome:
			return calendar.Date{}, false
		case EventJobStarted:
			if j, parsed := ParseJobDetail(e.Detail); parsed && first == nil {
				first = &j
			}
		}
	}
	if first == nil {
		return calendar.Date{}, false
	}
	return first.Start.AddDays(OutcomeCheckDays), true
}

// OutcomeCheckNotice is the Detail of the emailed event that records the outcome-check email
// (the email kind's name, as every emailed event carries).
const OutcomeCheckNotice = "outcome-check"

// OutcomeCheckPending is OutcomeCheckDue until the outcome check has been emailed: after that
// nothing is left to send, so a store need not keep the referral where the sweep looks.
func (r Referral) OutcomeCheckPending() (day calendar.Date, ok bool) {
	for _, e := range r.Events {
		if e.Type == EventEmailed && e.Detail == OutcomeCheckNotice {
			return calendar.Date{}, false
		}
	}
	return r.OutcomeCheckDue()
}

// OutcomeRecorded reports whether an outcome was recorded after r's latest job start.
func (r Referral) OutcomeRecorded() bool {
	for i := len(r.Events) - 1; i >= 0; i-- {
		switch r.Events[i].Type {
		case EventOutcome:
			return true
		case EventJobStarted:
			return false
		}
	}
	return false
}

// hasEvent reports whether r's history has an event of type ty with exactly this detail.
func (r Referral) hasEvent(ty, detail string) bool {
	return slices.ContainsFunc(r.Events, func(e Event) bool { return e.Type == ty && e.Detail == detail })
}
