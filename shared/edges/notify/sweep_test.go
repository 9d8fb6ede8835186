package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/render/email"
)

// fakeDue lists every referral of the store whose next deadline is by the day asked, and, as the
// store's outcome-check entry would (set on the first job start, kept until cleared), every one
// whose first job start is 16 weeks before it.
type fakeDue struct {
	store *memStore
	asked []calendar.Date
	mu    sync.Mutex
}

func (f *fakeDue) DueBy(_ context.Context, day calendar.Date, fn func(string) error) error {
	f.mu.Lock()
	f.asked = append(f.asked, day)
	f.mu.Unlock()
	f.store.mu.Lock()
	var ids []string
	for id, r := range f.store.referrals {
		if ds := OpenDeadlines(r); len(ds) > 0 && !ds[0].By.After(day) {
			ids = append(ids, id)
		}
		if jobs := r.Jobs(); len(jobs) > 0 && !jobs[0].Start.AddDays(referral.OutcomeCheckDays).After(day) && f.store.settled[id] == 0 {
			ids = append(ids, id)
		}
	}
	f.store.mu.Unlock()
	slices.Sort(ids)
	for _, id := range ids {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeDue) WaitlistCounts(context.Context) (map[string]int, error) {
	return map[string]int{"south-yorkshire": 3}, nil
}

type metricLog struct {
	mu     sync.Mutex
	values map[string]float64 // name|dims → last value
}

func (m *metricLog) Count(name string, v float64, dims map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := name
	for k, d := range dims {
		key += "|" + k + "=" + d
	}
	m.values[key] = v
}

func sweepFixture(t *testing.T, referrals ...referral.Referral) (*Sweep, *memStore, *fakeMailer, *metricLog) {
	t.Helper()
	store := &memStore{referrals: map[string]referral.Referral{}, records: map[string]string{}}
	for _, r := range referrals {
		store.referrals[r.ID] = r
		// The notifier has already sent the intake emails.
		for _, k := range Due(r) {
			store.records[memKey(r.ID, k)] = "sent"
		}
	}
	mailer := &fakeMailer{}
	m := &metricLog{values: map[string]float64{}}
	n := newNotifier(store, mailer, fakePeople{})
	n.Via = "schedule"
	return &Sweep{Due: &fakeDue{store: store}, Notifier: n, Calendar: calendar.Embedded(), Metrics: m,
		Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)), ResendAfter: 15 * time.Minute}, store, mailer, m
}

