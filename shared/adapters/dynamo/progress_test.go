package dynamo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// progressFixture is a store fixture with the progress store over the same tables.
type progressFixture struct {
	storeFixture
	progress *Progress
}

func newProgressFixture(t *testing.T, capacity int) progressFixture {
	t.Helper()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", capacity, true), specialist("bob", "south-yorkshire", capacity, true))
	p := NewProgress(f.client, f.tables)
	p.ClosedRetention = 730 * 24 * time.Hour
	return progressFixture{storeFixture: f, progress: p}
}

// record stores a referral through the intake store, so the items are the ones intake writes.
func (f progressFixture) record(t *testing.T, nhs string) referral.Referral {
	t.Helper()
	r, err := f.store.Record(context.Background(), newReferral(nhs, "south-yorkshire"), nil)
	if err != nil {
		t.Fatalf("record: %v", err)
	}
	return r
}

// openCase reads the patient's open case, nil when there is none.
func (f progressFixture) openCase(t *testing.T, nhs string) *openItem {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.tables.Referrals, Key: itemKey(openPK("south-yorkshire", testKeys.PatientKey(nhs)), openSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("get open case: %v", err)
	}
	if out.Item == nil {
		return nil
	}
	var open openItem
	if err := unmarshalMap(out.Item, &open); err != nil {
		t.Fatal(err)
	}
	return &open
}

func (f progressFixture) deleteOpenCase(t *testing.T, nhs string) {
	t.Helper()
	if _, err := f.client.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
		TableName: &f.tables.Referrals, Key: itemKey(openPK("south-yorkshire", testKeys.PatientKey(nhs)), openSK),
	}); err != nil {
		t.Fatal(err)
	}
}

var progressAt = time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC)

func progressEvent(typ, by, detail string) referral.Event {
	return referral.Event{At: progressAt, Type: typ, By: by, Via: referral.ViaSignedLink, Detail: detail}
}

