package referral

import "github.com/ipspc/referrals/shared/lib/calendar"

// OutcomeCheckDue is the day r's outcome check falls due (SPEC §11), while it waits for one: in
// work, no job outcome recorded yet, and 16 weeks after the first job start (its start date, not
// the day it was recorded; a later job start moves nothing). ok is false when no check is to come.
func (r Referral) OutcomeCheckDue() (day calendar.Date, ok bool) {
	if r.Status != StatusInWork {
		return calendar.Date{}, false
	}
	if _, outcome := r.FirstEvent(EventOutcome); outcome {
		return calendar.Date{}, false
	}
	jobs := r.Jobs()
	if len(jobs) == 0 {
		return calendar.Date{}, false
	}
	return jobs[0].Start.AddDays(OutcomeCheckDays), true
}