func assigned(t *testing.T, id, contactBy, meetBy string) referral.Referral {
	t.Helper()
	r := testReferral(referral.StatusAssigned, "ann")
	r.ID, r.ContactBy, r.MeetBy = id, date(t, contactBy), date(t, meetBy)
	r.Events = []referral.Event{{At: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Type: referral.EventAssigned}}
	return r
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSweepRemindsOnceThenEscalatesOnce(t *testing.T) {
	t.Parallel()
	s, store, mailer, m := sweepFixture(t, assigned(t, "R-AAAAAAAA", "2026-11-25", "2026-12-07"))
	runs := []struct {
		when string
		want []string
	}{
		{"2026-11-23T10:00:00Z", nil},
		{"2026-11-24T09:00:00Z", []string{"contact-reminder"}},
		{"2026-11-24T10:00:00Z", []string{"contact-reminder"}}, // the next hour: nothing new
		{"2026-11-26T00:05:00Z", []string{"contact-overdue", "contact-reminder"}},
		{"2026-11-26T01:05:00Z", []string{"contact-overdue", "contact-reminder"}},
	}
	for _, run := range runs {
		if _, err := s.Run(context.Background(), at(t, run.when)); err != nil {
			t.Fatalf("run at %s: %v", run.when, err)
		}
		if got := mailer.kinds(); !slices.Equal(got, run.want) {
			t.Fatalf("after the run at %s sent %v, want %v", run.when, got, run.want)
		}
	}
	if m.values["OverdueReferrals"] != 1 || m.values["OverdueReferrals|Area=south-yorkshire"] != 1 || m.values["WaitlistedReferrals"] != 3 {
		t.Errorf("metrics = %v", m.values)
	}
	if len(store.events) != 2 || store.events[0].Type != referral.EventReminded || store.events[1].Type != referral.EventEscalated || store.events[1].Via != "schedule" {
		t.Errorf("audit events = %+v", store.events)
	}
	for _, sent := range mailer.sent {
		if sent.Kind == email.ContactOverdue && (len(sent.Cc) != 1 || sent.Cc[0] != "lead@example.org") {
			t.Errorf("escalation not copied to the lead: %+v", sent)
		}
	}
}

func TestSweepNothingOnceContactIsRecorded(t *testing.T) {
	t.Parallel()
	r := assigned(t, "R-BBBBBBBB", "2026-11-25", "2026-12-07")
	r.Status = referral.StatusContacted
	s, _, mailer, _ := sweepFixture(t, r)
	if _, err := s.Run(context.Background(), at(t, "2026-11-26T09:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if got := mailer.kinds(); len(got) != 0 {
		t.Errorf("sent %v after contact was recorded", got)
	}
}

func TestSweepOverlappingRunsSendOnce(t *testing.T) {
	t.Parallel()
	var refs []referral.Referral
	for _, id := range []string{"R-CCCCCCC2", "R-CCCCCCC3", "R-CCCCCCC4", "R-CCCCCCC5"} {
		refs = append(refs, assigned(t, id, "2026-11-25", "2026-12-07"))
	}
	s, _, mailer, _ := sweepFixture(t, refs...)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { _, _ = s.Run(context.Background(), at(t, "2026-11-26T09:00:00Z")) })
	}
	wg.Wait()
	if got := mailer.kinds(); len(got) != 4 {
		t.Errorf("overlapping runs sent %d escalations for 4 referrals: %v", len(got), got)
	}
}

