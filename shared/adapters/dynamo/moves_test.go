package dynamo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// moveNow is a Wednesday before Christmas: deadlines from it skip the 25th and 28th.
var moveNow = time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC)

const leadBy = "lead:south-yorkshire"

func newMover(f storeFixture) (*worklist.Moves, *Moves) {
	store := NewMoves(f.client, f.tables)
	now := func() time.Time { return moveNow }
	w := &referral.Waitlist{Store: f.store, Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(), Now: now}
	return &worklist.Moves{
		Store: store, Names: store,
		Areas: directory.Finder{Prefixes: &directory.Cached[directory.Prefixes]{Load: f.dir.Prefixes, TTL: time.Minute}},
		Drain: referral.DrainFunc(func(ctx context.Context, area string) error {
			_, err := w.Drain(ctx, area)
			return err
		}),
		Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(), Now: now, Attempts: 5,
	}, store
}

// record stores a referral of patient i in area and returns its id.
func (f storeFixture) record(t *testing.T, i int, area string, received time.Time) string {
	t.Helper()
	r := newReferral(validNHS(t, i), area)
	r.ReceivedAt, r.Events[0].At = received, received
	got, err := f.store.Record(context.Background(), r, nil)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return got.ID
}

// putNotice stands for an email already sent: the move must clear it when it makes it due again.
func (f storeFixture) putNotice(t *testing.T, id, kind string) {
	t.Helper()
	_, err := f.client.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &f.tables.Referrals, Item: map[string]ddb.AttributeValue{
		attrPK: &ddb.AttributeValueMemberS{Value: referralPK(id)}, attrSK: &ddb.AttributeValueMemberS{Value: notifiedPrefix + kind},
		"kind": &ddb.AttributeValueMemberS{Value: kind}, "status": &ddb.AttributeValueMemberS{Value: notificationSent},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func (f storeFixture) exists(t *testing.T, pk, sk string) bool {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &f.tables.Referrals, Key: itemKey(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Item) > 0
}

func (f storeFixture) openSpecialist(t *testing.T, area, nhs string) (string, bool) {
	t.Helper()
	open, err := f.store.openCase(context.Background(), nil, referral.Referral{Area: area, PatientKey: testKeys.PatientKey(nhs)})
	if err != nil {
		t.Fatal(err)
	}
	if open == nil {
		return "", false
	}
	return open.SpecialistID, true
}

func TestMoveReassign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		to            string
		wantErr       worklist.RefusalReason // empty: moved
		wantCaseloads map[string]int
	}{
		{name: "to a specialist with room", to: "bob", wantCaseloads: map[string]int{"ann": 0, "bob": 1, "cat": 0, "dee": 1}},
		{name: "to a full specialist", to: "dee", wantErr: worklist.RefusedNoRoom, wantCaseloads: map[string]int{"ann": 1, "bob": 0, "cat": 0, "dee": 1}},
		{name: "to an inactive specialist", to: "cat", wantErr: worklist.RefusedInactive, wantCaseloads: map[string]int{"ann": 1, "bob": 0, "cat": 0, "dee": 1}},
		{name: "to a specialist of another area", to: "nia", wantErr: worklist.RefusedOtherArea, wantCaseloads: map[string]int{"ann": 1, "bob": 0, "cat": 0, "dee": 1}},
		{name: "to nobody in the directory", to: "zed", wantErr: worklist.RefusedUnknown, wantCaseloads: map[string]int{"ann": 1, "bob": 0, "cat": 0, "dee": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// Only ann and dee have room at intake; bob's capacity comes after.
			f := newStoreFixture(t, specialist("ann", "south-yorkshire", 1, true), specialist("bob", "south-yorkshire", 0, true),
				specialist("cat", "south-yorkshire", 5, false), specialist("dee", "south-yorkshire", 1, true), specialist("nia", "norfolk", 5, true))
			first := f.record(t, 0, "south-yorkshire", moveNow.Add(-72*time.Hour))
			second := f.record(t, 1, "south-yorkshire", moveNow.Add(-71*time.Hour))
			if err := f.dir.SetCapacity(ctx, "south-yorkshire", "bob", 1); err != nil {
				t.Fatal(err)
			}
			id := first
			if f.stored(t, second).SpecialistID == "ann" {
				id = second
			}
			nhs := f.stored(t, id).Patient.NHSNumber
			f.putNotice(t, id, "assignment")
			before := f.stored(t, id)

			mover, _ := newMover(f)
			moved, err := mover.Reassign(ctx, "south-yorkshire", id, tt.to, leadBy)
			after := f.stored(t, id)
			var refused *worklist.Refused
			switch {
			case tt.wantErr != "":
				if !errors.As(err, &refused) || refused.Reason != tt.wantErr {
					t.Fatalf("reassign = %v, want refused %s", err, tt.wantErr)
				}
				if after.SpecialistID != "ann" || len(after.Events) != len(before.Events) || !f.exists(t, referralPK(id), notifiedPrefix+"assignment") {
					t.Errorf("refused reassign changed the referral: %+v", after)
				}
				if s, _ := f.openSpecialist(t, "south-yorkshire", nhs); s != "ann" {
					t.Errorf("open case specialist = %q, want ann", s)
				}
			default:
				if err != nil {
					t.Fatalf("reassign: %v", err)
				}
				if moved.Specialist != "Spec bob" || after.SpecialistID != "bob" || after.Status != "assigned" {
					t.Errorf("moved %+v, stored specialist %s status %s", moved, after.SpecialistID, after.Status)
				}
				last := after.Events[len(after.Events)-1]
				if last.Type != referral.EventReassigned || last.By != leadBy || last.Detail != "from=ann;to=bob" {
					t.Errorf("audit event = %+v", last)
				}
				// Deadlines stay: contact was already due.
				if after.ContactBy != before.ContactBy || after.MeetBy != before.MeetBy || after.DueAt != before.DueAt {
					t.Errorf("deadlines %s/%s/%s, were %s/%s/%s", after.ContactBy, after.MeetBy, after.DueAt, before.ContactBy, before.MeetBy, before.DueAt)
				}
				if s, _ := f.openSpecialist(t, "south-yorkshire", nhs); s != "bob" {
					t.Errorf("open case specialist = %q, want bob", s)
				}
				if f.exists(t, referralPK(id), notifiedPrefix+"assignment") {
					t.Error("the assignment record stayed: bob would not be emailed")
				}
			}
			if got := f.caseloads(t, "south-yorkshire"); !equalCounts(got, tt.wantCaseloads) {
				t.Errorf("caseloads = %v, want %v", got, tt.wantCaseloads)
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestMoveTransfer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 1, true), specialist("nia", "norfolk", 1, true))
	moving := f.record(t, 0, "south-yorkshire", moveNow.Add(-72*time.Hour))  // ann's
	waiting := f.record(t, 1, "south-yorkshire", moveNow.Add(-70*time.Hour)) // waitlisted: the oldest
	younger := f.record(t, 2, "south-yorkshire", moveNow.Add(-69*time.Hour)) // waitlisted
	f.putNotice(t, moving, "assignment")
	f.putNotice(t, moving, "contact-overdue")
	mover, _ := newMover(f)

	// Out of every area: refused, nothing changed.
	before := f.stored(t, moving)
	var refused *worklist.Refused
	if _, err := mover.Transfer(ctx, "south-yorkshire", moving, "ZZ1 1AA", leadBy); !errors.As(err, &refused) || refused.Reason != worklist.RefusedOutOfArea {
		t.Fatalf("transfer out of area = %v, want refused out-of-area", err)
	}
	if after := f.stored(t, moving); after.Area != "south-yorkshire" || len(after.Events) != len(before.Events) {
		t.Fatalf("refused transfer changed the referral: %+v", after)
	}

	moved, err := mover.Transfer(ctx, "south-yorkshire", moving, "NR1 1AA", leadBy)
	if err != nil {
		t.Fatalf("transfer: %v", err)
	}
	got := f.stored(t, moving)
	if moved.AreaName != "Norfolk" || moved.Specialist != "Spec nia" || got.Area != "norfolk" || got.SpecialistID != "nia" ||
		got.Status != "assigned" || got.Patient.Postcode != "NR1 1AA" || got.WaitArea != "" {
		t.Errorf("transferred: moved %+v, stored area %s specialist %s status %s postcode %s waitArea %s",
			moved, got.Area, got.SpecialistID, got.Status, got.Patient.Postcode, got.WaitArea)
	}
	// Deadlines from the day of transfer, Wednesday 23 December: contact by Tuesday 29th.
	if got.ContactBy != "2026-12-29" || got.DueAt != "2026-12-29" || got.DueKind != "contact" {
		t.Errorf("deadlines contactBy %s dueAt %s/%s", got.ContactBy, got.DueAt, got.DueKind)
	}
	last := got.Events[len(got.Events)-1]
	if last.Type != referral.EventTransferred || last.By != leadBy || last.Detail != "from=south-yorkshire;to=norfolk;specialist=ann" {
		t.Errorf("audit event = %+v", last)
	}
	if _, ok := f.openSpecialist(t, "south-yorkshire", got.Patient.NHSNumber); ok {
		t.Error("the old area's open case stayed")
	}
	if s, ok := f.openSpecialist(t, "norfolk", got.Patient.NHSNumber); !ok || s != "nia" {
		t.Errorf("new open case = %q, %v; want nia's", s, ok)
	}
	for _, kind := range []string{"assignment", "contact-overdue"} {
		if f.exists(t, referralPK(moving), notifiedPrefix+kind) {
			t.Errorf("%s record stayed: the new specialist would not be told", kind)
		}
	}
	// The unit ann freed went to the oldest waitlisted referral.
	if w := f.stored(t, waiting); w.Status != "assigned" || w.SpecialistID != "ann" {
		t.Errorf("oldest waitlisted: %s with %q, want assigned to ann", w.Status, w.SpecialistID)
	}
	if y := f.stored(t, younger); y.Status != "waitlisted" {
		t.Errorf("younger: %s, want still waitlisted", y.Status)
	}
	if c := f.caseloads(t, "south-yorkshire"); c["ann"] != 1 {
		t.Errorf("south-yorkshire caseloads = %v", c)
	}
	if c := f.caseloads(t, "norfolk"); c["nia"] != 1 {
		t.Errorf("norfolk caseloads = %v", c)
	}

	// Norfolk is now full: the waitlisted one goes onto Norfolk's waitlist, and frees nothing.
	moved, err = mover.Transfer(ctx, "south-yorkshire", younger, "NR1 2BB", leadBy)
	if err != nil {
		t.Fatalf("second transfer: %v", err)
	}
	y := f.stored(t, younger)
	if moved.Referral.Status != referral.StatusWaitlisted || y.Status != "waitlisted" || y.Area != "norfolk" || y.WaitArea != "norfolk" || y.DueAt != "" {
		t.Errorf("second transfer: status %s area %s waitArea %s dueAt %s", y.Status, y.Area, y.WaitArea, y.DueAt)
	}
	if c := f.caseloads(t, "south-yorkshire"); c["ann"] != 1 {
		t.Errorf("south-yorkshire caseloads after the second = %v", c)
	}
	if c := f.caseloads(t, "norfolk"); c["nia"] != 1 {
		t.Errorf("norfolk caseloads after the second = %v", c)
	}
	// Transferred out: the old lead no longer finds it in their area.
	if _, err := mover.Reassign(ctx, "south-yorkshire", moving, "ann", leadBy); referral.ErrorCode(err) != referral.CodeNotFound {
		t.Errorf("reassign in the old area = %v, want not found", err)
	}
}

// Two leads reassign different referrals to the same last free slot at once: one wins, the other
// is told "no room", and the caseload never goes above capacity.
func TestMoveReassignRaceForLastSlot(t *testing.T) {
	t.Parallel()
	const rounds = 50
	ctx := context.Background()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 2*rounds, true), specialist("bob", "south-yorkshire", 0, true))
	var ids []string
	for i := range 2 * rounds {
		ids = append(ids, f.record(t, i, "south-yorkshire", moveNow.Add(-time.Duration(100-i)*time.Hour)))
	}
	mover, _ := newMover(f)
	wins := 0
	for round := range rounds {
		if err := f.dir.SetCapacity(ctx, "south-yorkshire", "bob", round+1); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for k := range 2 {
			wg.Go(func() {
				_, errs[k] = mover.Reassign(ctx, "south-yorkshire", ids[2*round+k], "bob", leadBy)
			})
		}
		wg.Wait()
		won, lost := 0, 0
		for _, err := range errs {
			var refused *worklist.Refused
			switch {
			case err == nil:
				won++
			case errors.As(err, &refused) && refused.Reason == worklist.RefusedNoRoom:
				lost++
			default:
				t.Fatalf("round %d: reassign = %v", round, err)
			}
		}
		c := f.caseloads(t, "south-yorkshire")
		if won != 1 || lost != 1 || c["bob"] != round+1 || c["ann"] != 2*rounds-(round+1) {
			t.Fatalf("round %d: %d won, %d no room; caseloads %v (bob's capacity %d)", round, won, lost, c, round+1)
		}
		wins += won
	}
	if wins != rounds {
		t.Errorf("%d wins in %d rounds", wins, rounds)
	}
}

