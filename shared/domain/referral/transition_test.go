package referral

import (
	"strings"
	"testing"
	"time"
)

var transitionNow = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// validCommand is a command of kind k that passes every field rule, in an area with room.
func validCommand(k Kind) Command {
	c := Command{Kind: k, Actor: causedBy[k], Via: "test",
		Method: "phone", Date: "2026-03-09", StartDate: "2026-03-09", HoursPerWeek: 16, SelfEmployed: "no",
		Sustained: "yes", Specialist: "sp-2", Area: "area-2", Postcode: "LS1 1AA",
		Candidates: []Candidate{{ID: "sp-1", Capacity: 5, Caseload: 1, Active: true}, {ID: "sp-2", Capacity: 5, Caseload: 0, Active: true}},
	}
	switch k {
	case KindClose:
		c.Reason = "declined"
	case KindWithdraw:
		c.Reason = WithdrawRevoked
	}
	return c
}

func referralIn(s Status) Referral {
	r := Referral{ID: "R1", Area: "area-1", Status: s, Submission: Submission{Patient: Patient{Postcode: "M1 1AA"}}}
	if s.holdsUnit() || s.Terminal() {
		r.SpecialistID = "sp-1"
	}
	return r
}

// TestApplyEveryStatusAndEvent covers every (status, event) pair of SPEC §9: the status it moves
// to, "already" for an event that already happened, or "conflict".
func TestApplyEveryStatusAndEvent(t *testing.T) {
	const already, conflict = "already", "conflict"
	want := map[Kind]map[Status]string{
		KindReceive:         {"": "assigned", StatusWaitlisted: already, StatusAssigned: already, StatusContacted: already, StatusEngaged: already, StatusInWork: already, StatusClosed: already, StatusWithdrawn: already},
		KindAssign:          {StatusWaitlisted: "assigned", StatusAssigned: already, StatusContacted: already, StatusEngaged: already, StatusInWork: already, StatusClosed: conflict, StatusWithdrawn: conflict},
		KindAttempt:         {StatusWaitlisted: conflict, StatusAssigned: "assigned", StatusContacted: conflict, StatusEngaged: conflict, StatusInWork: conflict, StatusClosed: conflict, StatusWithdrawn: conflict},
		KindContact:         {StatusWaitlisted: conflict, StatusAssigned: "contacted", StatusContacted: already, StatusEngaged: already, StatusInWork: already, StatusClosed: conflict, StatusWithdrawn: conflict},
		KindMeeting:         {StatusWaitlisted: conflict, StatusAssigned: "engaged", StatusContacted: "engaged", StatusEngaged: already, StatusInWork: already, StatusClosed: conflict, StatusWithdrawn: conflict},
		KindEmployerContact: {StatusWaitlisted: conflict, StatusAssigned: conflict, StatusContacted: conflict, StatusEngaged: "engaged", StatusInWork: "in-work", StatusClosed: conflict, StatusWithdrawn: conflict},
		KindJobStart:        {StatusWaitlisted: conflict, StatusAssigned: conflict, StatusContacted: conflict, StatusEngaged: "in-work", StatusInWork: "in-work", StatusClosed: conflict, StatusWithdrawn: conflict},
		KindOutcome:         {StatusWaitlisted: conflict, StatusAssigned: conflict, StatusContacted: conflict, StatusEngaged: conflict, StatusInWork: "in-work", StatusClosed: conflict, StatusWithdrawn: conflict},
		KindClose:           {StatusWaitlisted: conflict, StatusAssigned: "closed", StatusContacted: "closed", StatusEngaged: "closed", StatusInWork: "closed", StatusClosed: already, StatusWithdrawn: conflict},
		KindWithdraw:        {StatusWaitlisted: "withdrawn", StatusAssigned: "withdrawn", StatusContacted: "withdrawn", StatusEngaged: conflict, StatusInWork: conflict, StatusClosed: conflict, StatusWithdrawn: already},
		KindReassign:        {StatusWaitlisted: conflict, StatusAssigned: "assigned", StatusContacted: "contacted", StatusEngaged: "engaged", StatusInWork: "in-work", StatusClosed: conflict, StatusWithdrawn: conflict},
		KindTransfer:        {StatusWaitlisted: "assigned", StatusAssigned: "assigned", StatusContacted: "assigned", StatusEngaged: conflict, StatusInWork: conflict, StatusClosed: conflict, StatusWithdrawn: conflict},
	}
	pairs := 0
	for _, k := range Kinds {
		for _, s := range append([]Status{""}, Statuses...) {
			expect, ok := want[k][s]
			if !ok {
				if s == "" {
					continue // only intake's receive applies to a referral not yet stored
				}
				t.Fatalf("table misses (%s, %s)", s, k)
			}
			pairs++
			t.Run(string(s)+"/"+string(k), func(t *testing.T) {
				r := referralIn(s)
				tr, err := Apply(r, validCommand(k), transitionNow)
				switch expect {
				case conflict:
					if ErrorCode(err) != CodeConflict {
						t.Fatalf("got %+v, %v; want conflict", tr, err)
					}
					if s != "" && !strings.Contains(err.Error(), s.Words()) {
						t.Errorf("conflict %q does not say the status %q", err, s.Words())
					}
				case already:
					if err != nil || !tr.AlreadyRecorded || tr.Event != (Event{}) || tr.Referral.Status != s {
						t.Fatalf("got %+v, %v; want already recorded", tr, err)
					}
				default:
					if err != nil || tr.AlreadyRecorded {
						t.Fatalf("got %+v, %v; want %s", tr, err, expect)
					}
					if tr.Referral.Status != Status(expect) {
						t.Errorf("status %s, want %s", tr.Referral.Status, expect)
					}
					if len(tr.Referral.Events) != len(r.Events)+1 || tr.Event.Type == "" || tr.Event.At != transitionNow {
						t.Errorf("want exactly one new audit event, got %+v", tr.Referral.Events)
					}
					checkUnits(t, r, tr)
				}
			})
		}
	}
	if pairs != 7*len(Kinds)+1 {
		t.Fatalf("covered %d pairs, want %d", pairs, 7*len(Kinds)+1)
	}
}

