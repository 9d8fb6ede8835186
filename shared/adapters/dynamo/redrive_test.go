package dynamo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/render/email"
)

// unknownOnce is the fault SES cannot be made to produce on demand: the first send of one notice
// about one referral times out as if SES might have taken it (it did not: nothing reaches the
// emulator). Every other send goes to the emulator.
type unknownOnce struct {
	next notify.Mailer
	mu   sync.Mutex
	fail map[string]bool // referral id + kind + recipient still to fail
}

func unknownKey(id string, kind email.Kind, to string) string {
	return id + "/" + string(kind) + "/" + to
}

func (u *unknownOnce) failNext(id string, kind email.Kind, to string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fail[unknownKey(id, kind, to)] = true
}

func (u *unknownOnce) Send(ctx context.Context, m email.Message) (string, error) {
	u.mu.Lock()
	k := unknownKey(m.ReferralID, m.Kind, strings.Join(m.To, ","))
	failing := u.fail[k]
	delete(u.fail, k)
	u.mu.Unlock()
	if failing {
		return "", fmt.Errorf("send: timed out: %w", notify.ErrOutcomeUnknown)
	}
	return u.next.Send(ctx, m)
}

// redriveCase is one notice the stream tries once with an unknown outcome.
type redriveCase struct {
	name   string
	notice notify.Notice
	// to returns the referral as the stream saw it, changed through the stores; fill records
	// the referrals that take the area's two places first, when the case wants none left.
	to     func(t *testing.T, f outcomeFixture, r referral.Referral) referral.Referral
	full   bool
	phrase string // in the subject of the notice's email, beside the referral id
}

// emailsTo counts the emails in the emulator to address whose subject names the referral and the
// phrase.
func (f outcomeFixture) emailsTo(t *testing.T, address, referralID, phrase string) int {
	t.Helper()
	n := 0
	for _, e := range f.emulatorEmails(t) {
		if slices.Contains(e.Destination.To, address) && strings.Contains(e.Subject, referralID) && strings.Contains(e.Subject, phrase) {
			n++
		}
	}
	return n
}

