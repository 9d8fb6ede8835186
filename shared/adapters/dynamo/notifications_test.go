package dynamo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/render/email"
)

func TestNotificationClaims(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 20, true))
	ctx := context.Background()
	r, err := f.store.Record(ctx, newReferral("9434765919", "south-yorkshire"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := NewNotifications(f.client, f.tables.Referrals)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	assignment, ack := notify.Notice{Kind: email.Assignment}, notify.Notice{Kind: email.Acknowledgement}
	toSpecialist, toReferrer := notify.Notice{Kind: email.Withdrawn, Audience: email.AudienceSpecialist}, notify.Notice{Kind: email.Withdrawn, Audience: email.AudienceReferrer}

	steps := []struct {
		name      string
		do        func() (bool, error)
		want      bool
		wantErrIs error
	}{
		{"first claim wins", func() (bool, error) { return n.Claim(ctx, r.ID, assignment, "a", now) }, true, nil},
		{"a live claim blocks others", func() (bool, error) { return n.Claim(ctx, r.ID, assignment, "b", now.Add(time.Minute)) }, false, notify.ErrClaimHeld},
		{"another kind is independent", func() (bool, error) { return n.Claim(ctx, r.ID, ack, "b", now) }, true, nil},
		{"an abandoned claim can be taken over", func() (bool, error) { return n.Claim(ctx, r.ID, assignment, "c", now.Add(n.Lease+time.Minute)) }, true, nil},
		{"one kind to two people is two notices", func() (bool, error) { return n.Claim(ctx, r.ID, toSpecialist, "f", now) }, true, nil},
		{"the other recipient's notice is independent", func() (bool, error) { return n.Claim(ctx, r.ID, toReferrer, "g", now) }, true, nil},
		{"the same recipient's notice is held", func() (bool, error) { return n.Claim(ctx, r.ID, toSpecialist, "h", now) }, false, notify.ErrClaimHeld},
	}
	for _, s := range steps {
		got, err := s.do()
		if got != s.want || (s.wantErrIs == nil) != (err == nil) || (s.wantErrIs != nil && !errors.Is(err, s.wantErrIs)) {
			t.Fatalf("%s: claimed=%v err=%v; want %v, %v", s.name, got, err, s.want, s.wantErrIs)
		}
	}
	// The sender whose claim was taken over cannot confirm; the new holder can.
	event := referral.Event{At: now, Type: referral.EventEmailed, By: referral.System, Via: "stream", Detail: "assignment"}
	if err := n.Confirm(ctx, r.ID, assignment, "a", "m-1", event); err == nil {
		t.Error("a stale claimant confirmed")
	}
	if err := n.Confirm(ctx, r.ID, assignment, "c", "m-2", event); err != nil {
		t.Fatal(err)
	}
	if claimed, err := n.Claim(ctx, r.ID, assignment, "d", now.Add(time.Hour)); claimed || err != nil {
		t.Fatalf("claim after sent = %v, %v; want false, nil (never twice)", claimed, err)
	}
	// Releasing gives a failed send back.
	if err := n.Release(ctx, r.ID, ack, "b"); err != nil {
		t.Fatal(err)
	}
	if claimed, err := n.Claim(ctx, r.ID, ack, "e", now); !claimed || err != nil {
		t.Fatalf("claim after release = %v, %v", claimed, err)
	}
	loaded, sent, err := n.Load(ctx, r.ID)
	if err != nil || loaded.ID != r.ID || loaded.Patient.NHSNumber != "9434765919" {
		t.Fatalf("Load = %+v, %v", loaded, err)
	}
	if !sent[assignment] || sent[ack] {
		t.Errorf("sent = %v, want assignment only (acknowledgement is still being sent)", sent)
	}
	// An unknown outcome holds the claim for the lease from the moment it is held, never less
	// than 15 minutes (SPEC §7); then it counts as abandoned.
	if n.Lease < notify.UnknownOutcomeHold {
		t.Errorf("lease %s is shorter than the unknown-outcome hold %s", n.Lease, notify.UnknownOutcomeHold)
	}
	heldAt := now.Add(10 * time.Second)
	if err := n.Hold(ctx, r, toSpecialist, "f", heldAt); err != nil {
		t.Fatal(err)
	}
	if err := n.Hold(ctx, r, toReferrer, "not-g", heldAt); err == nil {
		t.Error("a sender held a claim that is not its own")
	}
	for _, after := range []time.Duration{time.Minute, notify.UnknownOutcomeHold - time.Second} {
		if claimed, err := n.Claim(ctx, r.ID, toSpecialist, "i", heldAt.Add(after)); claimed || !errors.Is(err, notify.ErrOutcomePending) {
			t.Errorf("claim %s after an unknown outcome = %v, %v; want held", after, claimed, err)
		}
	}
	if claimed, err := n.Claim(ctx, r.ID, toSpecialist, "j", heldAt.Add(n.Lease+time.Second)); !claimed || err != nil {
		t.Errorf("claim after the hold = %v, %v; want claimed", claimed, err)
	}
	_, sent, _ = n.Load(ctx, r.ID)
	if sent[toSpecialist] || sent[toReferrer] {
		t.Errorf("sent = %v: nothing withdrawn was confirmed", sent)
	}
	last := loaded.Events[len(loaded.Events)-1]
	if last.Type != referral.EventEmailed || last.Detail != "assignment" {
		t.Errorf("audit event not appended: %+v", loaded.Events)
	}
	if _, _, err := n.Load(ctx, "R-NOTHERE2"); referral.ErrorCode(err) != referral.CodeNotFound {
		t.Errorf("Load unknown = %v, want not found", err)
	}
}
