package dynamo

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// putAs stores a referral of area in status, with the item intake's store would write for it, and
// returns its id.
func (f storeFixture) putAs(t *testing.T, i int, area string, status referral.Status, contactBy, meetBy calendar.Date) string {
	t.Helper()
	r := newReferral(validNHS(t, i), area)
	r.ID = fmt.Sprintf("R-%s-%02d", status, i)
	r.Status, r.ContactBy, r.MeetBy = status, contactBy, meetBy
	if status != referral.StatusWaitlisted {
		r.SpecialistID = "ann"
	}
	put, err := f.store.putReferral(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &f.tables.Referrals, Item: put.Put.Item}); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// The sweep finds the referrals due by the day in every area of the directory, and nothing else:
// not later deadlines, not referrals with none pending, not waitlisted, closed or withdrawn ones.
func TestDueByEveryArea(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	day := calendar.Date{Year: 2026, Month: 11, Day: 25}
	later := day.AddDays(1)
	var want []string
	for i, area := range []string{"south-yorkshire", "norfolk"} {
		n := 10 * i
		want = append(want,
			f.putAs(t, n+0, area, referral.StatusAssigned, day, later.AddDays(14)),
			f.putAs(t, n+1, area, referral.StatusAssigned, day.AddDays(-3), later.AddDays(14)), // overdue
			f.putAs(t, n+2, area, referral.StatusContacted, day.AddDays(-9), day),
		)
		f.putAs(t, n+3, area, referral.StatusAssigned, later, later.AddDays(14))
		f.putAs(t, n+4, area, referral.StatusContacted, day.AddDays(-9), later)
		f.putAs(t, n+5, area, referral.StatusEngaged, day.AddDays(-9), day.AddDays(-1))
		f.putAs(t, n+6, area, referral.StatusInWork, day.AddDays(-9), day.AddDays(-1))
		f.putAs(t, n+7, area, referral.StatusWaitlisted, day.AddDays(-9), day.AddDays(-1))
		f.putAs(t, n+8, area, referral.StatusClosed, day.AddDays(-9), day.AddDays(-1))
		f.putAs(t, n+9, area, referral.StatusWithdrawn, day.AddDays(-9), day.AddDays(-1))
	}
	// An area the directory does not know has no partition the sweep reads.
	f.putAs(t, 99, "essex", referral.StatusInWork, day, day)

	var got []string
	if err := NewDue(f.client, f.tables).DueBy(context.Background(), day, func(id string) error {
		got = append(got, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("due by %s = %v, want %v", day, got, want)
	}
}

// The worklist lists every open referral of the area, whatever its status (engaged and in-work
// ones have no deadline pending but are in the Due partition), once each, and no other.
func TestWorklistSnapshotEveryOpenStatus(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "norfolk", 5, true))
	day := calendar.Date{Year: 2026, Month: 11, Day: 25}
	var want []string
	for i, s := range referral.Statuses {
		id := f.putAs(t, i, "norfolk", s, day, day.AddDays(12))
		if s.Open() {
			want = append(want, id)
		}
		f.putAs(t, 20+i, "south-yorkshire", s, day, day.AddDays(12))
	}
	// Caught between the drain's two index writes as the Queries saw them: in both indexes.
	both := newReferral(validNHS(t, 40), "norfolk")
	both.ID, both.Status, both.SpecialistID, both.ContactBy, both.MeetBy = "R-both", referral.StatusAssigned, "ann", day, day.AddDays(12)
	put, err := f.store.putReferral(both, nil)
	if err != nil {
		t.Fatal(err)
	}
	put.Put.Item["waitArea"], put.Put.Item["waitSince"] = put.Put.Item["area"], put.Put.Item["receivedAt"]
	if _, err := f.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &f.tables.Referrals, Item: put.Put.Item}); err != nil {
		t.Fatal(err)
	}
	want = append(want, both.ID)

	snap, err := NewWorklists(f.client, f.tables).Snapshot(context.Background(), "norfolk", "Norfolk")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	statuses := map[referral.Status]bool{}
	for _, r := range snap.Referrals {
		got = append(got, r.ID)
		statuses[r.Status] = true
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("snapshot of norfolk = %v, want %v", got, want)
	}
	for _, s := range []referral.Status{referral.StatusWaitlisted, referral.StatusAssigned, referral.StatusContacted, referral.StatusEngaged, referral.StatusInWork} {
		if !statuses[s] {
			t.Errorf("no %s referral in the snapshot", s)
		}
	}
}