func TestSweepFailureIsReportedAndRetried(t *testing.T) {
	t.Parallel()
	s, _, mailer, _ := sweepFixture(t, assigned(t, "R-DDDDDDDD", "2026-11-25", "2026-12-07"))
	mailer.fail = errors.New("ses down")
	sum, err := s.Run(context.Background(), at(t, "2026-11-26T09:00:00Z"))
	if err == nil || sum.Failed != 1 {
		t.Fatalf("run with SES down: %+v, %v; want an error and one failure", sum, err)
	}
	mailer.fail = nil
	if _, err := s.Run(context.Background(), at(t, "2026-11-26T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"contact-overdue"}) {
		t.Errorf("after recovery sent %v", got)
	}
}

func TestSweepResendsIntakeEmailsTheStreamMissed(t *testing.T) {
	t.Parallel()
	r := assigned(t, "R-EEEEEEEE", "2026-11-25", "2026-12-07")
	s, store, mailer, _ := sweepFixture(t, r)
	delete(store.records, r.ID+"/"+string(email.Assignment)) // the stream gave up on it
	r.Events[0].At = at(t, "2026-11-24T09:00:00Z")           // assigned (from the waitlist) just now
	store.referrals[r.ID] = r
	if _, err := s.Run(context.Background(), at(t, "2026-11-24T09:05:00Z")); err != nil {
		t.Fatal(err)
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"contact-reminder"}) {
		t.Fatalf("sent %v within the notifier's window, want only the reminder", got)
	}
	// The sweep sees a referral once it is due by the next working day (its cost grows with what
	// is due), so a lost assignment email goes out by the reminder's day at the latest.
	if _, err := s.Run(context.Background(), at(t, "2026-11-24T10:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"assignment", "contact-reminder"}) {
		t.Errorf("sent %v, want the missing assignment email and the reminder", got)
	}
}

func TestSweepFailsLoudlyBeyondTheCalendar(t *testing.T) {
	t.Parallel()
	s, _, _, m := sweepFixture(t)
	if _, err := s.Run(context.Background(), at(t, "2030-12-31T09:00:00Z")); !errors.Is(err, calendar.ErrOutOfRange) {
		t.Fatalf("err = %v, want calendar.ErrOutOfRange", err)
	}
	if m.values["CalendarErrors"] != 1 || m.values["CalendarYearsLeft"] != 0 {
		t.Errorf("metrics = %v, want CalendarErrors 1 and CalendarYearsLeft 0", m.values)
	}
}

func TestScheduleHandlerNeedsTheEventTime(t *testing.T) {
	t.Parallel()
	s, _, _, _ := sweepFixture(t)
	h := &ScheduleHandler{Sweep: s}
	if _, err := h.Handle(context.Background(), eventAt(time.Time{})); err == nil {
		t.Error("an event without a time must fail, not sweep as of the clock")
	}
	if _, err := h.Handle(context.Background(), eventAt(at(t, "2026-11-24T09:00:00Z"))); err != nil {
		t.Error(err)
	}
	if due := s.Due.(*fakeDue); len(due.asked) != 1 || due.asked[0].String() != "2026-11-25" {
		t.Errorf("swept up to %v, want the next working day 2026-11-25", due.asked)
	}
}

func eventAt(t time.Time) events.EventBridgeEvent { return events.EventBridgeEvent{Time: t} }

// fakeDigests records the times it was run at and answers with sent and err.
type fakeDigests struct {
	runs []time.Time
	sent int
	err  error
}

func (f *fakeDigests) Run(_ context.Context, now time.Time) (int, error) {
	f.runs = append(f.runs, now)
	return f.sent, f.err
}

func TestSweepRunsTheDigestsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		sent    int
		err     error
		wantErr bool
	}{
		{"two sent", 2, nil, false},
		{"none due", 0, nil, false},
		{"one area failed", 1, errors.New("lead digest of norfolk: ses down"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _, _, m := sweepFixture(t)
			var logs bytes.Buffer
			s.Log = slog.New(slog.NewJSONHandler(&logs, nil))
			d := &fakeDigests{sent: tt.sent, err: tt.err}
			s.Digests = d
			now := at(t, "2026-11-30T08:10:00Z")
			sum, err := s.Run(context.Background(), now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Run err = %v, want error %v", err, tt.wantErr)
			}
			if len(d.runs) != 1 || !d.runs[0].Equal(now) {
				t.Errorf("digests run at %v, want once at %v", d.runs, now)
			}
			if sum.DigestsSent != tt.sent || m.values["DigestsSent"] != float64(tt.sent) {
				t.Errorf("summary %d, metric %v; want %d sent", sum.DigestsSent, m.values["DigestsSent"], tt.sent)
			}
			if !bytes.Contains(logs.Bytes(), []byte(`"digestsSent":`)) {
				t.Errorf("summary line lacks digestsSent: %s", logs.String())
			}
			if tt.err != nil && !bytes.Contains(logs.Bytes(), []byte("lead digests failed")) {
				t.Errorf("digest failure not logged: %s", logs.String())
			}
		})
	}
}

// TestSweepCopiesRemindersOfABouncingSpecialist: a reminder to a specialist whose address bounces
// also goes to the lead as a copy, once, whatever the runs.
func TestSweepCopiesRemindersOfABouncingSpecialist(t *testing.T) {
	t.Parallel()
	s, _, mailer, _ := sweepFixture(t, assigned(t, "R-FFFFFFFF", "2026-11-25", "2026-12-07"))
	s.Notifier.People = fakePeople{bouncing: true}
	for _, when := range []string{"2026-11-24T09:00:00Z", "2026-11-24T10:00:00Z"} {
		sum, err := s.Run(context.Background(), at(t, when))
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"2026-11-24T09:00:00Z": 1}[when]; sum.LeadCopies != want || sum.Reminders != want {
			t.Errorf("run at %s: %d copies, %d reminders; want %d each", when, sum.LeadCopies, sum.Reminders, want)
		}
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"bouncing-copy", "contact-reminder"}) {
		t.Fatalf("sent %v, want the reminder and one copy", got)
	}
	if c := mailer.sent[0]; c.CopyOf != email.ContactReminder || c.To[0] != "lead@example.org" || strings.Contains(c.Link, "tok-") || c.MeetBy != (calendar.Date{}) {
		t.Errorf("copy = %+v", c)
	}
}

