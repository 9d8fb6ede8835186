// Package worklist is the area lead's side of the service (SPEC §10, §11): the lead's signed
// link, the worklist of an area (its waitlist, what is overdue, each specialist's load and every
// open referral with what the lead may do to it), and the weekly digest's due rule and counts.
// It decides; the store reads and the edges show. It imports no infrastructure.
package worklist

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// Specialist is one specialist of the area as the lead sees them.
type Specialist struct {
	ID       string
	Name     string
	Caseload int
	Capacity int
	Active   bool
	// Bouncing is set while the directory marks the specialist's current address as failing.
	Bouncing bool
}

// HasRoom reports whether s can take one more referral (the routing rule of SPEC §5).
func (s Specialist) HasRoom() bool { return s.Active && s.Caseload < s.Capacity }

// Snapshot is what the store reads for one area: its specialists and its open referrals
// (waitlisted included). Referrals may carry the whole stored record; Build keeps only the
// reference, given name and initial.
type Snapshot struct {
	AreaID      string
	AreaName    string
	Specialists []Specialist
	Referrals   []referral.Referral
}

// Person is how the worklist names a patient: given name and family-name initial.
type Person struct {
	GivenName string
	Initial   string
}

// Name is "Sam T.".
func (p Person) Name() string {
	switch {
	case p.Initial == "":
		return p.GivenName
	case p.GivenName == "":
		return p.Initial + "."
	}
	return p.GivenName + " " + p.Initial + "."
}

func personOf(r referral.Referral) Person {
	initial := ""
	if f := strings.TrimSpace(r.Patient.FamilyName); f != "" {
		initial = strings.ToUpper(string([]rune(f)[:1]))
	}
	return Person{GivenName: strings.TrimSpace(r.Patient.GivenName), Initial: initial}
}

// Waiting is one waitlisted referral.
type Waiting struct {
	ReferralID  string
	Person      Person
	Since       time.Time
	DaysWaiting int
}

// Deadline kinds, as the Overdue entry names them.
const (
	OverdueContact = "contact"
	OverdueMeeting = "meeting"
)

// Overdue is one referral with a deadline passed and not met.
type Overdue struct {
	ReferralID   string
	Person       Person
	SpecialistID string
	// What lists the deadlines passed: OverdueContact, OverdueMeeting or both.
	What     []string
	Attempts int // contact attempts recorded (referral.EventAttempted)
}

// Open is one open referral with the lead's choices for it.
type Open struct {
	ReferralID   string
	Person       Person
	Status       referral.Status
	SpecialistID string
	// ReassignTo are the area's other active specialists with room, by name; empty when the
	// status allows no reassign (SPEC §9) or nobody has room.
	ReassignTo  []Specialist
	CanReassign bool
	CanTransfer bool
}

// Worklist is the lead's page of an area.
type Worklist struct {
	AreaID      string
	AreaName    string
	Waitlist    []Waiting // oldest first
	Overdue     []Overdue // by reference
	Specialists []Specialist
	Open        []Open // by reference
}

// Build turns what the store read into the worklist as of now. Only open referrals count; a
// referral of another area (a stale index entry) is left out.
func Build(s Snapshot, now time.Time) Worklist {
	today := calendar.DateOf(now)
	w := Worklist{AreaID: s.AreaID, AreaName: s.AreaName, Specialists: slices.Clone(s.Specialists)}
	slices.SortFunc(w.Specialists, func(a, b Specialist) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	for _, r := range s.Referrals {
		if !r.Status.Open() || r.Area != s.AreaID {
			continue
		}
		p := personOf(r)
		if r.Status == referral.StatusWaitlisted {
			since := waitingSince(r)
			w.Waitlist = append(w.Waitlist, Waiting{ReferralID: r.ID, Person: p, Since: since, DaysWaiting: DaysBetween(since, now)})
		}
		if what := overdueKinds(r, today); len(what) > 0 {
			w.Overdue = append(w.Overdue, Overdue{ReferralID: r.ID, Person: p, SpecialistID: r.SpecialistID, What: what, Attempts: Attempts(r)})
		}
		o := Open{ReferralID: r.ID, Person: p, Status: r.Status, SpecialistID: r.SpecialistID,
			CanReassign: r.Status.Reassignable(), CanTransfer: r.Status.Transferable()}
		if o.CanReassign {
			o.ReassignTo = reassignChoices(w.Specialists, r.SpecialistID)
		}
		w.Open = append(w.Open, o)
	}
	slices.SortFunc(w.Waitlist, func(a, b Waiting) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.ReferralID, b.ReferralID))
	})
	slices.SortFunc(w.Overdue, func(a, b Overdue) int { return cmp.Compare(a.ReferralID, b.ReferralID) })
	slices.SortFunc(w.Open, func(a, b Open) int { return cmp.Compare(a.ReferralID, b.ReferralID) })
	return w
}

// reassignChoices are the specialists a referral held by current may be reassigned to: the
// others, active, with room.
func reassignChoices(specialists []Specialist, current string) []Specialist {
	var out []Specialist
	for _, s := range specialists {
		if s.ID != current && s.HasRoom() {
			out = append(out, s)
		}
	}
	return out
}

// waitingSince is when r joined the waitlist: its latest waitlisted event (a transfer into a full
// area waitlists it again), else when it was received.
func waitingSince(r referral.Referral) time.Time {
	if e, ok := r.LastEvent(referral.EventWaitlisted); ok {
		return e.At
	}
	return r.ReceivedAt
}

// DaysBetween counts calendar days in Europe/London from since to now (0 on the same day).
func DaysBetween(since, now time.Time) int {
	a, b := calendar.DateOf(since), calendar.DateOf(now)
	n := 0
	for d := a; d.Before(b); d = d.AddDays(1) {
		n++
	}
	return n
}

// overdueKinds says which of r's deadlines passed before today without being met: contact while
// it is assigned, the meeting while it is assigned or contacted. A deadline is overdue the day
// after it (SPEC §7: the first run after the deadline passed).
func overdueKinds(r referral.Referral, today calendar.Date) []string {
	var what []string
	if r.Status == referral.StatusAssigned && r.ContactBy != (calendar.Date{}) && today.After(r.ContactBy) {
		what = append(what, OverdueContact)
	}
	if (r.Status == referral.StatusAssigned || r.Status == referral.StatusContacted) && r.MeetBy != (calendar.Date{}) && today.After(r.MeetBy) {
		what = append(what, OverdueMeeting)
	}
	return what
}

// Attempts counts r's recorded contact attempts.
func Attempts(r referral.Referral) int {
	n := 0
	for _, e := range r.Events {
		if e.Type == referral.EventAttempted {
			n++
		}
	}
	return n
}