// TestSweepRedrivesUnknownOutcomes: the stream's send of a notice has an unknown outcome and SES
// in fact never took it. The notice is held (not sent) for the lease; a sweep within the lease
// sends nothing for it (it counts it held) while it sends the marker's (another referral held
// half an hour earlier); the first sweep after the lease sends it exactly once; a further sweep
// sends nothing; and no record is left in the Due index. Each case is a referral the sweep would
// not otherwise visit: engaged, closed, withdrawn, waitlisted.
func TestSweepRedrivesUnknownOutcomes(t *testing.T) {
	t.Parallel()
	progress := func(action referral.Action, reason string) func(t *testing.T, f outcomeFixture, r referral.Referral) referral.Referral {
		return func(t *testing.T, f outcomeFixture, r referral.Referral) referral.Referral {
			t.Helper()
			p := &referral.Progress{Store: f.progress, Now: func() time.Time { return progressAt }}
			if _, err := p.Record(context.Background(), referral.ActionRequest{ReferralID: r.ID, SpecialistID: r.SpecialistID, Action: action, Reason: reason}); err != nil {
				t.Fatalf("%s: %v", action, err)
			}
			return r
		}
	}
	withdraw := func(t *testing.T, f outcomeFixture, r referral.Referral) referral.Referral {
		t.Helper()
		drained := 0
		if _, err := f.referrers(&drained).Withdraw(context.Background(), r.ID, "revoked"); err != nil {
			t.Fatalf("withdraw: %v", err)
		}
		return r
	}
	asRecorded := func(_ *testing.T, _ outcomeFixture, r referral.Referral) referral.Referral { return r }
	tests := []redriveCase{
		{name: "started support", notice: notify.Notice{Kind: email.StartedSupport, Audience: email.AudienceReferrer},
			to: progress(referral.ActionMeeting, ""), phrase: "support has started"},
		{name: "closed", notice: notify.Notice{Kind: email.Closed, Audience: email.AudienceReferrer},
			to: progress(referral.ActionClose, referral.CloseReasons[0]), phrase: "has been closed"},
		{name: "withdrawn, to the specialist", notice: notify.Notice{Kind: email.Withdrawn, Audience: email.AudienceSpecialist},
			to: withdraw, phrase: "Do not contact"},
		{name: "withdrawn, to the referrer", notice: notify.Notice{Kind: email.Withdrawn, Audience: email.AudienceReferrer},
			to: withdraw, phrase: "withdrawn"},
		{name: "a waitlisted referral's acknowledgement", notice: notify.Notice{Kind: email.Acknowledgement},
			to: asRecorded, full: true, phrase: "received"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newOutcomeFixture(t)
			mailer := &unknownOnce{next: f.sweep.Notifier.Mailer, fail: map[string]bool{}}
			f.sweep.Notifier.Mailer = mailer
			f.sweep.ResendAfter = 15 * time.Minute // as deployed
			ctx := context.Background()
			markerHeld := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			if tt.full { // ann and bob have room for one each; the stream sends these two's emails
				for _, nhs := range []string{"9434765870", "9434765889"} {
					*f.now = markerHeld.Add(-time.Hour)
					if err := f.sweep.Notifier.Referral(ctx, f.record(t, nhs).ID); err != nil {
						t.Fatal(err)
					}
				}
			}
			subjectHeld := markerHeld.Add(30 * time.Minute)
			var subject, marker referral.Referral
			// address is where the notice goes; each referral has a referrer address of its own,
			// since the emulator is shared.
			address := func(r referral.Referral) string {
				if tt.notice.Audience == email.AudienceSpecialist {
					return f.emails[r.SpecialistID]
				}
				return r.Referrer.Email
			}
			for i, held := range []time.Time{markerHeld, subjectHeld} {
				in := newReferral([]string{"9434765919", "9434765900"}[i], "south-yorkshire")
				in.Referrer.Email = strings.ToLower(in.ID) + ".referrer@example.org"
				r, err := f.store.Record(ctx, in, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tt.full != (r.Status == referral.StatusWaitlisted) {
					t.Fatalf("recorded as %s", r.Status)
				}
				r = tt.to(t, f, r)
				// The stream's one try: every other email it owes goes; this one's outcome is unknown.
				// That is no batch failure (a retry could only find the hold).
				mailer.failNext(r.ID, tt.notice.Kind, address(r))
				*f.now = held
				var logs bytes.Buffer
				h := &notify.StreamHandler{Notify: f.sweep.Notifier, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Workers: 2}
				res, err := h.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{streamRecord("1", r.ID)}})
				if err != nil || len(res.BatchItemFailures) != 0 {
					t.Fatalf("stream batch: failures %v, err %v; want none", res.BatchItemFailures, err)
				}
				if !strings.Contains(logs.String(), `"outcome":"unknown"`) {
					t.Fatalf("the stream did not meet the unknown outcome:\n%s", logs.String())
				}
				if n := f.emailsTo(t, address(r), r.ID, tt.phrase); n != 0 {
					t.Fatalf("%d emails sent on an unknown outcome", n)
				}
				if i == 0 {
					marker = r
				} else {
					subject = r
				}
			}
			runs := []struct {
				at                   time.Time
				subject, marker      int // emails of the notice each holds afterwards
				wantHeld, wantResent int
			}{
				{subjectHeld.Add(10 * time.Minute), 0, 1, 1, 1}, // within the subject's lease, after the marker's
				{subjectHeld.Add(notify.UnknownOutcomeHold + 2*time.Minute), 1, 1, 0, 1},
				{subjectHeld.Add(2 * time.Hour), 1, 1, 0, 0},
			}
			for _, run := range runs {
				sum := f.run(t, run.at)
				if got := f.emailsTo(t, address(marker), marker.ID, tt.phrase); got != run.marker {
					t.Fatalf("after the run at %s the marker's %s went %d times, want %d (summary %+v)", run.at, tt.notice, got, run.marker, sum)
				}
				if got := f.emailsTo(t, address(subject), subject.ID, tt.phrase); got != run.subject {
					t.Fatalf("after the run at %s the %s went %d times, want %d (summary %+v)", run.at, tt.notice, got, run.subject, sum)
				}
				if sum.Held != run.wantHeld || sum.Resent != run.wantResent || sum.Failed != 0 {
					t.Errorf("run at %s: held %d, resent %d, failed %d; want %d, %d, 0", run.at, sum.Held, sum.Resent, sum.Failed, run.wantHeld, run.wantResent)
				}
			}
			for _, r := range []referral.Referral{subject, marker} {
				item := f.rawNoticeItem(t, r.ID, tt.notice)
				if item["status"] != "sent" {
					t.Errorf("%s record status %v, want sent", tt.notice, item["status"])
				}
				for _, a := range dueAttrs {
					if v, ok := item[a]; ok {
						t.Errorf("%s record keeps %s = %v after it was sent", tt.notice, a, v)
					}
				}
			}
		})
	}
}