// checkUnits asserts the caseload effect accounts exactly for the unit the referral holds before
// and after.
func checkUnits(t testing.TB, before Referral, tr Transition) {
	t.Helper()
	held := map[string]int{}
	if before.Status.holdsUnit() {
		held[before.SpecialistID]++
	}
	if tr.Caseload.Release != "" {
		held[tr.Caseload.Release]--
	}
	if tr.Caseload.Take != "" {
		held[tr.Caseload.Take]++
	}
	after := map[string]int{}
	if tr.Referral.Status.holdsUnit() && !tr.Referral.ReReferral {
		after[tr.Referral.SpecialistID]++
	}
	for id := range mergeKeys(held, after) {
		if held[id] != after[id] {
			t.Errorf("%s→%s: caseload effect %+v leaves %s holding %d, want %d", before.Status, tr.Referral.Status, tr.Caseload, id, held[id], after[id])
		}
	}
}

func mergeKeys(a, b map[string]int) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func TestApplyRefusals(t *testing.T) {
	tests := []struct {
		name   string
		status Status
		edit   func(*Command)
		code   Code
		field  string
	}{
		{"referrer cannot close", StatusAssigned, func(c *Command) { c.Kind, c.Actor, c.Reason = KindClose, ActorReferrer, "declined" }, CodeForbidden, ""},
		{"specialist cannot withdraw", StatusAssigned, func(c *Command) { c.Kind, c.Actor, c.Reason = KindWithdraw, ActorSpecialist, WithdrawRevoked }, CodeForbidden, ""},
		{"lead cannot record contact", StatusAssigned, func(c *Command) { c.Kind, c.Actor = KindContact, ActorLead }, CodeForbidden, ""},
		{"bad attempt method", StatusAssigned, func(c *Command) { c.Kind, c.Method = KindAttempt, "pigeon" }, CodeInvalid, "method"},
		{"close without reason", StatusAssigned, func(c *Command) { c.Kind, c.Reason = KindClose, "" }, CodeInvalid, "reason"},
		{"withdraw with unknown reason", StatusAssigned, func(c *Command) { c.Kind, c.Reason = KindWithdraw, "bored" }, CodeInvalid, "reason"},
		{"job start 81 hours", StatusEngaged, func(c *Command) { c.Kind, c.HoursPerWeek = KindJobStart, 81 }, CodeInvalid, "hoursPerWeek"},
		{"job start in the future", StatusEngaged, func(c *Command) { c.Kind, c.StartDate = KindJobStart, "2026-04-01" }, CodeInvalid, "startDate"},
		{"outcome neither yes nor no", StatusInWork, func(c *Command) { c.Kind, c.Sustained = KindOutcome, "maybe" }, CodeInvalid, "sustained"},
		{"reassign to a full specialist", StatusAssigned, func(c *Command) {
			c.Kind, c.Specialist = KindReassign, "sp-3"
			c.Candidates = append(c.Candidates, Candidate{ID: "sp-3", Capacity: 1, Caseload: 1, Active: true})
		}, CodeInvalid, "specialist"},
		{"assign with nobody free", StatusWaitlisted, func(c *Command) { c.Kind, c.Candidates = KindAssign, nil }, CodeConflict, ""},
		{"unknown kind", StatusAssigned, func(c *Command) { c.Kind = "dance" }, CodeNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCommand(KindContact)
			tt.edit(&c)
			if tt.code != CodeForbidden && tt.code != CodeNotFound {
				c.Actor = causedBy[c.Kind]
			}
			tr, err := Apply(referralIn(tt.status), c, transitionNow)
			if ErrorCode(err) != tt.code {
				t.Fatalf("got %+v, %v; want %s", tr, err, tt.code)
			}
			if tt.field != "" {
				if fs := FieldErrors(err); len(fs) != 1 || fs[0].Field != tt.field {
					t.Errorf("fields %+v, want one on %s", fs, tt.field)
				}
			}
		})
	}
}

