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

	steps := []struct {
		name      string
		do        func() (bool, error)
		want      bool
		wantErrIs error
	}{
		{"first claim wins", func() (bool, error) { return n.Claim(ctx, r.ID, email.Assignment, "a", now) }, true, nil},
		{"a live claim blocks others", func() (bool, error) { return n.Claim(ctx, r.ID, email.Assignment, "b", now.Add(time.Minute)) }, false, notify.ErrClaimHeld},
		{"another kind is independent", func() (bool, error) { return n.Claim(ctx, r.ID, email.Acknowledgement, "b", now) }, true, nil},
		{"an abandoned claim can be taken over", func() (bool, error) { return n.Claim(ctx, r.ID, email.Assignment, "c", now.Add(3*time.Minute)) }, true, nil},
	}
	for _, s := range steps {
		got, err := s.do()
		if got != s.want || (s.wantErrIs == nil) != (err == nil) || (s.wantErrIs != nil && !errors.Is(err, s.wantErrIs)) {
			t.Fatalf("%s: claimed=%v err=%v; want %v, %v", s.name, got, err, s.want, s.wantErrIs)
		}
	}
	// The sender whose claim was taken over cannot confirm; the new holder can.
	event := referral.Event{At: now, Type: referral.EventEmailed, By: referral.System, Via: "stream", Detail: "assignment"}
	if err := n.Confirm(ctx, r.ID, email.Assignment, "a", "m-1", event); err == nil {
		t.Error("a stale claimant confirmed")
	}
	if err := n.Confirm(ctx, r.ID, email.Assignment, "c", "m-2", event); err != nil {
		t.Fatal(err)
	}
	if claimed, err := n.Claim(ctx, r.ID, email.Assignment, "d", now.Add(time.Hour)); claimed || err != nil {
		t.Fatalf("claim after sent = %v, %v; want false, nil (never twice)", claimed, err)
	}
	// Releasing gives a failed send back.
	if err := n.Release(ctx, r.ID, email.Acknowledgement, "b"); err != nil {
		t.Fatal(err)
	}
	if claimed, err := n.Claim(ctx, r.ID, email.Acknowledgement, "e", now); !claimed || err != nil {
		t.Fatalf("claim after release = %v, %v", claimed, err)
	}
	loaded, sent, err := n.Load(ctx, r.ID)
	if err != nil || loaded.ID != r.ID || loaded.Patient.NHSNumber != "9434765919" {
		t.Fatalf("Load = %+v, %v", loaded, err)
	}
	if !sent[email.Assignment] || sent[email.Acknowledgement] {
		t.Errorf("sent = %v, want assignment only (acknowledgement is still being sent)", sent)
	}
	last := loaded.Events[len(loaded.Events)-1]
	if last.Type != referral.EventEmailed || last.Detail != "assignment" {
		t.Errorf("audit event not appended: %+v", loaded.Events)
	}
	if _, _, err := n.Load(ctx, "R-NOTHERE2"); referral.ErrorCode(err) != referral.CodeNotFound {
		t.Errorf("Load unknown = %v, want not found", err)
	}
}
