package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// dueOf decides every status's entry: open ones with a specialist in their area's partition, at the
// next deadline or at noDeadline; waitlisted, closed and withdrawn ones not at all.
func TestDueOf(t *testing.T) {
	t.Parallel()
	r := referral.Referral{Area: "norfolk", ContactBy: calendar.Date{Year: 2026, Month: 11, Day: 25}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 7}}
	for status, want := range map[referral.Status]dueEntry{
		referral.StatusWaitlisted: {},
		referral.StatusAssigned:   {"norfolk", "2026-11-25", dueContact},
		referral.StatusContacted:  {"norfolk", "2026-12-07", dueMeeting},
		referral.StatusEngaged:    {"norfolk", noDeadline, ""},
		referral.StatusInWork:     {"norfolk", noDeadline, ""},
		referral.StatusClosed:     {},
		referral.StatusWithdrawn:  {},
	} {
		r.Status = status
		if got := dueOf(r); got != want {
			t.Errorf("dueOf(%s) = %+v, want %+v", status, got, want)
		}
	}
	if len(referral.Statuses) != 7 {
		t.Errorf("%d statuses: decide the new one's due entry in dueOf", len(referral.Statuses))
	}
}

// Every writer leaves the due entry dueOf decides, through the stores as the services call them.
func TestEveryWriterLeavesTheDueEntry(t *testing.T) {
	t.Parallel()
	type fixture struct {
		storeFixture
		progress *Progress
		t        *testing.T
	}
	ctx := context.Background()
	at := moveNow
	get := func(f fixture, id string) referral.Referral {
		r, err := f.progress.Get(ctx, id)
		if err != nil {
			f.t.Fatal(err)
		}
		return r
	}
	progress := func(kind string, to referral.Status) func(f fixture, id string) {
		return func(f fixture, id string) {
			r := get(f, id)
			tr := decided(r, referral.Event{At: at, Type: kind, By: r.SpecialistID, Via: referral.ViaSignedLink, Detail: "declined"}, to)
			var err error
			switch to {
			case referral.StatusContacted:
				err = f.progress.RecordContact(ctx, r, tr)
			case referral.StatusEngaged:
				err = f.progress.RecordMeeting(ctx, r, tr)
			case referral.StatusClosed:
				err = f.progress.Close(ctx, r, tr)
			case referral.StatusWithdrawn:
				err = f.progress.Withdraw(ctx, r, tr)
			}
			if err != nil {
				f.t.Fatalf("%s: %v", kind, err)
			}
		}
	}
	contact := progress(referral.EventContacted, referral.StatusContacted)
	meeting := progress(referral.EventMet, referral.StatusEngaged)
	closeIt := progress(referral.EventClosed, referral.StatusClosed)
	withdraw := progress(referral.EventWithdrawn, referral.StatusWithdrawn)
	reassign := func(f fixture, id string) {
		if err := f.dir.SetCapacity(ctx, "south-yorkshire", "bob", 1); err != nil {
			f.t.Fatal(err)
		}
		mover, _ := newMover(f.storeFixture)
		if _, err := mover.Reassign(ctx, "south-yorkshire", id, "bob", leadBy); err != nil {
			f.t.Fatalf("reassign: %v", err)
		}
	}
	transfer := func(f fixture, id string) {
		mover, _ := newMover(f.storeFixture)
		if _, err := mover.Transfer(ctx, "south-yorkshire", id, "NR1 1AA", leadBy); err != nil {
			f.t.Fatalf("transfer: %v", err)
		}
	}
	fillNorfolk := func(f fixture, _ string) { f.record(f.t, 7, "norfolk", at.Add(-time.Hour)) }
	drain := func(f fixture, _ string) {
		if err := f.dir.SetCapacity(ctx, "south-yorkshire", "ann", 2); err != nil {
			f.t.Fatal(err)
		}
		w := &referral.Waitlist{Store: f.store, Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(), Now: func() time.Time { return at }}
		if got, err := w.Drain(ctx, "south-yorkshire"); err != nil || len(got) != 1 {
			f.t.Fatalf("drain = %v, %v", got, err)
		}
	}

	const sy = "south-yorkshire"
	tests := []struct {
		name       string
		waitlisted bool // the referral under test is the second in south-yorkshire, where ann is full
		steps      []func(f fixture, id string)
		wantStatus string
		want       dueEntry
		wantWait   string
	}{
		{name: "intake assigned", wantStatus: "assigned", want: dueEntry{sy, "2026-11-25", dueContact}},
		{name: "intake waitlisted", waitlisted: true, wantStatus: "waitlisted", wantWait: sy},
		{name: "contact", steps: []func(fixture, string){contact}, wantStatus: "contacted", want: dueEntry{sy, "2026-12-07", dueMeeting}},
		{name: "meeting from assigned", steps: []func(fixture, string){meeting}, wantStatus: "engaged", want: dueEntry{sy, noDeadline, ""}},
		{name: "meeting after contact", steps: []func(fixture, string){contact, meeting}, wantStatus: "engaged", want: dueEntry{sy, noDeadline, ""}},
		{name: "close when engaged", steps: []func(fixture, string){meeting, closeIt}, wantStatus: "closed"},
		{name: "close when assigned", steps: []func(fixture, string){closeIt}, wantStatus: "closed"},
		{name: "withdraw when contacted", steps: []func(fixture, string){contact, withdraw}, wantStatus: "withdrawn"},
		{name: "withdraw when waitlisted", waitlisted: true, steps: []func(fixture, string){withdraw}, wantStatus: "withdrawn"},
		{name: "reassign when engaged keeps no deadline", steps: []func(fixture, string){meeting, reassign}, wantStatus: "engaged", want: dueEntry{sy, noDeadline, ""}},
		{name: "reassign when contacted keeps the meeting", steps: []func(fixture, string){contact, reassign}, wantStatus: "contacted", want: dueEntry{sy, "2026-12-07", dueMeeting}},
		// Transferred on Wednesday 23 December: contact by Tuesday 29th, in Norfolk's partition.
		{name: "transfer when contacted", steps: []func(fixture, string){contact, transfer}, wantStatus: "assigned", want: dueEntry{"norfolk", "2026-12-29", dueContact}},
		{name: "transfer to a full area waitlists", steps: []func(fixture, string){fillNorfolk, transfer}, wantStatus: "waitlisted", wantWait: "norfolk"},
		{name: "transfer from the waitlist", waitlisted: true, steps: []func(fixture, string){transfer}, wantStatus: "assigned", want: dueEntry{"norfolk", "2026-12-29", dueContact}},
		{name: "drained from the waitlist", waitlisted: true, steps: []func(fixture, string){drain}, wantStatus: "assigned", want: dueEntry{sy, "2026-12-29", dueContact}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sf := newStoreFixture(t, specialist("ann", sy, 1, true), specialist("bob", sy, 0, true), specialist("nia", "norfolk", 1, true))
			p := NewProgress(sf.client, sf.tables)
			f := fixture{storeFixture: sf, progress: p, t: t}
			id := f.record(t, 0, sy, at.Add(-72*time.Hour))
			if tt.waitlisted {
				id = f.record(t, 1, sy, at.Add(-71*time.Hour))
			}
			for _, step := range tt.steps {
				step(f, id)
			}
			it := f.stored(t, id)
			got := dueEntry{it.DueShard, it.DueAt, it.DueKind}
			if it.Status != tt.wantStatus || got != tt.want || it.WaitArea != tt.wantWait {
				t.Errorf("status %s, due %+v, waitArea %q; want %s, %+v, %q", it.Status, got, it.WaitArea, tt.wantStatus, tt.want, tt.wantWait)
			}
			// The index itself: in its area's partition only (a transfer moves it).
			for _, area := range []string{sy, "norfolk"} {
				if in := f.inDuePartition(t, area, id); in != (area == tt.want.Shard) {
					t.Errorf("in %s's Due partition: %v", area, in)
				}
			}
			if r := get(f, id); dueOf(r) != got {
				t.Errorf("stored due %+v, but dueOf the stored referral is %+v", got, dueOf(r))
			}
		})
	}
}

// inDuePartition reports whether the Due index lists id in area's partition.
func (f storeFixture) inDuePartition(t *testing.T, area, id string) bool {
	t.Helper()
	found := false
	err := queryPKs(context.Background(), f.client, f.tables.Referrals, dueIndex, expression.Key("dueShard").Equal(expression.Value(area)), nil,
		func(pk string) error {
			found = found || pk == referralPK(id)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