// streamRecord is the stream's record of a change to the referral's item.
func streamRecord(seq, id string) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{SequenceNumber: seq,
		Keys: map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute(referralPK(id)), "sk": events.NewStringAttribute(referralSK)}}}
}

// rawNoticeItem reads a notification record as DynamoDB holds it, its attributes by name.
func (f storeFixture) rawNoticeItem(t *testing.T, id string, n notify.Notice) map[string]any {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.tables.Referrals, Key: itemKey(referralPK(id), noticeSK(n)), ConsistentRead: aws.Bool(true),
	})
	if err != nil || out.Item == nil {
		t.Fatalf("get %s record of %s: %v", n, id, err)
	}
	var item map[string]any
	if err := unmarshalMap(out.Item, &item); err != nil {
		t.Fatal(err)
	}
	return item
}

// TestRedriveEntryLifecycle: a hold puts the notification record in its referral's area's Due
// partition on the day its lease ends; a claim keeps the entry while the send is under way; a send
// SES refuses leaves it owed and still due (deleting it would lose the email); a confirm or a
// forget ends the entry.
func TestRedriveEntryLifecycle(t *testing.T) {
	t.Parallel()
	f := newStoreFixture(t, specialist("ann", "south-yorkshire", 20, true))
	ctx := context.Background()
	r, err := f.store.Record(ctx, newReferral("9434765919", "south-yorkshire"), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := NewNotifications(f.client, f.tables.Referrals)
	held := time.Date(2026, 11, 25, 23, 50, 0, 0, time.UTC) // the lease ends on the 26th
	after := held.Add(n.Lease + time.Second)
	closed, ack := notify.Notice{Kind: email.Closed, Audience: email.AudienceReferrer}, notify.Notice{Kind: email.Acknowledgement}
	event := referral.Event{At: after, Type: referral.EventEmailed, By: referral.System, Via: "schedule", Detail: "closed"}
	const due = "south-yorkshire/2026-11-26/redrive"
	steps := []struct {
		name   string
		notice notify.Notice
		do     func(notify.Notice) error
		status string
		entry  string // dueShard/dueAt/dueKind; "" for none
	}{
		{"claimed: no entry", closed, func(x notify.Notice) error { return claimed(n.Claim(ctx, r.ID, x, "a", held)) }, "sending", ""},
		{"held: due when the lease ends", closed, func(x notify.Notice) error { return n.Hold(ctx, r, x, "a", held) }, "unknown", due},
		{"claimed after the lease: still due", closed, func(x notify.Notice) error { return claimed(n.Claim(ctx, r.ID, x, "b", after)) }, "sending", due},
		{"refused: owed and still due", closed, func(x notify.Notice) error { return n.Release(ctx, r.ID, x, "b") }, "owed", due},
		{"owed is claimed at once", closed, func(x notify.Notice) error { return claimed(n.Claim(ctx, r.ID, x, "c", after)) }, "sending", due},
		{"confirmed: no entry", closed, func(x notify.Notice) error { return n.Confirm(ctx, r.ID, x, "c", "m-1", event) }, "sent", ""},
		{"another held", ack, func(x notify.Notice) error {
			if err := claimed(n.Claim(ctx, r.ID, x, "d", held)); err != nil {
				return err
			}
			return n.Hold(ctx, r, x, "d", held)
		}, "unknown", due},
		{"forgotten: still held, no entry", ack, func(x notify.Notice) error { return n.Forget(ctx, r.ID, x) }, "unknown", ""},
		{"forgetting twice is no error", ack, func(x notify.Notice) error { return n.Forget(ctx, r.ID, x) }, "unknown", ""},
	}
	for _, s := range steps {
		if err := s.do(s.notice); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		item := f.rawNoticeItem(t, r.ID, s.notice)
		entry := ""
		if item["dueShard"] != nil || item["dueAt"] != nil || item["dueKind"] != nil {
			entry = fmt.Sprintf("%v/%v/%v", item["dueShard"], item["dueAt"], item["dueKind"])
		}
		if item["status"] != s.status || entry != s.entry {
			t.Fatalf("%s: status %v, entry %q; want %s, %q", s.name, item["status"], entry, s.status, s.entry)
		}
	}
	if _, sent, err := n.Load(ctx, r.ID); err != nil || !sent[closed] || sent[ack] {
		t.Errorf("sent = %v, %v; want closed only", sent, err)
	}
}

// claimed turns a claim's answer into an error unless it claimed.
func claimed(ok bool, err error) error {
	if err == nil && !ok {
		return fmt.Errorf("not claimed")
	}
	return err
}

// TestSweepForgetsWhatIsNoLongerOwed: an assignment held after an unknown outcome, then the
// referral withdrawn: after the lease the sweep does not send the assignment (the marker: another
// referral's held assignment, which the same run sends) and ends its Due entry, so the referral
// is not visited again.
func TestSweepForgetsWhatIsNoLongerOwed(t *testing.T) {
	t.Parallel()
	f := newOutcomeFixture(t)
	mailer := &unknownOnce{next: f.sweep.Notifier.Mailer, fail: map[string]bool{}}
	f.sweep.Notifier.Mailer = mailer
	f.sweep.ResendAfter = 15 * time.Minute
	ctx := context.Background()
	held := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	*f.now = held
	var rs []referral.Referral
	for _, nhs := range []string{"9434765919", "9434765870"} {
		r := f.record(t, nhs)
		mailer.failNext(r.ID, email.Assignment, f.emails[r.SpecialistID])
		if err := f.sweep.Notifier.Referral(ctx, r.ID); !errors.Is(err, notify.ErrOutcomeUnknown) {
			t.Fatalf("stream send = %v, want an unknown outcome", err)
		}
		rs = append(rs, r)
	}
	subject, marker := rs[0], rs[1]
	drained := 0
	if _, err := f.referrers(&drained).Withdraw(ctx, subject.ID, "revoked"); err != nil {
		t.Fatal(err)
	}
	assignment := notify.Notice{Kind: email.Assignment}
	for i, when := range []time.Time{held.Add(time.Hour), held.Add(2 * time.Hour)} {
		sum := f.run(t, when)
		if got := f.emailsTo(t, f.emails[marker.SpecialistID], marker.ID, "New referral"); got != 1 {
			t.Fatalf("run %d: the marker's assignment went %d times, want 1 (summary %+v)", i, got, sum)
		}
		if got := f.emailsTo(t, f.emails[subject.SpecialistID], subject.ID, "New referral"); got != 0 {
			t.Fatalf("run %d: the withdrawn referral's assignment went %d times, want 0", i, got)
		}
		// The first run visits each once (the marker is also due by its own contact deadline:
		// its two entries are one visit); the second only the marker, for that deadline.
		if want := []int{2, 1}[i]; sum.Due != want {
			t.Errorf("run %d visited %d referrals, want %d", i, sum.Due, want)
		}
	}
	item := f.rawNoticeItem(t, subject.ID, assignment)
	if item["status"] != "unknown" || item["dueShard"] != nil || item["dueAt"] != nil || item["dueKind"] != nil {
		t.Errorf("the unowed assignment's record is %v, want held with no Due entry", item)
	}
}
