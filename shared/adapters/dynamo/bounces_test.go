package dynamo

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/edges/bounce"
)

// newBounceDirectory returns a directory on a fresh copy of template.yaml's DirectoryTable,
// holding testFacts and testPeople.
func newBounceDirectory(tb testing.TB) *Directory {
	tb.Helper()
	client := newTestClient(tb)
	d := NewDirectory(client, createTable(tb, client, templateTable(tb, "DirectoryTable")))
	mustImport(tb, d, testFacts(), testPeople())
	return d
}

// mark is one MarkEmailFailing call of a test.
type mark struct {
	addresses []string
	reason    bounce.Reason
	at        time.Time
}

func TestBounceMarkEmailFailing(t *testing.T) {
	t.Parallel()
	day1 := time.Date(2026, 11, 24, 9, 15, 4, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	slough1 := bounce.Holder{AreaID: "slough", SpecialistID: "slough-1"}
	sloughLead := bounce.Holder{AreaID: "slough"}
	tests := []struct {
		name        string
		setup       func(tb testing.TB, d *Directory) // before the marks
		marks       []mark
		wantMarked  []bounce.Holder // by the last mark
		wantFailing []bounce.Failing
	}{
		{
			name:        "specialist, whatever the case of the address",
			marks:       []mark{{[]string{"Sam@Example.ORG"}, bounce.ReasonBounce, day1}},
			wantMarked:  []bounce.Holder{slough1},
			wantFailing: []bounce.Failing{{Holder: slough1, Reason: bounce.ReasonBounce, Since: day1}},
		},
		{
			name:        "area lead",
			marks:       []mark{{[]string{"lead.slough@example.org"}, bounce.ReasonComplaint, day1}},
			wantMarked:  []bounce.Holder{sloughLead},
			wantFailing: []bounce.Failing{{Holder: sloughLead, Reason: bounce.ReasonComplaint, Since: day1}},
		},
		{
			name:  "several addresses and someone who is both lead and specialist",
			setup: addSpecialist(directory.Specialist{ID: "slough-3", AreaID: "slough", Name: "Alex Lead", Email: "lead.slough@example.org", Capacity: 5, Active: true}),
			marks: []mark{{[]string{"lead.slough@example.org", "kim@example.org"}, bounce.ReasonBounce, day1}},
			wantMarked: []bounce.Holder{
				{AreaID: "slough", SpecialistID: "slough-3"}, sloughLead, {AreaID: "surrey", SpecialistID: "surrey-1"},
			},
			wantFailing: []bounce.Failing{
				{Holder: sloughLead, Reason: bounce.ReasonBounce, Since: day1},
				{Holder: bounce.Holder{AreaID: "slough", SpecialistID: "slough-3"}, Reason: bounce.ReasonBounce, Since: day1},
				{Holder: bounce.Holder{AreaID: "surrey", SpecialistID: "surrey-1"}, Reason: bounce.ReasonBounce, Since: day1},
			},
		},
		{
			name:  "an address nobody in the directory uses (a referrer's)",
			marks: []mark{{[]string{"priya.shah@nhs.net"}, bounce.ReasonBounce, day1}},
		},
		{
			name:  "no addresses",
			marks: []mark{{nil, bounce.ReasonBounce, day1}},
		},
		{
			name: "marked again: the first since is kept, the latest reason shown",
			marks: []mark{
				{[]string{"sam@example.org"}, bounce.ReasonBounce, day1},
				{[]string{"sam@example.org"}, bounce.ReasonComplaint, day2},
			},
			wantMarked:  []bounce.Holder{slough1},
			wantFailing: []bounce.Failing{{Holder: slough1, Reason: bounce.ReasonComplaint, Since: day1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newBounceDirectory(t)
			ctx := context.Background()
			if tt.setup != nil {
				tt.setup(t, d)
			}
			var marked []bounce.Holder
			for _, m := range tt.marks {
				var err error
				if marked, err = d.MarkEmailFailing(ctx, m.addresses, m.reason, m.at); err != nil {
					t.Fatalf("MarkEmailFailing: %v", err)
				}
			}
			if !sameHolders(marked, tt.wantMarked) {
				t.Errorf("marked %v, want %v", marked, tt.wantMarked)
			}
			failing, err := d.FailingEmails(ctx)
			if err != nil {
				t.Fatalf("FailingEmails: %v", err)
			}
			if !reflect.DeepEqual(failing, tt.wantFailing) {
				t.Errorf("FailingEmails = %+v, want %+v", failing, tt.wantFailing)
			}
		})
	}
}

// TestBounceMarkKeepsTheRest checks marking touches nothing but the failing attributes: the
// specialist keeps their caseload, capacity and status, the area its lead and postcodes.
func TestBounceMarkKeepsTheRest(t *testing.T) {
	t.Parallel()
	d := newBounceDirectory(t)
	ctx := context.Background()
	before, err := d.Specialist(ctx, "slough", "slough-1")
	if err != nil {
		t.Fatal(err)
	}
	area, err := d.Area(ctx, "slough")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.MarkEmailFailing(ctx, []string{"sam@example.org", "lead.slough@example.org"}, bounce.ReasonBounce, time.Now()); err != nil {
		t.Fatal(err)
	}
	after, err := d.Specialist(ctx, "slough", "slough-1")
	if err != nil {
		t.Fatal(err)
	}
	want := before
	want.Bouncing = true // the mark, and nothing else
	if after != want {
		t.Errorf("specialist changed: %+v, was %+v", after, before)
	}
	areaAfter, err := d.Area(ctx, "slough")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(areaAfter, area) {
		t.Errorf("area changed: %+v, was %+v", areaAfter, area)
	}
}

// TestBounceCorrectedAddress checks that correcting a failing address (the directory command's
// specialist update, or a re-import) stops it being listed as failing.
func TestBounceCorrectedAddress(t *testing.T) {
	t.Parallel()
	d := newBounceDirectory(t)
	ctx := context.Background()
	if _, err := d.MarkEmailFailing(ctx, []string{"sam@example.org", "lead.surrey@example.org"}, bounce.ReasonBounce, time.Now()); err != nil {
		t.Fatal(err)
	}
	sam, err := d.Specialist(ctx, "slough", "slough-1")
	if err != nil {
		t.Fatal(err)
	}
	sam.Email = "sam.new@example.org"
	if err := d.PutSpecialist(ctx, sam); err != nil {
		t.Fatal(err)
	}
	mustImport(t, d, directory.File{Areas: []directory.Area{
		{ID: "surrey", Lead: directory.Person{Name: "Pat Lead", Email: "pat.lead@example.org"}},
	}})
	failing, err := d.FailingEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(failing) != 0 {
		t.Errorf("corrected addresses still listed as failing: %+v", failing)
	}
}

// TestBounceMarkStaleAddress checks that an item whose address changed after the scan is not
// marked (the update's condition fails) and that this is not an error.
func TestBounceMarkStaleAddress(t *testing.T) {
	t.Parallel()
	d := newBounceDirectory(t)
	ctx := context.Background()
	stale := emailHolderItem{PK: areaPK("slough"), SK: specialistSK("slough-1"), AreaID: "slough", SpecialistID: "slough-1", Email: "old@example.org"}
	ok, err := d.markFailing(ctx, stale, attrEmail, emailFailingAttr, stale.Email, bounce.ReasonBounce, "2026-11-24T09:15:04Z")
	if err != nil || ok {
		t.Fatalf("markFailing on a changed address = %v, %v; want false, nil", ok, err)
	}
	failing, err := d.FailingEmails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(failing) != 0 {
		t.Errorf("failing = %+v, want none", failing)
	}
}

func addSpecialist(s directory.Specialist) func(testing.TB, *Directory) {
	return func(tb testing.TB, d *Directory) {
		tb.Helper()
		if err := d.PutSpecialist(context.Background(), s); err != nil {
			tb.Fatalf("add specialist %s: %v", s.ID, err)
		}
	}
}

// sameHolders compares holders as sets: scan order is the table's.
func sameHolders(a, b []bounce.Holder) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[bounce.Holder]int{}
	for _, h := range a {
		count[h]++
	}
	for _, h := range b {
		count[h]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSpecialistBouncing checks what the notifier reads to copy a specialist's emails to the lead:
// bouncing while their current address is marked, not once the mark is cleared, nor once the
// address has been corrected.
func TestSpecialistBouncing(t *testing.T) {
	t.Parallel()
	d := newBounceDirectory(t)
	ctx := context.Background()
	bouncing := func(t *testing.T, want bool, when string) {
		t.Helper()
		s, err := d.Specialist(ctx, "slough", "slough-1")
		if err != nil {
			t.Fatal(err)
		}
		if s.Bouncing != want {
			t.Errorf("%s: Bouncing = %v, want %v", when, s.Bouncing, want)
		}
	}
	bouncing(t, false, "never marked")
	mark := func() {
		if _, err := d.MarkEmailFailing(ctx, []string{"sam@example.org"}, bounce.ReasonBounce, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	mark()
	bouncing(t, true, "marked")
	if ok, err := d.ClearEmailFailing(ctx, bounce.Holder{AreaID: "slough", SpecialistID: "slough-1"}); !ok || err != nil {
		t.Fatalf("ClearEmailFailing = %v, %v", ok, err)
	}
	bouncing(t, false, "cleared")
	mark()
	s, err := d.Specialist(ctx, "slough", "slough-1")
	if err != nil {
		t.Fatal(err)
	}
	s.Email = "Sam.New@example.org"
	if err := d.PutSpecialist(ctx, s); err != nil {
		t.Fatal(err)
	}
	bouncing(t, false, "address corrected")
}
