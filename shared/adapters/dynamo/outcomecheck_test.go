package dynamo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/ipspc/referrals/shared/adapters/ses"
	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/email"
)

// outcomeFixture is a referrals table, a directory with two specialists whose addresses no other
// test uses, and a reminders sweep that sends through the SES emulator.
type outcomeFixture struct {
	progressFixture
	sweep    *notify.Sweep
	signer   *signedlink.Signer
	now      *time.Time // the sweep's and the notifier's clock
	endpoint string     // the SES emulator
	emails   map[string]string
}

func newOutcomeFixture(t *testing.T) outcomeFixture {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SESV2")
	if endpoint == "" {
		t.Skip("set AWS_ENDPOINT_URL_SESV2 (make test does)")
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	emails := map[string]string{}
	specs := specialistsWithAddresses(t, hex.EncodeToString(suffix), emails, "ann", "bob")
	f := newStoreFixture(t, specs...)
	p := NewProgress(f.client, f.tables)
	p.ClosedRetention = 730 * 24 * time.Hour
	signer, err := signedlink.NewSigner([]byte("outcome-check-test-signing-secret-32b"))
	if err != nil {
		t.Fatal(err)
	}
	sesClient := sesv2.NewFromConfig(aws.Config{Region: "eu-west-2", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *sesv2.Options) { o.BaseEndpoint = aws.String(endpoint) })
	now := new(time.Time)
	n := &notify.Notifier{
		Store: NewNotifications(f.client, f.tables.Referrals), People: f.dir,
		Mailer: email.Outbox{Transport: ses.NewSender(sesClient, "referrals@example.org", "")}, Links: signer,
		BaseURL: "https://referrals.example.org", LinkTTL: 7 * 24 * time.Hour,
		Now: func() time.Time { return *now }, Via: "schedule",
	}
	sweep := &notify.Sweep{
		Due: NewDue(f.client, f.tables), Notifier: n, Calendar: calendar.Embedded(), Metrics: nopCounter{},
		// The stream's emails are not this test's: the sweep never stands in for them here.
		Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)), ResendAfter: 100 * 365 * 24 * time.Hour,
	}
	return outcomeFixture{progressFixture: progressFixture{storeFixture: f, progress: p}, sweep: sweep, signer: signer,
		now: now, endpoint: strings.TrimRight(endpoint, "/"), emails: emails}
}

// specialistsWithAddresses are specialists of south-yorkshire with room for one referral each, so
// two referrals go one to each, with addresses unique to this run (the emulator is shared).
func specialistsWithAddresses(t *testing.T, suffix string, emails map[string]string, ids ...string) []directory.Specialist {
	t.Helper()
	var out []directory.Specialist
	for _, id := range ids {
		s := specialist(id, "south-yorkshire", 1, true)
		s.Email = fmt.Sprintf("%s.outcome-check.%s@example.org", id, suffix)
		emails[id] = s.Email
		out = append(out, s)
	}
	return out
}

