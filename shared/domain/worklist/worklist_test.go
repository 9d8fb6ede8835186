package worklist

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func day(tb testing.TB, s string) calendar.Date {
	tb.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func ref(id string, status referral.Status, specialist string, received time.Time, events ...referral.Event) referral.Referral {
	r := referral.Referral{ID: id, Area: "norfolk", Status: status, SpecialistID: specialist, ReceivedAt: received, Events: events}
	r.Patient.GivenName, r.Patient.FamilyName = "Sam", "taylor"
	r.Patient.NHSNumber, r.Patient.Phone = "9434765919", "07700 900123"
	return r
}

func TestBuildWorklist(t *testing.T) {
	now := at(t, "2026-12-07T10:00:00Z") // Monday
	specialists := []Specialist{
		{ID: "b", Name: "Bea", Caseload: 20, Capacity: 20, Active: true},
		{ID: "a", Name: "Ana", Caseload: 3, Capacity: 20, Active: true, Bouncing: true},
		{ID: "c", Name: "Cal", Caseload: 0, Capacity: 20, Active: false},
		{ID: "d", Name: "Dee", Caseload: 1, Capacity: 20, Active: true},
	}
	attempt := referral.Event{At: now, Type: referral.EventAttempted, Detail: "phone"}
	contactOverdue := ref("R-AAAA0001", referral.StatusAssigned, "a", at(t, "2026-12-01T09:00:00Z"), attempt, attempt)
	contactOverdue.ContactBy, contactOverdue.MeetBy = day(t, "2026-12-03"), day(t, "2026-12-15")
	bothOverdue := ref("R-AAAA0002", referral.StatusAssigned, "a", at(t, "2026-11-01T09:00:00Z"))
	bothOverdue.ContactBy, bothOverdue.MeetBy = day(t, "2026-11-03"), day(t, "2026-11-13")
	dueToday := ref("R-AAAA0003", referral.StatusContacted, "d", at(t, "2026-11-20T09:00:00Z"))
	dueToday.ContactBy, dueToday.MeetBy = day(t, "2026-11-24"), day(t, "2026-12-07")
	newer := ref("R-AAAA0004", referral.StatusWaitlisted, "", at(t, "2026-12-05T09:00:00Z"))
	older := ref("R-AAAA0005", referral.StatusWaitlisted, "", at(t, "2026-12-01T09:00:00Z"))
	rewaitlisted := ref("R-AAAA0006", referral.StatusWaitlisted, "", at(t, "2026-10-01T09:00:00Z"),
		referral.Event{At: at(t, "2026-12-06T23:30:00Z"), Type: referral.EventWaitlisted})
	closed := ref("R-AAAA0007", referral.StatusClosed, "a", at(t, "2026-10-01T09:00:00Z"))
	elsewhere := ref("R-AAAA0008", referral.StatusWaitlisted, "", at(t, "2026-10-01T09:00:00Z"))
	elsewhere.Area = "essex"
	inWork := ref("R-AAAA0009", referral.StatusInWork, "b", at(t, "2026-09-01T09:00:00Z"))

	w := Build(Snapshot{AreaID: "norfolk", AreaName: "Norfolk", Specialists: specialists,
		Referrals: []referral.Referral{contactOverdue, bothOverdue, dueToday, newer, older, rewaitlisted, closed, elsewhere, inWork}}, now)

	var waitIDs []string
	var waitDays []int
	for _, x := range w.Waitlist {
		waitIDs, waitDays = append(waitIDs, x.ReferralID), append(waitDays, x.DaysWaiting)
	}
	if want := []string{"R-AAAA0005", "R-AAAA0004", "R-AAAA0006"}; !slices.Equal(waitIDs, want) {
		t.Errorf("waitlist = %v, want oldest first %v", waitIDs, want)
	}
	if want := []int{6, 2, 1}; !slices.Equal(waitDays, want) { // 23:30Z on 6 Dec is still 6 Dec in London
		t.Errorf("days waiting = %v, want %v", waitDays, want)
	}
	if len(w.Overdue) != 2 {
		t.Fatalf("overdue = %+v, want R-AAAA0001 and R-AAAA0002", w.Overdue)
	}
	if o := w.Overdue[0]; o.ReferralID != "R-AAAA0001" || !slices.Equal(o.What, []string{OverdueContact}) || o.Attempts != 2 || o.SpecialistID != "a" {
		t.Errorf("overdue[0] = %+v", o)
	}
	if o := w.Overdue[1]; !slices.Equal(o.What, []string{OverdueContact, OverdueMeeting}) || o.Attempts != 0 {
		t.Errorf("overdue[1] = %+v", o)
	}
	if o := w.Overdue[0]; o.Person.Name() != "Sam T." {
		t.Errorf("person = %q, want given name and initial only", o.Person.Name())
	}
	var names []string
	for _, s := range w.Specialists {
		names = append(names, s.Name)
	}
	if want := []string{"Ana", "Bea", "Cal", "Dee"}; !slices.Equal(names, want) {
		t.Errorf("specialists = %v, want %v", names, want)
	}
	open := map[string]Open{}
	for _, o := range w.Open {
		open[o.ReferralID] = o
	}
	if len(open) != 7 {
		t.Errorf("open = %d referrals, want 7 (not the closed one nor another area's)", len(open))
	}
	choices := func(o Open) []string {
		var ids []string
		for _, s := range o.ReassignTo {
			ids = append(ids, s.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		id                 string
		reassign, transfer bool
		to                 []string
	}{
		{"R-AAAA0001", true, true, []string{"d"}}, // not a (holds it), b (full), c (inactive)
		{"R-AAAA0003", true, true, []string{"a"}},
		{"R-AAAA0005", false, true, nil},
		{"R-AAAA0009", true, false, []string{"a", "d"}},
	} {
		o := open[tc.id]
		if o.CanReassign != tc.reassign || o.CanTransfer != tc.transfer || !slices.Equal(choices(o), tc.to) {
			t.Errorf("%s: reassign %v transfer %v to %v, want %v %v %v", tc.id, o.CanReassign, o.CanTransfer, choices(o), tc.reassign, tc.transfer, tc.to)
		}
	}
	d := DigestOf(w, 4)
	if want := (Digest{AreaID: "norfolk", AreaName: "Norfolk", Waitlisted: 3, OldestWaitDays: 6, Overdue: 2, ReceivedLastWeek: 4, Bouncing: 1}); d != want {
		t.Errorf("digest = %+v, want %+v", d, want)
	}
}

func TestLeadLinks(t *testing.T) {
	signer, err := signedlink.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := at(t, "2026-12-07T10:00:00Z")
	token, exp, err := IssueLink(signer, "norfolk", " Lead@Example.org ", now)
	if err != nil || !exp.Equal(now.Add(7*24*time.Hour)) {
		t.Fatalf("IssueLink = %v, %v", exp, err)
	}
	specialist := signer.Sign("R-AAAA0001", "norfolk-1", now.Add(time.Hour))
	referrer := signer.Issue(signedlink.Claim{Role: signedlink.RoleReferrer, Subject: "norfolk", Binding: "lead@example.org"}, now.Add(time.Hour))
	for _, tc := range []struct {
		name, area, email, token string
		now                      time.Time
		want                     error
	}{
		{"own area", "norfolk", "lead@example.org", token, now, nil},
		{"address case and spaces", "norfolk", "LEAD@example.ORG", token, now, nil},
		{"last second", "norfolk", "lead@example.org", token, exp.Add(-time.Second), nil},
		{"expired", "norfolk", "lead@example.org", token, exp, signedlink.ErrExpired},
		{"another area", "essex", "lead@example.org", token, now, signedlink.ErrInvalid},
		{"lead changed", "norfolk", "new.lead@example.org", token, now, signedlink.ErrInvalid},
		{"no lead", "norfolk", "", token, now, ErrNoLead},
		{"specialist token", "norfolk", "lead@example.org", specialist, now, signedlink.ErrInvalid},
		{"referrer token", "norfolk", "lead@example.org", referrer, now, signedlink.ErrInvalid},
		{"empty", "norfolk", "lead@example.org", "", now, signedlink.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLink(signer, tc.area, tc.email, tc.token, tc.now)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("CheckLink = %v, want %v", err, tc.want)
			}
		})
	}
	if _, _, err := IssueLink(signer, "norfolk", "  ", now); !errors.Is(err, ErrNoLead) {
		t.Errorf("IssueLink without a lead = %v, want ErrNoLead", err)
	}
}

// TestDigestDue walks the times of issue 12 through the due rule and a claim per area and week,
// as the reminders schedule would.
func TestDigestDue(t *testing.T) {
	claimed := map[string]bool{}
	for _, tc := range []struct {
		name, at string // London is on GMT in December
		week     string
		sends    bool
	}{
		{"Sunday 23:00", "2026-12-06T23:00:00Z", "", false},
		{"Monday 07:10", "2026-12-07T07:10:00Z", "", false},
		{"Monday 08:10", "2026-12-07T08:10:00Z", "2026-W50", true},
		{"Monday 09:10", "2026-12-07T09:10:00Z", "2026-W50", false},
		{"Wednesday", "2026-12-09T12:10:00Z", "2026-W50", false},
		{"Saturday", "2026-12-12T12:10:00Z", "", false},
		{"next Monday 08:10", "2026-12-14T08:10:00Z", "2026-W51", true},
		{"summer time Monday 07:10 UTC is 08:10 BST", "2026-06-01T07:10:00Z", "2026-W23", true},
		{"ISO year boundary", "2026-12-28T09:00:00Z", "2026-W53", true},
		{"first week of 2027 starts 4 January", "2027-01-04T08:00:00Z", "2027-W01", true},
	} {
		week, due := DigestWeek(at(t, tc.at))
		sent := false
		if due && !claimed[DigestClaimKey("norfolk", week)] {
			claimed[DigestClaimKey("norfolk", week)], sent = true, true
		}
		if week != tc.week || sent != tc.sends {
			t.Errorf("%s: week %q sent %v, want %q %v", tc.name, week, sent, tc.week, tc.sends)
		}
	}
}

func TestLastWeek(t *testing.T) {
	for _, tc := range []struct{ now, from, to string }{
		{"2026-12-07T08:10:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},
		{"2026-12-13T23:59:00Z", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},
		{"2026-04-06T07:10:00Z", "2026-03-29T23:00:00Z", "2026-04-05T23:00:00Z"}, // BST: Monday 00:00 is 23:00Z
	} {
		from, to := LastWeek(at(t, tc.now))
		if !from.Equal(at(t, tc.from)) || !to.Equal(at(t, tc.to)) {
			t.Errorf("LastWeek(%s) = %s..%s, want %s..%s", tc.now, from.UTC(), to.UTC(), tc.from, tc.to)
		}
	}
}