func TestApplyHistoryMakesRepeatsAlreadyRecorded(t *testing.T) {
	r := referralIn(StatusClosed)
	r.Events = []Event{{Type: EventContacted}, {Type: EventMet}}
	for _, k := range []Kind{KindContact, KindMeeting} {
		tr, err := Apply(r, validCommand(k), transitionNow)
		if err != nil || !tr.AlreadyRecorded {
			t.Errorf("%s on a closed referral that had it: %+v, %v; want already recorded", k, tr, err)
		}
	}
}

func TestApplyWithdrawKeepsSpecialistAndReleasesUnit(t *testing.T) {
	tr, err := Apply(referralIn(StatusAssigned), validCommand(KindWithdraw), transitionNow)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Referral.SpecialistID != "sp-1" || tr.Caseload != (Caseload{Release: "sp-1"}) || !tr.FreesCapacity {
		t.Errorf("withdraw: %+v", tr)
	}
	shared := validCommand(KindWithdraw)
	shared.SharesOpenCase = true
	if tr, _ := Apply(referralIn(StatusAssigned), shared, transitionNow); tr.Caseload.Release != "" {
		t.Errorf("withdraw sharing the open case released %q", tr.Caseload.Release)
	}
	if _, err := Apply(referralIn(StatusEngaged), validCommand(KindWithdraw), transitionNow); !strings.Contains(err.Error(), "contact the employment specialist") {
		t.Errorf("withdraw after meeting: %v", err)
	}
}

func TestApplyReceiveRoutes(t *testing.T) {
	c := validCommand(KindReceive)
	tr, _ := Apply(Referral{ID: "R"}, c, transitionNow)
	if tr.Referral.SpecialistID != "sp-2" || tr.Caseload.Take != "sp-2" || tr.Event.Type != EventAssigned {
		t.Errorf("receive with room: %+v", tr)
	}
	c.Candidates = nil
	if tr, _ := Apply(Referral{ID: "R"}, c, transitionNow); tr.Referral.Status != StatusWaitlisted || tr.Caseload != (Caseload{}) || tr.Event.Type != EventWaitlisted {
		t.Errorf("receive without room: %+v", tr)
	}
	c.OpenCase = "sp-9"
	if tr, _ := Apply(Referral{ID: "R"}, c, transitionNow); tr.Referral.SpecialistID != "sp-9" || !tr.Referral.ReReferral || tr.Caseload != (Caseload{}) {
		t.Errorf("re-referral: %+v", tr)
	}
}

// The lead's events record what the returns (SPEC §12) read: who held it before and after, and
// for a transfer both areas and the specialist it left.
func TestApplyMoveDetails(t *testing.T) {
	tests := []struct {
		kind   Kind
		status Status
		want   string
	}{
		{KindReassign, StatusEngaged, "from=sp-1;to=sp-2"},
		{KindTransfer, StatusContacted, "from=area-1;to=area-2;specialist=sp-1"},
		{KindTransfer, StatusWaitlisted, "from=area-1;to=area-2;specialist="},
	}
	for _, tt := range tests {
		tr, err := Apply(referralIn(tt.status), validCommand(tt.kind), transitionNow)
		if err != nil || tr.Event.Detail != tt.want || tr.Event.By == "" {
			t.Errorf("%s from %s: %+v, %v; want detail %q", tt.kind, tt.status, tr.Event, err, tt.want)
		}
	}
}
