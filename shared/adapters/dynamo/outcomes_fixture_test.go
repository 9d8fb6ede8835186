package dynamo

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// OutcomesStore exports the progress fixture to the external tests of this package
// (outcomes_test.go), which drive the actions handler, itself an importer of this package.
type OutcomesStore struct {
	f        progressFixture
	Progress *Progress
}

// NewOutcomesStore is a progress store on fresh tables, specialists ann and bob with room.
func NewOutcomesStore(t *testing.T) OutcomesStore {
	t.Helper()
	f := newProgressFixture(t, 20)
	return OutcomesStore{f: f, Progress: f.progress}
}

// Record stores a new referral of the patient with this NHS number as intake does.
func (s OutcomesStore) Record(t *testing.T, nhs string) referral.Referral {
	t.Helper()
	return s.f.record(t, nhs)
}

// Raw reads the referral's item exactly as stored.
func (s OutcomesStore) Raw(t *testing.T, id string) map[string]ddb.AttributeValue {
	t.Helper()
	out, err := s.f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &s.f.tables.Referrals, Key: itemKey(referralPK(id), referralSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return out.Item
}

// Due is the item's Due index attributes as "dueShard/dueAt/dueKind", "" when it has none.
func (s OutcomesStore) Due(t *testing.T, id string) string {
	t.Helper()
	it := s.f.stored(t, id)
	if it.DueShard == "" && it.DueAt == "" && it.DueKind == "" {
		return ""
	}
	return it.DueShard + "/" + it.DueAt + "/" + it.DueKind
}

// Caseload is the specialist's caseload in south-yorkshire.
func (s OutcomesStore) Caseload(t *testing.T, specialist string) int {
	t.Helper()
	return s.f.caseloads(t, "south-yorkshire")[specialist]
}

// The outcome writes are conditioned on the history as read: a write decided on a stale read (a
// repeat racing the first) is refused with ErrChanged and writes nothing.
func TestOutcomeWritesConditionOnHistory(t *testing.T) {
	t.Parallel()
	f := newProgressFixture(t, 20)
	ctx := context.Background()
	at := progressAt.Add(24 * time.Hour)
	apply := func(t *testing.T, r referral.Referral, c referral.Command) referral.Transition {
		t.Helper()
		c.Actor, c.By, c.Via = referral.ActorSpecialist, r.SpecialistID, referral.ViaSignedLink
		tr, err := referral.Apply(r, c, at)
		if err != nil {
			t.Fatalf("apply %s: %v", c.Kind, err)
		}
		return tr
	}
	job := referral.Command{Kind: referral.KindJobStart, StartDate: "2026-11-24", HoursPerWeek: 16, SelfEmployed: "yes"}
	tests := []struct {
		name  string
		setup []referral.Command // applied and stored first
		cmd   referral.Command
		write func(*Progress) func(context.Context, referral.Referral, referral.Transition) error
	}{
		{"employer contact", nil, referral.Command{Kind: referral.KindEmployerContact, Date: "2026-11-24"},
			func(p *Progress) func(context.Context, referral.Referral, referral.Transition) error {
				return p.RecordEmployerContact
			}},
		{"second job start", []referral.Command{job}, referral.Command{Kind: referral.KindJobStart, StartDate: "2026-11-25", HoursPerWeek: 8, SelfEmployed: "no"},
			func(p *Progress) func(context.Context, referral.Referral, referral.Transition) error {
				return p.RecordJobStart
			}},
		{"outcome", []referral.Command{job}, referral.Command{Kind: referral.KindOutcome, Sustained: "yes"},
			func(p *Progress) func(context.Context, referral.Referral, referral.Transition) error {
				return p.RecordOutcome
			}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.record(t, fmt.Sprintf("94347%05d", i))
			met := apply(t, r, referral.Command{Kind: referral.KindMeeting})
			if err := f.progress.RecordMeeting(ctx, r, met); err != nil {
				t.Fatal(err)
			}
			r = met.Referral
			for _, c := range tt.setup {
				tr := apply(t, r, c)
				if err := f.progress.RecordJobStart(ctx, r, tr); err != nil {
					t.Fatal(err)
				}
				r = tr.Referral
			}
			tr := apply(t, r, tt.cmd)
			if err := tt.write(f.progress)(ctx, r, tr); err != nil {
				t.Fatalf("first write: %v", err)
			}
			before := f.stored(t, r.ID)
			// The same decision again, on the read that is now stale.
			if err := tt.write(f.progress)(ctx, r, tr); !errors.Is(err, referral.ErrChanged) {
				t.Fatalf("stale write: %v, want ErrChanged", err)
			}
			if after := f.stored(t, r.ID); len(after.Events) != len(before.Events) || after.DueKind != before.DueKind {
				t.Errorf("stale write changed the item: %d events (was %d), dueKind %q (was %q)", len(after.Events), len(before.Events), after.DueKind, before.DueKind)
			}
		})
	}
}

// dueOf's in-work case: the first job's outcome check until an outcome is recorded, then none.
func TestDueOfOutcomeCheck(t *testing.T) {
	t.Parallel()
	job := func(start string) referral.Event {
		return referral.Event{Type: referral.EventJobStarted, Detail: referral.JobDetail(start, 20, "no")}
	}
	outcome := referral.Event{Type: referral.EventOutcome, Detail: "sustained"}
	tests := []struct {
		name   string
		events []referral.Event
		want   dueEntry
	}{
		{"first job", []referral.Event{job("2026-12-01")}, dueEntry{"norfolk", "2027-03-23", dueOutcomeCheck}},
		{"a second job keeps the first's date", []referral.Event{job("2026-12-01"), job("2027-01-04")}, dueEntry{"norfolk", "2027-03-23", dueOutcomeCheck}},
		{"outcome recorded", []referral.Event{job("2026-12-01"), outcome}, dueEntry{"norfolk", noDeadline, ""}},
		{"a job after the outcome", []referral.Event{job("2026-12-01"), outcome, job("2027-01-04")}, dueEntry{"norfolk", noDeadline, ""}},
		{"check already emailed, a later job", []referral.Event{job("2026-12-01"), {Type: referral.EventEmailed, Detail: referral.OutcomeCheckNotice}, job("2027-01-04")}, dueEntry{"norfolk", noDeadline, ""}},
	}
	for _, tt := range tests {
		r := referral.Referral{Area: "norfolk", Status: referral.StatusInWork, Events: tt.events}
		if got := dueOf(r); got != tt.want {
			t.Errorf("%s: dueOf = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