// TestSweepForgetsOnlyWhatIsNoLongerOwed: of a referral's notices held after an unknown outcome,
// the sweep ends the Due entries of those it no longer owes, and only those.
func TestSweepForgetsOnlyWhatIsNoLongerOwed(t *testing.T) {
	t.Parallel()
	r := assigned(t, "R-GGGGGGGG", "2026-11-25", "2026-12-07") // the contact reminder is due on the 24th
	s, store, mailer, _ := sweepFixture(t, r)
	held := []struct {
		notice Notice
		owed   bool
	}{
		{Notice{Kind: email.Acknowledgement}, true}, // in Due(r) (sent in the fixture: held again here)
		{Notice{Kind: email.ContactReminder}, true}, // due today
		{Notice{Kind: email.ContactReminder, Audience: email.AudienceLead}, true},
		{Notice{Kind: email.Assignment, Audience: email.AudienceLead}, false}, // its original was sent: no copy goes now
		{Notice{Kind: email.Withdrawn, Audience: email.AudienceSpecialist}, false},
		{Notice{Kind: email.ContactOverdue}, false}, // not overdue yet
	}
	var want []string
	for _, h := range held {
		store.records[memKey(r.ID, h.notice)] = "earlier-sender"
		store.held = append(store.held, memKey(r.ID, h.notice))
		if !h.owed {
			want = append(want, memKey(r.ID, h.notice))
		}
	}
	sum, err := s.Run(context.Background(), at(t, "2026-11-24T09:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(store.forgotten)
	if !slices.Equal(store.forgotten, want) {
		t.Errorf("forgot %v, want %v", store.forgotten, want)
	}
	if len(mailer.sent) != 0 || sum.Held != 2 {
		t.Errorf("sent %v, held %d; want nothing sent, the acknowledgement and the reminder held", mailer.kinds(), sum.Held)
	}
}

// inWork is a referral in work whose first job started on 2026-03-03 (a Tuesday): its outcome
// check is due on Tuesday 2026-06-23, 16 weeks on.
func inWork(t *testing.T, id string, more ...referral.Event) referral.Referral {
	t.Helper()
	r := testReferral(referral.StatusInWork, "ann")
	r.ID = id
	r.Events = append([]referral.Event{
		{At: at(t, "2026-01-05T09:00:00Z"), Type: referral.EventAssigned},
		{At: at(t, "2026-01-09T09:00:00Z"), Type: referral.EventMet},
		{At: at(t, "2026-03-05T09:00:00Z"), Type: referral.EventJobStarted, Detail: "start=2026-03-03;hours=16;self-employed=no"},
	}, more...)
	return r
}

// TestSweepSendsTheOutcomeCheckOnce: the outcome check goes once, on the first run 16 weeks after
// the first job start, and then the referral leaves the due list; never before, never once an
// outcome is recorded or the referral closed (those leave the due list, unsent, the first time
// the sweep sees them: the day before, as its horizon is the next working day).
func TestSweepSendsTheOutcomeCheckOnce(t *testing.T) {
	t.Parallel()
	outcome := referral.Event{At: at(t, "2026-06-01T09:00:00Z"), Type: referral.EventOutcome, Detail: "sustained"}
	laterJob := referral.Event{At: at(t, "2026-05-05T09:00:00Z"), Type: referral.EventJobStarted, Detail: "start=2026-05-04;hours=30;self-employed=no"}
	tests := []struct {
		name   string
		r      func(t *testing.T) referral.Referral
		want   []int // outcome checks sent in total after each run
		settle []int // settle calls in total after each run
	}{
		{"in work", func(t *testing.T) referral.Referral { return inWork(t, "R-GGGGGGG1") }, []int{0, 1, 1, 1}, []int{0, 1, 1, 1}},
		{"a later job start moves nothing", func(t *testing.T) referral.Referral { return inWork(t, "R-GGGGGGG2", laterJob) }, []int{0, 1, 1, 1}, []int{0, 1, 1, 1}},
		{"outcome recorded", func(t *testing.T) referral.Referral { return inWork(t, "R-GGGGGGG3", outcome) }, []int{0, 0, 0, 0}, []int{1, 1, 1, 1}},
		{"closed", func(t *testing.T) referral.Referral {
			r := inWork(t, "R-GGGGGGG4", referral.Event{At: at(t, "2026-06-01T09:00:00Z"), Type: referral.EventClosed, Detail: "job-started"})
			r.Status = referral.StatusClosed
			return r
		}, []int{0, 0, 0, 0}, []int{1, 1, 1, 1}},
	}
	runs := []string{"2026-06-22T09:00:00Z", "2026-06-23T07:00:00Z", "2026-06-23T08:00:00Z", "2026-06-24T09:00:00Z"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.r(t)
			s, store, mailer, m := sweepFixture(t, r)
			total := 0
			for i, when := range runs {
				sum, err := s.Run(context.Background(), at(t, when))
				if err != nil {
					t.Fatalf("run at %s: %v", when, err)
				}
				total += sum.OutcomeChecks
				if got := len(mailer.sent); got != tt.want[i] || total != got || m.values["OutcomeChecksSent"] != float64(sum.OutcomeChecks) {
					t.Fatalf("after the run at %s: %d emails (%v), summary total %d, metric %v; want %d", when, got, mailer.kinds(), total, m.values["OutcomeChecksSent"], tt.want[i])
				}
				if got := store.settled[r.ID]; got != tt.settle[i] {
					t.Fatalf("after the run at %s: settled %d times, want %d", when, got, tt.settle[i])
				}
			}
			if tt.want[len(runs)-1] == 0 {
				return
			}
			got := mailer.sent[0]
			if got.Kind != email.OutcomeCheck || !slices.Equal(got.To, []string{"ann@example.org"}) || len(got.Cc) != 0 ||
				got.Link != "https://api.example/referrals/"+r.ID+"?token=tok-"+r.ID+"-ann" ||
				got.JobStart != (calendar.Date{Year: 2026, Month: 3, Day: 3}) || got.PreferredContact != "" || got.ContactBy != (calendar.Date{}) {
				t.Errorf("outcome check = %+v", got)
			}
			if len(store.events) != 1 || store.events[0].Type != referral.EventEmailed || store.events[0].Detail != "outcome-check" || store.events[0].Via != "schedule" {
				t.Errorf("audit events = %+v, want one emailed outcome-check by the schedule", store.events)
			}
		})
	}
}

// TestSweepKeepsAFailedOutcomeCheckDue: an outcome check SES refused stays due (not settled), and
// the next run sends it.
func TestSweepKeepsAFailedOutcomeCheckDue(t *testing.T) {
	t.Parallel()
	r := inWork(t, "R-HHHHHHH1")
	s, store, mailer, _ := sweepFixture(t, r)
	mailer.fail = errors.New("ses down")
	if sum, err := s.Run(context.Background(), at(t, "2026-06-23T09:00:00Z")); err == nil || sum.Failed != 1 || store.settled[r.ID] != 0 {
		t.Fatalf("run with SES down: %+v, %v, settled %d; want an error, one failure, not settled", sum, err, store.settled[r.ID])
	}
	mailer.fail = nil
	sum, err := s.Run(context.Background(), at(t, "2026-06-23T10:00:00Z"))
	if err != nil || sum.OutcomeChecks != 1 || store.settled[r.ID] != 1 {
		t.Fatalf("run after recovery: %+v, %v, settled %d; want one outcome check, settled", sum, err, store.settled[r.ID])
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"outcome-check"}) {
		t.Errorf("sent %v", got)
	}
}
