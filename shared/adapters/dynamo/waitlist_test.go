package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

func TestDrainAssignsOldestFirstWithFreshDeadlines(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 1, true))
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		r := newReferral(validNHS(t, i), "south-yorkshire")
		r.ReceivedAt = r.ReceivedAt.Add(time.Duration(i) * time.Minute) // distinct ages
		got, err := f.store.Record(ctx, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	if s0, s1 := f.stored(t, ids[0]).Status, f.stored(t, ids[1]).Status; s0 != "assigned" || s1 != "waitlisted" {
		t.Fatalf("setup: statuses %s, %s", s0, s1)
	}
	w := &referral.Waitlist{Store: f.store, Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(),
		Now: func() time.Time { return time.Date(2026, 12, 23, 9, 0, 0, 0, time.UTC) }}

	// Nobody has capacity: nothing moves.
	if got, err := w.Drain(ctx, "south-yorkshire"); err != nil || len(got) != 0 {
		t.Fatalf("drain with no capacity = %d assigned, %v", len(got), err)
	}
	if err := f.dir.SetCapacity(ctx, "south-yorkshire", "ann", 2); err != nil {
		t.Fatal(err)
	}
	got, err := w.Drain(ctx, "south-yorkshire")
	if err != nil || len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("drain = %v, %v; want the oldest waitlisted %s only", got, err, ids[1])
	}
	item := f.stored(t, ids[1])
	if item.Status != "assigned" || item.SpecialistID != "ann" || item.WaitArea != "" || item.WaitSince != "" {
		t.Errorf("drained item = %+v", item)
	}
	// Assigned Wednesday 23 December 2026: contact by Tuesday 29th (25th, 28th are bank holidays).
	if item.ContactBy != "2026-12-29" || item.DueAt != "2026-12-29" || item.DueKind != "contact" {
		t.Errorf("deadlines not recomputed from assignment: contactBy %s dueAt %s/%s", item.ContactBy, item.DueAt, item.DueKind)
	}
	last := item.Events[len(item.Events)-1]
	if last.Type != referral.EventAssigned || last.Via != "waitlist" {
		t.Errorf("last event = %+v", last)
	}
	if c := f.caseloads(t, "south-yorkshire")["ann"]; c != 2 {
		t.Errorf("caseload = %d, want 2", c)
	}
	if f.stored(t, ids[2]).Status != "waitlisted" {
		t.Error("youngest referral should still wait")
	}
}

func TestDrainReReferralFollowsTheOpenCase(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 0, true))
	ctx := context.Background()
	first, err := f.store.Record(ctx, newReferral("9434765919", "south-yorkshire"), nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.store.Record(ctx, newReferral("9434765919", "south-yorkshire"), nil)
	if err != nil || !second.ReReferral || second.Status != referral.StatusWaitlisted {
		t.Fatalf("second = %+v, %v", second, err)
	}
	if err := f.dir.SetCapacity(ctx, "south-yorkshire", "ann", 1); err != nil {
		t.Fatal(err)
	}
	w := &referral.Waitlist{Store: f.store, Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(), Now: time.Now}
	got, err := w.Drain(ctx, "south-yorkshire")
	if err != nil || len(got) != 2 {
		t.Fatalf("drain = %d assigned, %v; want both of the patient's referrals", len(got), err)
	}
	for _, id := range []string{first.ID, second.ID} {
		if it := f.stored(t, id); it.Status != "assigned" || it.SpecialistID != "ann" {
			t.Errorf("%s = %s/%s", id, it.Status, it.SpecialistID)
		}
	}
	if c := f.caseloads(t, "south-yorkshire")["ann"]; c != 1 {
		t.Errorf("caseload = %d, want 1: one patient, one capacity unit", c)
	}
}