// A patient who already has an open case in the new area joins it, as at intake: the same
// specialist, no extra capacity, and one open case counting both referrals.
func TestMoveTransferJoinsOpenCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 5, true), specialist("nia", "norfolk", 1, true), specialist("ned", "norfolk", 5, true))
	there := newReferral(validNHS(t, 0), "norfolk")
	there.Patient.Postcode = "NR1 3CC"
	if _, err := f.store.Record(ctx, there, nil); err != nil {
		t.Fatal(err)
	}
	holder := f.stored(t, there.ID).SpecialistID
	id := f.record(t, 0, "south-yorkshire", moveNow.Add(-time.Hour))
	mover, _ := newMover(f)
	if _, err := mover.Transfer(ctx, "south-yorkshire", id, "NR1 1AA", leadBy); err != nil {
		t.Fatalf("transfer: %v", err)
	}
	got := f.stored(t, id)
	if got.Area != "norfolk" || got.Status != "assigned" || got.SpecialistID != holder || !got.ReReferral {
		t.Errorf("joined: area %s status %s specialist %s (want %s) reReferral %v", got.Area, got.Status, got.SpecialistID, holder, got.ReReferral)
	}
	open, err := f.store.openCase(ctx, nil, referral.Referral{Area: "norfolk", PatientKey: testKeys.PatientKey(got.Patient.NHSNumber)})
	if err != nil || open == nil || open.OpenCount != 2 || open.SpecialistID != holder {
		t.Errorf("open case in norfolk = %+v, %v; want 2 referrals with %s", open, err, holder)
	}
	if c := f.caseloads(t, "norfolk"); c["nia"]+c["ned"] != 1 {
		t.Errorf("norfolk caseloads = %v, want one unit in all", c)
	}
	if c := f.caseloads(t, "south-yorkshire"); c["ann"] != 0 {
		t.Errorf("south-yorkshire caseloads = %v, want ann's unit freed", c)
	}
}
