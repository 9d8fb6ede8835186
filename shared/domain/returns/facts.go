// Package returns computes SPEC §12's programme returns (per area and Europe/London calendar
// month) from referrals' audit histories. It works in two steps so a store can keep the figures
// incrementally: Facts turns one referral into per-month fact records (one per counted event,
// keyed so that a stream retry overwrites rather than double counts), and Rows folds the facts of
// the months asked for (plus one opening snapshot per area) into the rows of the return.
// Everything here is counts: no reference, name or free text reaches a Row.
package returns

import (
	"fmt"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// Column names of the flow figures (SPEC §12) and of the facts behind the level figures.
const (
	Received                = "received"
	AssignedAtIntake        = "assigned_at_intake"
	WaitlistedAtIntake      = "waitlisted_at_intake"
	ContactedOnTime         = "contacted_on_time"
	ContactedLate           = "contacted_late"
	MetOnTime               = "met_on_time"
	MetLate                 = "met_late"
	EmployerContactIn30Days = "employer_contact_within_30_days"
	JobStarts               = "job_starts"
	FirstJobStarts          = "first_job_starts"
	JobStarts16Hours        = "job_starts_16_hours"
	JobOutcomes             = "job_outcomes"
	Closed                  = "closed"
	WithdrawnRevoked        = "withdrawn_revoked"
	WithdrawnEnteredInError = "withdrawn_entered_in_error"
	// Report-only figures for the employment rate (IPS Grow): not CSV columns.
	EngagedUnemployed        = "engaged_unemployed"
	FirstJobStartsUnemployed = "first_job_starts_unemployed"
	// Level facts: Count is a delta (+1/-1) of a specialist's caseload or of the area's waitlist.
	CaseloadDelta = "caseload_delta"
	WaitlistDelta = "waitlist_delta"
	// Snapshot facts: Count is the level at the end of Month (see Snapshot).
	CaseloadLevel = "caseload_level"
	WaitlistLevel = "waitlist_level"
)

// Fact is one counted thing: Count of Column in Area and Month, caused by event Index of a
// referral. Specialist is set for caseload facts only. Facts carry the referral id so a store can
// key them; it never reaches a Row.
type Fact struct {
	Area       string `json:"area"`
	Month      string `json:"month"` // YYYY-MM, Europe/London
	Referral   string `json:"referral,omitempty"`
	Index      int    `json:"index"` // the audit event's position in the referral's history
	Seq        int    `json:"seq"`   // the fact's position among those of the same event
	Column     string `json:"column"`
	Specialist string `json:"specialist,omitempty"`
	Count      int    `json:"count"`
	// Day is the Europe/London date (YYYY-MM-DD) the fact counts on, within Month; empty on
	// snapshot facts. It is not part of Key: a fact's day never changes without its month.
	Day string `json:"day,omitempty"`
}

// Key identifies a fact across recomputations: the same referral, event and position always give
// the same key, so storing a referral's facts again (a stream retry, a later event) overwrites.
func (f Fact) Key() string {
	return fmt.Sprintf("%s#%04d#%d", f.Referral, f.Index, f.Seq)
}

// Month returns the Europe/London calendar month of t as YYYY-MM.
func Month(t time.Time) string { return t.In(calendar.London()).Format("2006-01") }

func monthOfDate(d calendar.Date) string { return fmt.Sprintf("%04d-%02d", d.Year, int(d.Month)) }

// Facts returns the facts r's history gives. It is a pure function of r, so a store can call it
// on every stream record of r and overwrite the facts by Key. Malformed Detail values (which the
// transition function never writes) are skipped rather than guessed at.
func Facts(r referral.Referral) []Fact {
	b := builder{r: r, area: initialArea(r)}
	owner := holders(r)
	var firstMet, firstEmployer calendar.Date
	var haveMet, haveContact, haveJob bool
	employerIndex, metIndex := -1, -1
	for i, e := range r.Events {
		b.index, b.seq = i, 0
		m := calendar.DateOf(e.At)
		switch e.Type {
		case referral.EventReceived:
			b.add(m, Received, "", 1)
		case referral.EventWaitlisted:
			if e.Via == "intake" {
				b.add(m, WaitlistedAtIntake, "", 1)
			}
			b.wait(m)
		case referral.EventAssigned:
			if e.Via == "intake" {
				b.add(m, AssignedAtIntake, "", 1)
			}
			b.unwait(m)
			if e.Detail != "re-referral" {
				b.hold(m, owner[i])
			}
		case referral.EventContacted:
			if haveContact {
				continue
			}
			haveContact = true
			if !calendar.DateOf(e.At).After(r.ContactBy) {
				b.add(m, ContactedOnTime, "", 1)
			} else {
				b.add(m, ContactedLate, "", 1)
			}
		case referral.EventMet:
			if haveMet {
				continue
			}
			haveMet, firstMet, metIndex = true, calendar.DateOf(e.At), i
			if !firstMet.After(r.MeetBy) {
				b.add(m, MetOnTime, "", 1)
			} else {
				b.add(m, MetLate, "", 1)
			}
			if r.EmploymentStatus == "unemployed" {
				b.add(m, EngagedUnemployed, "", 1)
			}
		case referral.EventEmployerContact:
			d, err := calendar.ParseDate(e.Detail)
			if err != nil {
				continue
			}
			if employerIndex < 0 || d.Before(firstEmployer) {
				employerIndex, firstEmployer = i, d
			}
		case referral.EventJobStarted:
			job, ok := referral.ParseJobDetail(e.Detail)
			if !ok || job.HoursPerWeek < 1 {
				continue
			}
			jm := job.Start
			b.add(jm, JobStarts, "", 1)
			if !haveJob {
				haveJob = true
				b.add(jm, FirstJobStarts, "", 1)
				if r.EmploymentStatus == "unemployed" {
					b.add(jm, FirstJobStartsUnemployed, "", 1)
				}
			}
			if job.HoursPerWeek >= 16 {
				b.add(jm, JobStarts16Hours, "", 1)
			}
		case referral.EventOutcome:
			if e.Detail == "sustained" {
				b.add(m, JobOutcomes, "", 1)
			}
		case referral.EventClosed:
			b.add(m, Closed, "", 1)
			b.release(m)
		case referral.EventWithdrawn:
			switch e.Detail {
			case "revoked":
				b.add(m, WithdrawnRevoked, "", 1)
			case "entered-in-error":
				b.add(m, WithdrawnEnteredInError, "", 1)
			}
			b.release(m)
		case referral.EventReassigned:
			kv := details(e.Detail)
			if b.holding != "" && kv["to"] != "" {
				b.add(m, CaseloadDelta, b.holding, -1)
				b.holding = kv["to"]
				b.add(m, CaseloadDelta, b.holding, 1)
			}
		case referral.EventTransferred:
			to := details(e.Detail)["to"]
			if to == "" {
				continue
			}
			b.release(m)
			b.area = to
			// Placed by what the history says held it just after, so the facts never depend on a
			// later event; an assignment event that follows moves it from the waiting list.
			if owner[i] != "" {
				b.hold(m, owner[i])
			} else {
				b.wait(m)
			}
		}
	}
	if employerIndex >= 0 && haveMet {
		if !firstEmployer.Before(firstMet) && !firstEmployer.After(firstMet.AddDays(30)) {
			// Keyed on the first meeting, which never changes, not on the employer contact: an
			// earlier-dated contact recorded later must replace this fact, not add a second one.
			b.index, b.seq = metIndex, employerSeq
			b.area = areaAt(r, employerIndex)
			b.add(firstEmployer, EmployerContactIn30Days, "", 1)
		}
	}
	return b.facts
}

// employerSeq is the reserved position of the employer-contact fact among the first meeting's facts.
const employerSeq = 9

type builder struct {
	r       referral.Referral
	area    string
	index   int
	seq     int
	holding string // the specialist whose caseload unit this referral takes, if any
	waiting bool
	facts   []Fact
}

func (b *builder) add(day calendar.Date, column, specialist string, n int) {
	b.facts = append(b.facts, Fact{Area: b.area, Month: monthOfDate(day), Day: day.String(), Referral: b.r.ID, Index: b.index, Seq: b.seq, Column: column, Specialist: specialist, Count: n})
	b.seq++
}

func (b *builder) wait(m calendar.Date) {
	if !b.waiting {
		b.waiting = true
		b.add(m, WaitlistDelta, "", 1)
	}
}

func (b *builder) unwait(m calendar.Date) {
	if b.waiting {
		b.waiting = false
		b.add(m, WaitlistDelta, "", -1)
	}
}

func (b *builder) hold(m calendar.Date, specialist string) {
	if b.holding != "" || specialist == "" {
		return
	}
	b.holding = specialist
	b.add(m, CaseloadDelta, specialist, 1)
}

// release frees whatever the referral takes in its current area: a caseload unit or a waitlist place.
func (b *builder) release(m calendar.Date) {
	b.unwait(m)
	if b.holding != "" {
		b.add(m, CaseloadDelta, b.holding, -1)
		b.holding = ""
	}
}

// holders returns, for each event, the specialist holding the referral just after it, worked
// backwards from the referral's current specialist through the reassignments' "from" (nobody
// before an assignment). A transfer's
// Detail names areas, not specialists: before a transfer the holder is unknown, so it is recorded
// under a placeholder unique to the referral (it can then never raise another specialist's
// caseload; see docs/returns.md).
func holders(r referral.Referral) []string {
	out := make([]string, len(r.Events))
	cur := r.SpecialistID
	for i := len(r.Events) - 1; i >= 0; i-- {
		out[i] = cur
		switch e := r.Events[i]; e.Type {
		case referral.EventAssigned:
			cur = "" // before an assignment nobody held it (it was new, waiting or just transferred)
		case referral.EventReassigned:
			cur = details(e.Detail)["from"]
		case referral.EventTransferred:
			cur = details(e.Detail)["specialist"]
			if cur == "" {
				cur = "unknown-before-transfer:" + r.ID
			}
		}
	}
	return out
}

// initialArea is the area the referral was received in: the "from" of its first transfer, if any.
func initialArea(r referral.Referral) string { return areaAt(r, 0) }

// areaAt is the area the referral was in when event i was recorded.
func areaAt(r referral.Referral, i int) string {
	for j := i + 1; j < len(r.Events); j++ {
		if r.Events[j].Type == referral.EventTransferred {
			if from := details(r.Events[j].Detail)["from"]; from != "" {
				return from
			}
		}
	}
	return r.Area
}

// details parses "k=v;k=v".
func details(s string) map[string]string {
	kv := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		if k, v, ok := strings.Cut(part, "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return kv
}
