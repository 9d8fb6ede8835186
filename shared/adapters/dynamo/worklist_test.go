package dynamo

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/edges/bounce"
)

func TestWorklistSnapshot(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "norfolk", 2, true), specialist("bob", "norfolk", 0, false), specialist("sue", "south-yorkshire", 5, true))
	ctx := context.Background()
	var ids []string
	for i, area := range []string{"norfolk", "norfolk", "norfolk", "norfolk", "south-yorkshire"} {
		r := newReferral(validNHS(t, i), area)
		r.ReceivedAt = r.ReceivedAt.Add(time.Duration(i) * 24 * time.Hour) // 23, 24, 25, 26, 27 November
		got, err := f.store.Record(ctx, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	// The first referral closes (as the lifecycle would store it): it leaves the worklist.
	if _, err := f.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &f.tables.Referrals, Key: itemKey(referralPK(ids[0]), referralSK),
		UpdateExpression:          aws.String("SET #s = :c REMOVE dueShard, dueAt, dueKind"),
		ExpressionAttributeNames:  map[string]string{"#s": "status"},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":c": &ddb.AttributeValueMemberS{Value: "closed"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.MarkEmailFailing(ctx, []string{"ANN@example.org"}, bounce.ReasonBounce, time.Now()); err != nil {
		t.Fatal(err)
	}

	w := NewWorklists(f.client, f.tables)
	name, lead, err := w.Area(ctx, "norfolk")
	if err != nil || name != "Norfolk" || lead.Email != "nlead@example.org" {
		t.Fatalf("Area = %q, %+v, %v", name, lead, err)
	}
	if _, _, err := w.Area(ctx, "essex"); err == nil {
		t.Error("Area of an unknown area: want a not-found error")
	}
	snap, err := w.Snapshot(ctx, "norfolk", name)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range snap.Referrals {
		got = append(got, r.ID)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(ids[1:4]))
	if !slices.Equal(got, want) {
		t.Errorf("open referrals = %v, want %v (not the closed one, not another area's)", got, want)
	}
	for _, r := range snap.Referrals {
		if r.Patient.GivenName != "Sam" || r.Patient.FamilyName != "Taylor" || r.Patient.NHSNumber != "" || r.Patient.Phone != "" || r.Patient.DateOfBirth != "" {
			t.Errorf("%s read as %+v: want the given and family names only", r.ID, r.Patient)
		}
		if len(r.Events) == 0 || r.ContactBy.String() != "2026-11-25" {
			t.Errorf("%s lacks its events or deadlines: %+v", r.ID, r)
		}
	}
	specs := map[string]worklist.Specialist{}
	for _, s := range snap.Specialists {
		specs[s.ID] = s
	}
	if a := specs["ann"]; len(specs) != 2 || !a.Bouncing || a.Caseload != 2 || a.Capacity != 2 || !a.Active || specs["bob"].Bouncing || specs["bob"].Active {
		t.Errorf("specialists = %+v", specs)
	}
	built := worklist.Build(snap, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	if len(built.Waitlist) != 2 || built.Waitlist[0].ReferralID != ids[2] || built.Waitlist[1].ReferralID != ids[3] {
		t.Errorf("waitlist = %+v, want %s then %s", built.Waitlist, ids[2], ids[3])
	}

}

func TestWorklistDigestClaim(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t)
	w := NewWorklists(f.client, f.tables)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 8, 10, 0, 0, time.UTC)
	for _, tc := range []struct {
		area, week string
		want       bool
	}{
		{"norfolk", "2026-W50", true},
		{"norfolk", "2026-W50", false},
		{"south-yorkshire", "2026-W50", true},
		{"norfolk", "2026-W51", true},
	} {
		if got, err := w.ClaimDigest(ctx, tc.area, tc.week, now); err != nil || got != tc.want {
			t.Errorf("ClaimDigest(%s, %s) = %v, %v; want %v", tc.area, tc.week, got, err, tc.want)
		}
	}
	// A released claim (the email failed) can be taken again by the next run.
	if err := w.ReleaseDigest(ctx, "norfolk", "2026-W50"); err != nil {
		t.Fatal(err)
	}
	if got, err := w.ClaimDigest(ctx, "norfolk", "2026-W50", now.Add(time.Hour)); err != nil || !got {
		t.Errorf("ClaimDigest after release = %v, %v; want true", got, err)
	}
}

func TestDirectoryClearEmailFailing(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "norfolk", 2, true), specialist("bob", "norfolk", 2, true))
	ctx := context.Background()
	if _, err := f.dir.MarkEmailFailing(ctx, []string{"ann@example.org", "bob@example.org", "nlead@example.org"}, bounce.ReasonBounce, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		holder  bounce.Holder
		cleared bool
		fails   bool
	}{
		{"marked specialist", bounce.Holder{AreaID: "norfolk", SpecialistID: "ann"}, true, false},
		{"again", bounce.Holder{AreaID: "norfolk", SpecialistID: "ann"}, false, false},
		{"lead", bounce.Holder{AreaID: "norfolk"}, true, false},
		{"unknown specialist", bounce.Holder{AreaID: "norfolk", SpecialistID: "zed"}, false, true},
		{"unknown area", bounce.Holder{AreaID: "essex"}, false, true},
	} {
		cleared, err := f.dir.ClearEmailFailing(ctx, tc.holder)
		if cleared != tc.cleared || (err != nil) != tc.fails {
			t.Errorf("%s: cleared %v, err %v; want %v, error %v", tc.name, cleared, err, tc.cleared, tc.fails)
		}
	}
	left, err := f.dir.FailingEmails(ctx)
	if err != nil || len(left) != 1 || left[0].SpecialistID != "bob" {
		t.Errorf("still failing = %+v, %v; want bob only", left, err)
	}
	if c := f.caseloads(t, "norfolk"); len(c) != 2 {
		t.Errorf("specialists after clearing = %v: an update must never create an item", c)
	}
}

// TestWorklistSnapshotReadsEveryBatch fills an area past one BatchGetItem (100 keys).
func TestWorklistSnapshotReadsEveryBatch(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "norfolk", 0, true))
	ctx := context.Background()
	const n = 105
	for i := range n {
		if _, err := f.store.Record(ctx, newReferral(validNHS(t, i), "norfolk"), nil); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := NewWorklists(f.client, f.tables).Snapshot(ctx, "norfolk", "Norfolk")
	if err != nil || len(snap.Referrals) != n {
		t.Fatalf("Snapshot = %d referrals, %v; want %d", len(snap.Referrals), err, n)
	}
}