// inWork records a referral through the intake store, then its first meeting and its first job
// start (started on start) through Apply and the progress store, which sets its Due entry to the
// outcome check: dueAt = start + 16 weeks, dueKind = outcome-check.
func (f outcomeFixture) inWork(t *testing.T, nhs string, start calendar.Date) referral.Referral {
	t.Helper()
	ctx := context.Background()
	r := f.record(t, nhs)
	met := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tr, err := referral.Apply(r, referral.Command{Kind: referral.KindMeeting, Actor: referral.ActorSpecialist, By: r.SpecialistID, Via: referral.ViaSignedLink}, met)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.progress.RecordMeeting(ctx, r, tr); err != nil {
		t.Fatal(err)
	}
	r = tr.Referral
	tr, err = referral.Apply(r, referral.Command{Kind: referral.KindJobStart, Actor: referral.ActorSpecialist, By: r.SpecialistID, Via: referral.ViaSignedLink,
		StartDate: start.String(), HoursPerWeek: 16, SelfEmployed: "no"}, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.progress.RecordJobStart(ctx, r, tr); err != nil {
		t.Fatal(err)
	}
	if it := f.stored(t, r.ID); it.DueKind != dueOutcomeCheck || it.DueAt != start.AddDays(referral.OutcomeCheckDays).String() {
		t.Fatalf("after the job start the Due entry is %q/%q, want the outcome check", it.DueAt, it.DueKind)
	}
	return tr.Referral
}

// withOutcomeCheckDue sets an outcome-check Due entry for a first job start on start, whatever r's
// state: the stale entry a sweep may read before a close or an outcome is stored.
func withOutcomeCheckDue(u expression.UpdateBuilder, r referral.Referral, start calendar.Date) expression.UpdateBuilder {
	return u.Set(expression.Name("dueShard"), expression.Value(r.Area)).
		Set(expression.Name("dueAt"), expression.Value(start.AddDays(referral.OutcomeCheckDays).String())).
		Set(expression.Name("dueKind"), expression.Value(dueOutcomeCheck))
}

// run sweeps as of when.
func (f outcomeFixture) run(t *testing.T, when time.Time) notify.Summary {
	t.Helper()
	*f.now = when
	sum, err := f.sweep.Run(context.Background(), when)
	if err != nil {
		t.Fatalf("sweep at %s: %v", when, err)
	}
	return sum
}

// outcomeChecks are the outcome-check emails the emulator holds for the specialist.
func (f outcomeFixture) outcomeChecks(t *testing.T, specialistID string) []emulatorEmail {
	t.Helper()
	var out []emulatorEmail
	for _, e := range f.emulatorEmails(t) {
		if slices.Contains(e.Destination.To, f.emails[specialistID]) && strings.Contains(e.Subject, "record the job outcome") {
			out = append(out, e)
		}
	}
	return out
}

// emulatorEmails are every email the (shared) emulator holds.
func (f outcomeFixture) emulatorEmails(t *testing.T) []emulatorEmail {
	t.Helper()
	resp, err := http.Get(f.endpoint + "/store")
	if err != nil {
		t.Fatalf("GET /store: %v", err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []emulatorEmail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatalf("GET /store: %v", err)
	}
	return store.Emails
}

type emulatorEmail struct {
	Destination struct {
		To, Cc []string
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

var tokenInText = regexp.MustCompile(`https://referrals\.example\.org/referrals/([A-Z0-9-]+)\?token=(\S+)`)

// TestSweepOutcomeCheckThroughSES drives the real sweep over DynamoDB Local and the SES emulator:
// the outcome check goes to the specialist once however many runs there are, never the day before
// (the marker is the one that comes the next day), never once an outcome is recorded or the
// referral closed (the marker: the other referral's email in the same run); the referral then
// leaves the Due index.
func TestSweepOutcomeCheckThroughSES(t *testing.T) {
	t.Parallel()
	start := calendar.Date{Year: 2026, Month: 12, Day: 1} // a Tuesday: due Tuesday 2027-03-23
	due := time.Date(2027, 3, 23, 9, 0, 0, 0, time.UTC)
	dayBefore := due.AddDate(0, 0, -1)
	tests := []struct {
		name string
		// settle changes the subject referral after its job start; nil leaves it in work.
		settle func(t *testing.T, f outcomeFixture, r referral.Referral)
		runs   []time.Time
		want   []int // outcome checks the subject's specialist holds after each run
	}{
		{"sent once in three runs", nil, []time.Time{due, due.Add(time.Hour), due.AddDate(0, 0, 1)}, []int{1, 1, 1}},
		{"none the day before", nil, []time.Time{dayBefore, due}, []int{0, 1}},
		{"none once an outcome is recorded", func(t *testing.T, f outcomeFixture, r referral.Referral) {
			tr, err := referral.Apply(r, referral.Command{Kind: referral.KindOutcome, Actor: referral.ActorSpecialist, By: r.SpecialistID, Via: referral.ViaSignedLink, Sustained: "yes"}, dayBefore)
			if err != nil {
				t.Fatal(err)
			}
			// As if the sweep read the index before the outcome's store removed the entry: only the
			// event is stored, and the sweep's re-read must see it.
			if err := f.progress.update(context.Background(), "record outcome on", r, stillAsRead(r), appendEvent(tr.Event)); err != nil {
				t.Fatal(err)
			}
		}, []time.Time{due, due.AddDate(0, 0, 1)}, []int{0, 0}},
		{"none once an outcome is recorded through the store", func(t *testing.T, f outcomeFixture, r referral.Referral) {
			tr, err := referral.Apply(r, referral.Command{Kind: referral.KindOutcome, Actor: referral.ActorSpecialist, By: r.SpecialistID, Via: referral.ViaSignedLink, Sustained: "no"}, dayBefore)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.progress.RecordOutcome(context.Background(), r, tr); err != nil {
				t.Fatal(err)
			}
		}, []time.Time{due, due.AddDate(0, 0, 1)}, []int{0, 0}},
		{"none once closed", func(t *testing.T, f outcomeFixture, r referral.Referral) {
			tr, err := referral.Apply(r, referral.Command{Kind: referral.KindClose, Actor: referral.ActorSpecialist, By: r.SpecialistID, Via: referral.ViaSignedLink, Reason: "job-started"}, dayBefore)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.progress.Close(context.Background(), r, tr); err != nil {
				t.Fatal(err)
			}
			// Close takes it off the index; put the entry back, as if read before the close.
			if err := f.progress.update(context.Background(), "restore due on", tr.Referral, expression.AttributeExists(expression.Name(attrPK)),
				withOutcomeCheckDue(expression.Set(expression.Name("status"), expression.Value(tr.Referral.Status)), r, start)); err != nil {
				t.Fatal(err)
			}
		}, []time.Time{due, due.AddDate(0, 0, 1)}, []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newOutcomeFixture(t)
			subject := f.inWork(t, "9434765919", start)
			marker := f.inWork(t, "9434765870", start)
			if subject.SpecialistID == marker.SpecialistID {
				t.Fatalf("both referrals went to %s", subject.SpecialistID)
			}
			if tt.settle != nil {
				tt.settle(t, f, subject)
			}
			for i, when := range tt.runs {
				sum := f.run(t, when)
				got := f.outcomeChecks(t, subject.SpecialistID)
				if len(got) != tt.want[i] {
					t.Fatalf("after the run at %s the specialist holds %d outcome checks, want %d (summary %+v)", when, len(got), tt.want[i], sum)
				}
				// The marker: the other referral's check went in the first run on or after its day,
				// so this run did look at both.
				if want := map[bool]int{true: 1, false: 0}[!when.Before(due)]; len(f.outcomeChecks(t, marker.SpecialistID)) != want {
					t.Fatalf("after the run at %s the marker's specialist holds %d outcome checks, want %d", when, len(f.outcomeChecks(t, marker.SpecialistID)), want)
				}
				if when.Before(due) && f.stored(t, subject.ID).DueKind != dueOutcomeCheck && tt.settle == nil {
					t.Fatalf("the run before the day took the referral off the Due index")
				}
			}
			// Settled: an open referral's entry is past every day the sweep asks for; a closed
			// one has none.
			for _, r := range []referral.Referral{subject, marker} {
				it := f.stored(t, r.ID)
				want := noDeadline
				if it.Status == string(referral.StatusClosed) {
					want = ""
				}
				if it.DueKind != "" || it.DueAt != want || (it.DueShard == "") != (want == "") {
					t.Errorf("%s (%s) has the Due entry %q/%q/%q after its outcome check was settled, want dueAt %q and no kind",
						r.ID, it.Status, it.DueShard, it.DueAt, it.DueKind, want)
				}
			}
			stored, err := f.progress.Get(context.Background(), subject.ID)
			if err != nil {
				t.Fatal(err)
			}
			var emailed int
			for _, e := range stored.Events {
				if e.Type == referral.EventEmailed && e.Detail == "outcome-check" {
					emailed++
				}
			}
			if emailed != tt.want[len(tt.want)-1] {
				t.Errorf("%d outcome-check audit events, want %d", emailed, tt.want[len(tt.want)-1])
			}
			if emailed == 0 {
				return
			}
			e := f.outcomeChecks(t, subject.SpecialistID)[0]
			if len(e.Destination.Cc) != 0 || strings.Contains(e.Subject, "Sam") || !strings.Contains(e.Body.Text, "Patient: Sam T.") ||
				!strings.Contains(e.Body.Text, "started work on Tuesday 1 December 2026") || strings.Contains(e.Body.Text, "9434765919") ||
				strings.Contains(e.Body.Text, "07700900123") {
				t.Errorf("outcome check:\n%s\n%s", e.Subject, e.Body.Text)
			}
			m := tokenInText.FindStringSubmatch(e.Body.Text)
			if m == nil || m[1] != subject.ID {
				t.Fatalf("no link to the referral in:\n%s", e.Body.Text)
			}
			token, _ := url.QueryUnescape(m[2])
			if holder, _, err := f.signer.Verify(subject.ID, token, due); err != nil || holder != subject.SpecialistID {
				t.Errorf("link verifies as %q, %v; want the specialist %s", holder, err, subject.SpecialistID)
			}
		})
	}
}

// ClearOutcomeCheck ends only an outcome check's entry, and only on the referral as read.
func TestClearOutcomeCheckLeavesOtherEntries(t *testing.T) {
	t.Parallel()
	f := newProgressFixture(t, 5)
	ctx := context.Background()
	store := NewNotifications(f.client, f.tables.Referrals)
	tests := []struct {
		name string
		seed func(t *testing.T) referral.Referral // returns r as the sweep read it
		want string                               // dueAt/dueKind afterwards
	}{
		{"a contact deadline stays", func(t *testing.T) referral.Referral {
			return f.record(t, "9434765919")
		}, "2026-11-25/contact"},
		{"an outcome check of a referral read in another status stays", func(t *testing.T) referral.Referral {
			r := f.record(t, "9434765870")
			if err := f.progress.update(ctx, "seed", r, stillAsRead(r), withOutcomeCheckDue(
				expression.Set(expression.Name("status"), expression.Value(referral.StatusInWork)), r, calendar.Date{Year: 2026, Month: 12, Day: 1})); err != nil {
				t.Fatal(err)
			}
			return r // read as assigned
		}, "2027-03-23/outcome-check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.seed(t)
			if err := store.ClearOutcomeCheck(ctx, r); err != nil {
				t.Fatal(err)
			}
			it := f.stored(t, r.ID)
			if got := it.DueAt + "/" + it.DueKind; got != tt.want || it.DueShard != r.Area {
				t.Errorf("Due entry %q, want %q", got, tt.want)
			}
		})
	}
}