func TestProgressGet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		capacity   int
		missing    bool
		wantStatus referral.Status
	}{
		{name: "assigned", capacity: 20, wantStatus: referral.StatusAssigned},
		{name: "waitlisted", capacity: 0, wantStatus: referral.StatusWaitlisted},
		{name: "missing", capacity: 20, missing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newProgressFixture(t, tt.capacity)
			if tt.missing {
				_, err := f.progress.Get(context.Background(), referral.NewID())
				if referral.ErrorCode(err) != referral.CodeNotFound {
					t.Fatalf("Get of a missing referral: err = %v, want not found", err)
				}
				return
			}
			want := f.record(t, "9434765919")
			got, err := f.progress.Get(context.Background(), want.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if got.Status != tt.wantStatus || got.ID != want.ID || got.SpecialistID != want.SpecialistID || got.Area != want.Area ||
				!got.ReceivedAt.Equal(want.ReceivedAt) || got.ContactBy != want.ContactBy || got.MeetBy != want.MeetBy ||
				got.ReReferral != want.ReReferral {
				t.Errorf("Get = %+v\nwant %+v", got, want)
			}
			if got.Patient != want.Patient || got.Referrer != want.Referrer || got.EmploymentStatus != want.EmploymentStatus || got.Notes != want.Notes {
				t.Errorf("submission = %+v, want %+v", got.Submission, want.Submission)
			}
			if len(got.Events) != len(want.Events) {
				t.Fatalf("events = %+v, want %+v", got.Events, want.Events)
			}
			for i := range got.Events {
				if g, w := got.Events[i], want.Events[i]; g.Type != w.Type || !g.At.Equal(w.At) || g.By != w.By || g.Via != w.Via || g.Detail != w.Detail {
					t.Errorf("event %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestProgressContactAndMeeting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		before  []string // actions recorded first, as they should succeed
		action  string
		edit    func(*referral.Referral) // the referral as the caller read it
		wantErr error
		check   func(t *testing.T, item referralItem)
	}{
		{name: "contact makes the meeting the next deadline", action: "contact", check: func(t *testing.T, it referralItem) {
			if it.Status != "contacted" || it.ContactedAt != "2026-11-24T14:30:00Z" || it.MetAt != "" {
				t.Errorf("status %s contactedAt %q metAt %q", it.Status, it.ContactedAt, it.MetAt)
			}
			if it.DueShard != it.Area || it.DueAt != it.MeetBy || it.DueKind != dueMeeting {
				t.Errorf("due = %s/%s/%s, want %s/%s/%s", it.DueShard, it.DueAt, it.DueKind, it.Area, it.MeetBy, dueMeeting)
			}
		}},
		{name: "meeting from assigned records contact too and leaves no deadline due", action: "meeting", check: func(t *testing.T, it referralItem) {
			if it.Status != "engaged" || it.MetAt != "2026-11-24T14:30:00Z" || it.ContactedAt != it.MetAt {
				t.Errorf("status %s contactedAt %q metAt %q", it.Status, it.ContactedAt, it.MetAt)
			}
			if it.DueShard != it.Area || it.DueAt != noDeadline || it.DueKind != "" {
				t.Errorf("due = %s/%s/%s, want %s/%s/none", it.DueShard, it.DueAt, it.DueKind, it.Area, noDeadline)
			}
		}},
		{name: "meeting after contact keeps the contact time", before: []string{"contact"}, action: "meeting",
			edit: func(r *referral.Referral) { r.Status = referral.StatusContacted },
			check: func(t *testing.T, it referralItem) {
				if it.Status != "engaged" || it.ContactedAt != "2026-11-23T09:00:00Z" {
					t.Errorf("status %s contactedAt %q", it.Status, it.ContactedAt)
				}
			}},
		{name: "contact when already contacted fails the condition", before: []string{"contact"}, action: "contact", wantErr: referral.ErrChanged},
		{name: "contact by another specialist fails the condition", action: "contact",
			edit: func(r *referral.Referral) { r.SpecialistID = "carol" }, wantErr: referral.ErrChanged},
		{name: "meeting read as contacted but still assigned fails the condition", action: "meeting",
			edit: func(r *referral.Referral) { r.Status = referral.StatusContacted }, wantErr: referral.ErrChanged},
		{name: "attempt appends the event and changes nothing else", action: "attempt",
			check: func(t *testing.T, it referralItem) {
				if it.Status != "assigned" || it.DueKind != "contact" || it.ContactedAt != "" {
					t.Errorf("status %s dueKind %s contactedAt %q", it.Status, it.DueKind, it.ContactedAt)
				}
				if got := it.Events[len(it.Events)-1].Detail; got != "letter" {
					t.Errorf("attempt detail %q, want letter", got)
				}
			}},
		{name: "attempt after contact fails the condition", before: []string{"contact"}, action: "attempt", wantErr: referral.ErrChanged},
		{name: "contact on a missing referral fails the condition", action: "contact",
			edit: func(r *referral.Referral) { r.ID = referral.NewID() }, wantErr: referral.ErrChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newProgressFixture(t, 20)
			ctx := context.Background()
			r := f.record(t, "9434765919")
			earlier := referral.Event{At: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Type: referral.EventContacted, By: "ann", Via: referral.ViaSignedLink}
			for _, b := range tt.before {
				if b != "contact" {
					t.Fatalf("unknown before %q", b)
				}
				if err := f.progress.RecordContact(ctx, r, decided(r, earlier, referral.StatusContacted)); err != nil {
					t.Fatalf("before: %v", err)
				}
			}
			before := f.stored(t, r.ID)
			read := r
			if tt.edit != nil {
				tt.edit(&read)
			}
			var err error
			var e referral.Event
			switch tt.action {
			case "contact":
				e = progressEvent(referral.EventContacted, "ann", "")
				err = f.progress.RecordContact(ctx, read, decided(read, e, referral.StatusContacted))
			case "meeting":
				e = progressEvent(referral.EventMet, "ann", "")
				err = f.progress.RecordMeeting(ctx, read, decided(read, e, referral.StatusEngaged))
			case "attempt":
				e = progressEvent(referral.EventAttempted, "ann", "letter")
				err = f.progress.RecordAttempt(ctx, read, decided(read, e, read.Status))
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			item := f.stored(t, r.ID)
			if tt.wantErr != nil {
				if item.Status != before.Status || len(item.Events) != len(before.Events) {
					t.Errorf("a failed condition changed the referral: %s, %d events (was %s, %d)", item.Status, len(item.Events), before.Status, len(before.Events))
				}
				return
			}
			if len(item.Events) != len(before.Events)+1 {
				t.Fatalf("events = %+v, want one appended", item.Events)
			}
			if got := item.Events[len(item.Events)-1]; got.Type != e.Type || !got.At.Equal(e.At) || got.By != "ann" || got.Via != referral.ViaSignedLink {
				t.Errorf("appended event = %+v, want %+v", got, e)
			}
			if item.Patient.NHSNumber != "9434765919" || item.SpecialistID != r.SpecialistID {
				t.Errorf("update touched what it does not own: %+v", item)
			}
			tt.check(t, item)
		})
	}
}

func TestProgressCloseReleasesCapacity(t *testing.T) {
	t.Parallel()
	const nhs = "9434765919"
	tests := []struct {
		name string
		// referrals of the same patient to record (a second is a re-referral: same specialist,
		// no extra capacity); close closes these in order.
		referrals    int
		close        []int
		setup        func(t *testing.T, f progressFixture, rs []referral.Referral)
		wantCaseload int
		wantOpen     int // openCount left; 0 means the open case is gone
	}{
		{name: "the only referral releases its capacity", referrals: 1, close: []int{0}, wantCaseload: 0, wantOpen: 0},
		{name: "a re-referral still open keeps the capacity", referrals: 2, close: []int{0}, wantCaseload: 1, wantOpen: 1},
		{name: "the last of two releases it", referrals: 2, close: []int{1, 0}, wantCaseload: 0, wantOpen: 0},
		{name: "a caseload already at 0 stays at 0", referrals: 1, close: []int{0}, wantCaseload: 0, wantOpen: 0,
			setup: func(t *testing.T, f progressFixture, rs []referral.Referral) {
				setCaseload(t, f.client, f.tables.Directory, "south-yorkshire", rs[0].SpecialistID, 0)
			}},
		{name: "no open case: closes without releasing anything", referrals: 1, close: []int{0}, wantCaseload: 1, wantOpen: 0,
			setup: func(t *testing.T, f progressFixture, rs []referral.Referral) { f.deleteOpenCase(t, nhs) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newProgressFixture(t, 20)
			ctx := context.Background()
			var rs []referral.Referral
			for range tt.referrals {
				rs = append(rs, f.record(t, nhs))
			}
			spec := rs[0].SpecialistID
			if tt.referrals > 1 && (!rs[1].ReReferral || rs[1].SpecialistID != spec) {
				t.Fatalf("setup: second referral is not a re-referral to %s: %+v", spec, rs[1])
			}
			if tt.setup != nil {
				tt.setup(t, f, rs)
			}
			for _, i := range tt.close {
				e := progressEvent(referral.EventClosed, spec, "job-started")
				if err := f.progress.Close(ctx, rs[i], decided(rs[i], e, referral.StatusClosed)); err != nil {
					t.Fatalf("Close %d: %v", i, err)
				}
				item := f.stored(t, rs[i].ID)
				wantExpiry := time.Date(2026, 11, 24, 14, 30, 0, 0, time.UTC).Add(730 * 24 * time.Hour).Unix()
				if item.ExpiresAt != wantExpiry {
					t.Errorf("closed item expiresAt = %d, want %d (retention from the close)", item.ExpiresAt, wantExpiry)
				}
				if item.Status != "closed" || item.ClosedAt != "2026-11-24T14:30:00Z" || item.CloseReason != "job-started" {
					t.Errorf("closed item: status %s closedAt %q reason %q", item.Status, item.ClosedAt, item.CloseReason)
				}
				if item.DueShard != "" || item.DueAt != "" || item.DueKind != "" {
					t.Errorf("due attributes left on a closed referral: %s/%s/%s", item.DueShard, item.DueAt, item.DueKind)
				}
				last := item.Events[len(item.Events)-1]
				if len(item.Events) != 3 || last.Type != referral.EventClosed || last.Detail != "job-started" || last.By != spec || last.Via != referral.ViaSignedLink {
					t.Errorf("events = %+v, want received, assigned, closed", item.Events)
				}
			}
			caseloads := f.caseloads(t, "south-yorkshire")
			if caseloads[spec] != tt.wantCaseload {
				t.Errorf("caseload of %s = %d, want %d", spec, caseloads[spec], tt.wantCaseload)
			}
			for id, c := range caseloads {
				if id != spec && c != 0 {
					t.Errorf("caseload of %s = %d, want 0 (untouched)", id, c)
				}
			}
			open := f.openCase(t, nhs)
			switch {
			case tt.wantOpen == 0 && open != nil:
				t.Errorf("open case left: %+v", open)
			case tt.wantOpen > 0 && (open == nil || open.OpenCount != tt.wantOpen):
				t.Errorf("open case = %+v, want openCount %d", open, tt.wantOpen)
			}
		})
	}
}

func TestProgressCloseConditions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		edit    func(r *referral.Referral)
		prepare func(t *testing.T, f progressFixture, r referral.Referral)
		wantErr error
	}{
		{name: "another specialist", edit: func(r *referral.Referral) { r.SpecialistID = "carol" }, wantErr: referral.ErrChanged},
		{name: "already closed", wantErr: referral.ErrChanged, prepare: func(t *testing.T, f progressFixture, r referral.Referral) {
			if err := f.progress.Close(context.Background(), r, decided(r, progressEvent(referral.EventClosed, r.SpecialistID, "declined"), referral.StatusClosed)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "contacted since it was read still closes", prepare: func(t *testing.T, f progressFixture, r referral.Referral) {
			if err := f.progress.RecordContact(context.Background(), r, decided(r, progressEvent(referral.EventContacted, r.SpecialistID, ""), referral.StatusContacted)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "missing referral", edit: func(r *referral.Referral) { r.ID = referral.NewID() }, wantErr: referral.ErrChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newProgressFixture(t, 20)
			r := f.record(t, "9434765919")
			if tt.prepare != nil {
				tt.prepare(t, f, r)
			}
			before := f.stored(t, r.ID)
			caseload := f.caseloads(t, "south-yorkshire")[r.SpecialistID]
			open := f.openCase(t, "9434765919")
			read := r
			if tt.edit != nil {
				tt.edit(&read)
			}
			err := f.progress.Close(context.Background(), read, decided(read, progressEvent(referral.EventClosed, read.SpecialistID, "other"), referral.StatusClosed))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Close err = %v, want %v", err, tt.wantErr)
			}
			after := f.stored(t, r.ID)
			if tt.wantErr == nil {
				if after.Status != "closed" || after.CloseReason != "other" || len(after.Events) != len(before.Events)+1 {
					t.Errorf("not closed: %s %q, %d events", after.Status, after.CloseReason, len(after.Events))
				}
				return
			}
			// All or nothing: a refused close touches neither the capacity nor the open case.
			if len(after.Events) != len(before.Events) || after.Status != before.Status || after.CloseReason != before.CloseReason {
				t.Errorf("refused close changed the referral: %+v", after)
			}
			if got := f.caseloads(t, "south-yorkshire")[r.SpecialistID]; got != caseload {
				t.Errorf("caseload = %d, want %d", got, caseload)
			}
			if got := f.openCase(t, "9434765919"); (got == nil) != (open == nil) || (got != nil && got.OpenCount != open.OpenCount) {
				t.Errorf("open case = %+v, want %+v", got, open)
			}
		})
	}
}

// TestProgressConcurrentCloses closes both referrals of one patient at once: exactly one capacity
// unit is released, whichever order the transactions land in.
func TestProgressConcurrentCloses(t *testing.T) {
	t.Parallel()
	f := newProgressFixture(t, 20)
	const nhs = "9434765919"
	rs := []referral.Referral{f.record(t, nhs), f.record(t, nhs), f.record(t, nhs)}
	other := f.record(t, validNHS(t, 7)) // another patient, whose capacity must stay held
	var wg sync.WaitGroup
	errs := make([]error, len(rs))
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.progress.Close(context.Background(), r, decided(r, progressEvent(referral.EventClosed, r.SpecialistID, "moved-away"), referral.StatusClosed))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("close %d: %v", i, err)
		}
	}
	if open := f.openCase(t, nhs); open != nil {
		t.Errorf("open case left: %+v", open)
	}
	caseloads := f.caseloads(t, "south-yorkshire")
	want := map[string]int{}
	want[other.SpecialistID]++
	for id, c := range caseloads {
		if c != want[id] {
			t.Errorf("caseload of %s = %d, want %d", id, c, want[id])
		}
	}
}

// TestProgressThroughTheDomain runs referral.Progress on this store: the second contact is
// already recorded, a close releases capacity and drains, and a reassigned link is refused.
func TestProgressThroughTheDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		actions     []referral.Action
		as          string // "" means the assigned specialist
		wantAlready []bool
		wantCode    referral.Code
		wantDrained int
		wantStatus  string
	}{
		{name: "contact twice", actions: []referral.Action{referral.ActionContact, referral.ActionContact},
			wantAlready: []bool{false, true}, wantStatus: "contacted"},
		{name: "meeting then contact", actions: []referral.Action{referral.ActionMeeting, referral.ActionContact},
			wantAlready: []bool{false, true}, wantStatus: "engaged"},
		{name: "close twice drains once", actions: []referral.Action{referral.ActionClose, referral.ActionClose},
			wantAlready: []bool{false, true}, wantDrained: 1, wantStatus: "closed"},
		{name: "another specialist", actions: []referral.Action{referral.ActionContact}, as: "someone-else",
			wantCode: referral.CodeForbidden, wantStatus: "assigned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newProgressFixture(t, 20)
			r := f.record(t, "9434765919")
			drained := 0
			p := &referral.Progress{Store: f.progress, Now: func() time.Time { return progressAt },
				Drain: referral.DrainFunc(func(_ context.Context, area string) error {
					if area == "south-yorkshire" {
						drained++
					}
					return nil
				})}
			as := tt.as
			if as == "" {
				as = r.SpecialistID
			}
			for i, a := range tt.actions {
				out, err := p.Record(context.Background(), referral.ActionRequest{ReferralID: r.ID, SpecialistID: as, Action: a, Reason: "declined"})
				var code referral.Code
				if err != nil {
					code = referral.ErrorCode(err)
				}
				if code != tt.wantCode {
					t.Fatalf("action %d (%s): err = %v, want code %q", i, a, err, tt.wantCode)
				}
				if err == nil && out.AlreadyRecorded != tt.wantAlready[i] {
					t.Errorf("action %d (%s): already recorded = %v, want %v", i, a, out.AlreadyRecorded, tt.wantAlready[i])
				}
			}
			if item := f.stored(t, r.ID); item.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", item.Status, tt.wantStatus)
			}
			if drained != tt.wantDrained {
				t.Errorf("drained %d times, want %d", drained, tt.wantDrained)
			}
		})
	}
}

// decided is what the transition function decided for r: the store test's stand-in for Apply, so
// it can drive the store into states (stale reads, races) Apply would refuse.
func decided(r referral.Referral, e referral.Event, to referral.Status) referral.Transition {
	from := r.Status
	r.Status = to
	return referral.Transition{From: from, Referral: r, Event: e}
}
