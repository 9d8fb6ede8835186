package notify

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

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/email"
)

// memStore is an in-memory Store with the same claim rules as the DynamoDB one.
type memStore struct {
	mu        sync.Mutex
	referrals map[string]referral.Referral
	records   map[string]string // id/kind → "claimant" while sending, "sent" once sent
	events    []referral.Event
	held      []string       // claims kept after an unknown outcome
	holdErr   error          // what Hold answers, when set (a store failing between two calls)
	forgotten []string       // Forget calls
	settled   map[string]int // ClearOutcomeCheck calls per referral
}

func (m *memStore) Load(_ context.Context, id string) (referral.Referral, map[Notice]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.referrals[id]
	if !ok {
		return r, nil, referral.Errorf(referral.CodeNotFound, "none")
	}
	sent := map[Notice]bool{}
	for k, v := range m.records {
		if rid, notice, _ := strings.Cut(k, "/"); rid == id {
			kind, audience, _ := strings.Cut(notice, "#")
			sent[Notice{Kind: email.Kind(kind), Audience: email.Audience(audience)}] = v == "sent"
		}
	}
	return r, sent, nil
}

func memKey(id string, n Notice) string {
	if n.Audience == "" {
		return id + "/" + string(n.Kind)
	}
	return id + "/" + string(n.Kind) + "#" + string(n.Audience)
}

func (m *memStore) Claim(_ context.Context, id string, n Notice, claimant string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch v := m.records[memKey(id, n)]; {
	case v == "sent":
		return false, nil
	case slices.Contains(m.held, memKey(id, n)):
		return false, ErrOutcomePending
	case v != "":
		return false, ErrClaimHeld
	}
	m.records[memKey(id, n)] = claimant
	return true, nil
}

func (m *memStore) Confirm(_ context.Context, id string, n Notice, claimant, _ string, e referral.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records[memKey(id, n)] != claimant {
		return errors.New("not my claim")
	}
	m.records[memKey(id, n)] = "sent"
	m.events = append(m.events, e)
	return nil
}

func (m *memStore) Release(_ context.Context, id string, n Notice, claimant string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records[memKey(id, n)] == claimant {
		delete(m.records, memKey(id, n))
	}
	return nil
}

// Hold keeps the claim: in memory nothing expires, so a held notice is never sent again.
func (m *memStore) Hold(_ context.Context, r referral.Referral, n Notice, claimant string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.holdErr != nil {
		return m.holdErr
	}
	if m.records[memKey(r.ID, n)] != claimant {
		return errors.New("not my claim")
	}
	m.held = append(m.held, memKey(r.ID, n))
	return nil
}

// Forget counts the calls: a held record keeps its claim.
func (m *memStore) Forget(_ context.Context, id string, n Notice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgotten = append(m.forgotten, memKey(id, n))
	return nil
}

// ClearOutcomeCheck counts the calls: fakeDue then no longer lists the referral for its outcome check.
func (m *memStore) ClearOutcomeCheck(_ context.Context, r referral.Referral) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.settled == nil {
		m.settled = map[string]int{}
	}
	m.settled[r.ID]++
	return nil
}

type fakeMailer struct {
	mu   sync.Mutex
	fail error
	sent []email.Message
}

func (f *fakeMailer) Send(_ context.Context, m email.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	// Every message the notifier builds must be one the email package will render.
	if _, err := email.Render(m); err != nil {
		return "", err
	}
	f.sent = append(f.sent, m)
	return "msg-" + string(m.Kind), nil
}

func (f *fakeMailer) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		out = append(out, string(m.Kind))
	}
	slices.Sort(out)
	return out
}

type fakePeople struct{ noLead, bouncing bool }

func (f fakePeople) Specialist(_ context.Context, area, id string) (directory.Specialist, error) {
	return directory.Specialist{ID: id, AreaID: area, Name: "Ann Spec", Email: id + "@example.org", Active: true, Bouncing: f.bouncing}, nil
}

func (f fakePeople) AreaContacts(_ context.Context, id string) (directory.Area, error) {
	a := directory.Area{ID: id, Name: "South Yorkshire"}
	if !f.noLead {
		a.Lead = directory.Person{Name: "Lee Lead", Email: "lead@example.org"}
	}
	return a, nil
}

type fakeLinks struct{}

func (fakeLinks) Sign(id, specialist string, exp time.Time) string {
	return "tok-" + id + "-" + specialist
}

func (fakeLinks) Issue(c signedlink.Claim, exp time.Time) string {
	return fmt.Sprintf("ref-%d-%s-%s", c.Role, c.Subject, c.Binding)
}

func testReferral(status referral.Status, specialist string) referral.Referral {
	return referral.Referral{
		ID: "R-7K3M9QX2", Area: "south-yorkshire", Status: status, SpecialistID: specialist,
		ContactBy: calendar.Date{Year: 2026, Month: 11, Day: 25}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 7},
		Submission: referral.Submission{
			Patient:  referral.Patient{GivenName: "Sam", FamilyName: "taylor", NHSNumber: "9434765919", DateOfBirth: "1988-02-29", Phone: "+447700900123", Email: "sam@example.com", PreferredContact: "phone"},
			Referrer: referral.Referrer{Name: "Dr Priya Shah", Email: "Priya.Shah@nhs.net"},
			Notes:    "private notes", HealthConditions: []string{"mental-health"},
		},
	}
}

func newNotifier(store *memStore, mailer *fakeMailer, people fakePeople) *Notifier {
	return &Notifier{Store: store, People: people, Mailer: mailer, Links: fakeLinks{}, BaseURL: "https://api.example", LinkTTL: time.Hour, Via: "stream",
		Now: func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }}
}

func TestDue(t *testing.T) {
	tests := []struct {
		status     referral.Status
		specialist string
		events     []string
		want       []Notice
	}{
		{referral.StatusAssigned, "ann", nil, []Notice{{Kind: email.Acknowledgement}, {Kind: email.Assignment}}},
		{referral.StatusWaitlisted, "", nil, []Notice{{Kind: email.Acknowledgement}, {Kind: email.Waitlisted}}},
		{referral.StatusContacted, "ann", []string{referral.EventContacted}, []Notice{{Kind: email.Acknowledgement}, {Kind: email.Assignment}}},
		{referral.StatusEngaged, "ann", []string{referral.EventContacted, referral.EventMet},
			[]Notice{{Kind: email.Acknowledgement}, {Kind: email.Assignment}, {Kind: email.StartedSupport, Audience: email.AudienceReferrer}}},
		{referral.StatusClosed, "ann", nil, []Notice{{Kind: email.Acknowledgement}, {Kind: email.Closed, Audience: email.AudienceReferrer}}},
		{referral.StatusClosed, "ann", []string{referral.EventMet, referral.EventClosed},
			[]Notice{{Kind: email.Acknowledgement}, {Kind: email.StartedSupport, Audience: email.AudienceReferrer}, {Kind: email.Closed, Audience: email.AudienceReferrer}}},
		{referral.StatusWithdrawn, "ann", []string{referral.EventWithdrawn},
			[]Notice{{Kind: email.Withdrawn, Audience: email.AudienceSpecialist}, {Kind: email.Withdrawn, Audience: email.AudienceReferrer}}},
		{referral.StatusWithdrawn, "", []string{referral.EventWithdrawn}, []Notice{{Kind: email.Withdrawn, Audience: email.AudienceReferrer}}},
	}
	for _, tt := range tests {
		r := testReferral(tt.status, tt.specialist)
		for _, e := range tt.events {
			r.Events = append(r.Events, referral.Event{Type: e})
		}
		if got := Due(r); !slices.Equal(got, tt.want) {
			t.Errorf("Due(%s) = %v, want %v", tt.status, got, tt.want)
		}
	}
}

func TestReferralSendsEachKindOnce(t *testing.T) {
	t.Parallel()
	r := testReferral(referral.StatusAssigned, "ann")
	store := &memStore{referrals: map[string]referral.Referral{r.ID: r}, records: map[string]string{}}
	mailer := &fakeMailer{}
	n := newNotifier(store, mailer, fakePeople{})
	for range 3 { // a retried batch, an audit-event MODIFY, a duplicate delivery
		if err := n.Referral(context.Background(), r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"acknowledgement", "assignment"}) {
		t.Fatalf("sent %v, want one acknowledgement and one assignment", got)
	}
	for _, m := range mailer.sent {
		switch m.Kind {
		case email.Assignment:
			if m.To[0] != "ann@example.org" || m.Link != "https://api.example/referrals/R-7K3M9QX2?token=tok-R-7K3M9QX2-ann" || m.PatientInitial != "T" || m.ContactBy.Day != 25 {
				t.Errorf("assignment = %+v", m)
			}
		case email.Acknowledgement:
			if m.To[0] != "Priya.Shah@nhs.net" || m.Link != "https://api.example/referrals/R-7K3M9QX2/status?token=ref-2-R-7K3M9QX2-priya.shah@nhs.net" {
				t.Errorf("acknowledgement = %+v (want the referrer's link, bound to the lower-cased email)", m)
			}
		}
	}
	if len(store.events) != 2 || store.events[0].Type != referral.EventEmailed || store.events[0].Via != "stream" {
		t.Errorf("audit events = %+v", store.events)
	}
}

func TestSendFailureReleasesTheClaimForARetry(t *testing.T) {
	t.Parallel()
	r := testReferral(referral.StatusWaitlisted, "")
	store := &memStore{referrals: map[string]referral.Referral{r.ID: r}, records: map[string]string{}}
	mailer := &fakeMailer{fail: errors.New("connection refused")}
	n := newNotifier(store, mailer, fakePeople{})
	if err := n.Referral(context.Background(), r.ID); err == nil {
		t.Fatal("want an error while SES is down")
	}
	if len(store.records) != 0 {
		t.Fatalf("claims left behind: %v", store.records)
	}
	mailer.fail = nil
	if err := n.Referral(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"acknowledgement", "waitlisted"}) {
		t.Errorf("after recovery sent %v", got)
	}
	if mailer.sent[0].To[0] != "lead@example.org" && mailer.sent[1].To[0] != "lead@example.org" {
		t.Errorf("waitlisted email not to the lead: %+v", mailer.sent)
	}
}

func withEvents(r referral.Referral, types ...string) referral.Referral {
	for _, typ := range types {
		r.Events = append(r.Events, referral.Event{Type: typ, By: "ann"})
	}
	return r
}

func withDetail(r referral.Referral, typ, detail string) referral.Referral {
	r.Events = append(r.Events, referral.Event{Type: typ, Detail: detail})
	return r
}

// erased is r as entered-in-error leaves it: the given name's initial and nothing else.
func erased(r referral.Referral) referral.Referral {
	r.Patient = referral.Patient{GivenName: "S"}
	r.Notes, r.HealthConditions = "", nil
	return r
}

// TestUnknownOutcomeKeepsTheClaim: a send that may have gone out is neither released nor sent
// again, while a refused one is released and retried (TestSendFailureReleasesTheClaimForARetry).
func TestUnknownOutcomeKeepsTheClaim(t *testing.T) {
	t.Parallel()
	r := testReferral(referral.StatusAssigned, "ann")
	store := &memStore{referrals: map[string]referral.Referral{r.ID: r}, records: map[string]string{}}
	mailer := &fakeMailer{fail: fmt.Errorf("send: %w", ErrOutcomeUnknown)}
	n := newNotifier(store, mailer, fakePeople{})
	if err := n.Referral(context.Background(), r.ID); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if len(store.held) != 2 || len(store.records) != 2 {
		t.Fatalf("held %v, records %v: want both claims kept", store.held, store.records)
	}
	mailer.fail = nil
	for range 3 {
		if err := n.Referral(context.Background(), r.ID); !errors.Is(err, ErrOutcomePending) {
			t.Fatalf("retry err = %v, want ErrOutcomePending", err)
		}
	}
	// The stream does not retry a record whose emails are only held: it could not send them.
	h := &StreamHandler{Notify: n, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
	res, _ := h.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record("1", "MODIFY", "REFERRAL#"+r.ID, "#REFERRAL")}})
	if len(res.BatchItemFailures) != 0 {
		t.Errorf("batch item failures = %v, want none for held emails", res.BatchItemFailures)
	}
	if len(mailer.sent) != 0 {
		t.Errorf("sent %d emails again within the hold", len(mailer.sent))
	}
}

// TestUnrecordedHoldFailsTheRecord: an unknown outcome whose hold could not be stored has
// nothing to bring the notice back once the claim lapses (no redrive entry), so it is a batch
// failure the stream retries, not a held outcome.
func TestUnrecordedHoldFailsTheRecord(t *testing.T) {
	t.Parallel()
	r := testReferral(referral.StatusWaitlisted, "")
	store := &memStore{referrals: map[string]referral.Referral{r.ID: r}, records: map[string]string{}, holdErr: errors.New("throttled")}
	mailer := &fakeMailer{fail: fmt.Errorf("send: %w", ErrOutcomeUnknown)}
	n := newNotifier(store, mailer, fakePeople{})
	err := n.Referral(context.Background(), r.ID)
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want a failure that is not only an unknown outcome", err)
	}
	h := &StreamHandler{Notify: n, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
	res, _ := h.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record("1", "MODIFY", "REFERRAL#"+r.ID, "#REFERRAL")}})
	if len(res.BatchItemFailures) != 1 || res.BatchItemFailures[0].ItemIdentifier != "1" {
		t.Errorf("batch item failures = %v, want the record", res.BatchItemFailures)
	}
}

func TestSendRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		r       referral.Referral
		notice  Notice
		people  fakePeople
		held    bool
		wantErr bool
		check   func(t *testing.T, m email.Message)
	}{
		{name: "overdue copies the lead", r: testReferral(referral.StatusAssigned, "ann"), notice: Notice{Kind: email.ContactOverdue}, check: func(t *testing.T, m email.Message) {
			if m.To[0] != "ann@example.org" || len(m.Cc) != 1 || m.Cc[0] != "lead@example.org" || m.Link != "" {
				t.Errorf("to %v cc %v link %q: want the lead copied and no link (a link acts as the specialist)", m.To, m.Cc, m.Link)
			}
		}},
		{name: "reminder has no cc", r: testReferral(referral.StatusAssigned, "ann"), notice: Notice{Kind: email.ContactReminder}, check: func(t *testing.T, m email.Message) {
			if len(m.Cc) != 0 || m.Link == "" {
				t.Errorf("cc %v link %q", m.Cc, m.Link)
			}
		}},
		{name: "waitlisted with no lead fails loudly", r: testReferral(referral.StatusWaitlisted, ""), notice: Notice{Kind: email.Waitlisted}, people: fakePeople{noLead: true}, wantErr: true},
		{name: "escalation with no lead fails loudly", r: testReferral(referral.StatusAssigned, "ann"), notice: Notice{Kind: email.MeetingOverdue}, people: fakePeople{noLead: true}, wantErr: true},
		{name: "specialist email without a specialist fails", r: testReferral(referral.StatusWaitlisted, ""), notice: Notice{Kind: email.Assignment}, wantErr: true},
		{name: "escalation counts contact attempts", r: withEvents(testReferral(referral.StatusAssigned, "ann"), referral.EventAttempted, referral.EventAttempted, referral.EventAttempted),
			notice: Notice{Kind: email.ContactOverdue}, check: func(t *testing.T, m email.Message) {
				if m.Attempts != 3 {
					t.Errorf("attempts = %d, want 3", m.Attempts)
				}
			}},
		{name: "started support to the referrer", r: withEvents(testReferral(referral.StatusEngaged, "ann"), referral.EventMet),
			notice: Notice{Kind: email.StartedSupport, Audience: email.AudienceReferrer}, check: func(t *testing.T, m email.Message) {
				if m.To[0] != "Priya.Shah@nhs.net" || m.Link != "" || m.PreferredContact != "" || m.Audience != "" {
					t.Errorf("started-support = %+v: want to the referrer, no link, no contact method", m)
				}
			}},
		{name: "closed says the reason", r: withDetail(testReferral(referral.StatusClosed, "ann"), referral.EventClosed, "unreachable"),
			notice: Notice{Kind: email.Closed, Audience: email.AudienceReferrer}, check: func(t *testing.T, m email.Message) {
				if m.To[0] != "Priya.Shah@nhs.net" || m.Reason != "unreachable" || m.Link != "" {
					t.Errorf("closed = %+v", m)
				}
			}},
		{name: "withdrawn tells the specialist not to contact", r: withDetail(testReferral(referral.StatusWithdrawn, "ann"), referral.EventWithdrawn, "revoked"),
			notice: Notice{Kind: email.Withdrawn, Audience: email.AudienceSpecialist}, check: func(t *testing.T, m email.Message) {
				if m.To[0] != "ann@example.org" || m.Reason != "revoked" || m.Link != "" || m.PreferredContact != "" || m.Audience != email.AudienceSpecialist {
					t.Errorf("withdrawn = %+v: want to the specialist, no link, no contact method", m)
				}
			}},
		{name: "withdrawn in error confirms to the referrer with what is left of the name", r: erased(withDetail(testReferral(referral.StatusWithdrawn, "ann"), referral.EventWithdrawn, "entered-in-error")),
			notice: Notice{Kind: email.Withdrawn, Audience: email.AudienceReferrer}, check: func(t *testing.T, m email.Message) {
				if m.To[0] != "Priya.Shah@nhs.net" || m.PatientName() != "S." || m.Reason != "entered-in-error" {
					t.Errorf("withdrawn = %+v, patient %q: want to the referrer, naming S.", m, m.PatientName())
				}
			}},
		{name: "withdrawn with no specialist has nobody to tell", r: testReferral(referral.StatusWithdrawn, ""), notice: Notice{Kind: email.Withdrawn, Audience: email.AudienceSpecialist}, wantErr: true},
		{name: "claim held elsewhere is retried later", r: testReferral(referral.StatusAssigned, "ann"), notice: Notice{Kind: email.Assignment}, held: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &memStore{referrals: map[string]referral.Referral{tt.r.ID: tt.r}, records: map[string]string{}}
			if tt.held {
				store.records[memKey(tt.r.ID, tt.notice)] = "someone-else"
			}
			mailer := &fakeMailer{}
			err := newNotifier(store, mailer, tt.people).Send(context.Background(), tt.r, tt.notice)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if len(mailer.sent) != 0 {
					t.Errorf("sent %d emails despite the error", len(mailer.sent))
				}
				return
			}
			if len(mailer.sent) != 1 {
				t.Fatalf("sent %d", len(mailer.sent))
			}
			tt.check(t, mailer.sent[0])
		})
	}
}

type fakeReferralNotifier struct {
	mu    sync.Mutex
	fail  map[string]bool
	hang  map[string]bool // blocks until the context ends, like a hung DynamoDB call
	calls []string
}

func (f *fakeReferralNotifier) Referral(ctx context.Context, id string) error {
	if f.hang[id] {
		<-ctx.Done()
		return ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, id)
	if f.fail[id] {
		return errors.New("ses down")
	}
	return nil
}

func TestStreamHandlerBoundsEachReferral(t *testing.T) {
	t.Parallel()
	f := &fakeReferralNotifier{hang: map[string]bool{"R-BBBBBBBB": true}}
	h := &StreamHandler{Notify: f, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)), Workers: 2, PerReferral: 50 * time.Millisecond}
	start := time.Now()
	res, _ := h.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record("1", "INSERT", "REFERRAL#R-AAAAAAAA", "#REFERRAL"),
		record("2", "INSERT", "REFERRAL#R-BBBBBBBB", "#REFERRAL"),
	}})
	if time.Since(start) > 5*time.Second {
		t.Fatal("a hung referral held the batch")
	}
	if len(res.BatchItemFailures) != 1 || res.BatchItemFailures[0].ItemIdentifier != "2" || len(f.calls) != 1 {
		t.Errorf("failures %v, calls %v: want the hung record reported and the other delivered", res.BatchItemFailures, f.calls)
	}
}

func record(seq, event, pk, sk string) events.DynamoDBEventRecord {
	return events.DynamoDBEventRecord{EventName: event, Change: events.DynamoDBStreamRecord{
		SequenceNumber: seq,
		Keys:           map[string]events.DynamoDBAttributeValue{"pk": events.NewStringAttribute(pk), "sk": events.NewStringAttribute(sk)},
	}}
}

func TestStreamHandler(t *testing.T) {
	t.Parallel()
	batch := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record("1", "INSERT", "REFERRAL#R-AAAAAAAA", "#REFERRAL"),
		record("2", "INSERT", "OPEN#south-yorkshire#9434765919", "#OPEN"),
		record("3", "MODIFY", "REFERRAL#R-AAAAAAAA", "#REFERRAL"),
		record("4", "INSERT", "REFERRAL#R-BBBBBBBB", "NOTIFIED#assignment"),
		record("5", "REMOVE", "REFERRAL#R-CCCCCCCC", "#REFERRAL"),
		record("6", "INSERT", "REFERRAL#R-DDDDDDDD", "#REFERRAL"),
		record("7", "INSERT", "REFERRAL#R-EEEEEEEE", "#REFERRAL"),
	}}
	tests := []struct {
		name      string
		fail      map[string]bool
		wantCalls []string
		wantFail  []string
	}{
		{name: "all delivered, each referral once, other items skipped", wantCalls: []string{"R-AAAAAAAA", "R-DDDDDDDD", "R-EEEEEEEE"}},
		{name: "tries every referral and reports the earliest failure", fail: map[string]bool{"R-DDDDDDDD": true}, wantCalls: []string{"R-AAAAAAAA", "R-DDDDDDDD", "R-EEEEEEEE"}, wantFail: []string{"6"}},
		{name: "several failures: Lambda retries from the earliest", fail: map[string]bool{"R-EEEEEEEE": true, "R-AAAAAAAA": true}, wantCalls: []string{"R-AAAAAAAA", "R-DDDDDDDD", "R-EEEEEEEE"}, wantFail: []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeReferralNotifier{fail: tt.fail}
			var logs bytes.Buffer
			h := &StreamHandler{Notify: f, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Workers: 4}
			res, err := h.Handle(context.Background(), batch)
			if err != nil {
				t.Fatalf("Handle returned %v; stream handlers report batch item failures instead", err)
			}
			slices.Sort(f.calls) // handled concurrently: each referral once, in any order
			if !slices.Equal(f.calls, tt.wantCalls) {
				t.Errorf("notified %v, want %v", f.calls, tt.wantCalls)
			}
			var failed []string
			for _, bf := range res.BatchItemFailures {
				failed = append(failed, bf.ItemIdentifier)
			}
			if !slices.Equal(failed, tt.wantFail) {
				t.Errorf("batch item failures %v, want %v", failed, tt.wantFail)
			}
		})
	}
}

// TestBouncingSpecialistCopiesTheLead: while the specialist's address bounces, each email meant
// for them also goes to the lead as a separate copy, once, sent before the original, naming the
// specialist and carrying the lead's worklist link but never the specialist's link.
func TestBouncingSpecialistCopiesTheLead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		r         referral.Referral
		bouncing  bool
		wantKinds []string
		copyOf    email.Kind
	}{
		{"assignment, bouncing", testReferral(referral.StatusAssigned, "ann"), true, []string{"acknowledgement", "assignment", "bouncing-copy"}, email.Assignment},
		{"assignment, not bouncing", testReferral(referral.StatusAssigned, "ann"), false, []string{"acknowledgement", "assignment"}, ""},
		{"waitlisted: no specialist", testReferral(referral.StatusWaitlisted, ""), true, []string{"acknowledgement", "waitlisted"}, ""},
		{"withdrawn: the do-not-contact email", withDetail(testReferral(referral.StatusWithdrawn, "ann"), referral.EventWithdrawn, "revoked"), true,
			[]string{"bouncing-copy", "withdrawn", "withdrawn"}, email.Withdrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := &memStore{referrals: map[string]referral.Referral{tt.r.ID: tt.r}, records: map[string]string{}}
			mailer := &fakeMailer{}
			n := newNotifier(store, mailer, fakePeople{bouncing: tt.bouncing})
			for range 2 { // a retried stream record sends nothing twice
				if err := n.Referral(context.Background(), tt.r.ID); err != nil {
					t.Fatal(err)
				}
			}
			if got := mailer.kinds(); !slices.Equal(got, tt.wantKinds) {
				t.Fatalf("sent %v, want %v", got, tt.wantKinds)
			}
			for i, m := range mailer.sent {
				if m.Kind != email.BouncingCopy {
					continue
				}
				if m.To[0] != "lead@example.org" || m.CopyOf != tt.copyOf || m.SpecialistName != "Ann Spec" || len(m.Cc) != 0 {
					t.Errorf("copy = %+v: want to the lead, copying %s, naming the specialist", m, tt.copyOf)
				}
				if strings.Contains(m.Link, "tok-") || !strings.Contains(m.Link, "/areas/south-yorkshire/worklist?token=") {
					t.Errorf("copy link = %q: want the lead's worklist link, never the specialist's", m.Link)
				}
				if i+1 >= len(mailer.sent) || mailer.sent[i+1].Kind != tt.copyOf || mailer.sent[i+1].To[0] != "ann@example.org" {
					t.Errorf("the copy was not followed by the original: %+v", mailer.sent)
				}
			}
		})
	}
}

// TestBouncingCopyFailureHoldsTheOriginal: when the lead's copy cannot be sent, the original waits
// too, so a retry sends both (never the original alone, which would leave the copy unsent).
func TestBouncingCopyFailureHoldsTheOriginal(t *testing.T) {
	t.Parallel()
	r := testReferral(referral.StatusAssigned, "ann")
	store := &memStore{referrals: map[string]referral.Referral{r.ID: r}, records: map[string]string{}}
	mailer := &fakeMailer{fail: errors.New("ses down")}
	n := newNotifier(store, mailer, fakePeople{bouncing: true})
	if err := n.Referral(context.Background(), r.ID); err == nil {
		t.Fatal("want an error while SES is down")
	}
	if len(store.records) != 0 {
		t.Fatalf("claims left behind: %v", store.records)
	}
	mailer.fail = nil
	if err := n.Referral(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := mailer.kinds(); !slices.Equal(got, []string{"acknowledgement", "assignment", "bouncing-copy"}) {
		t.Errorf("after recovery sent %v", got)
	}
}

// countingPeople counts the directory reads behind fakePeople.
type countingPeople struct {
	fakePeople
	areas, specialists int
}

func (c *countingPeople) Specialist(ctx context.Context, area, id string) (directory.Specialist, error) {
	c.specialists++
	return c.fakePeople.Specialist(ctx, area, id)
}

func (c *countingPeople) AreaContacts(ctx context.Context, id string) (directory.Area, error) {
	c.areas++
	return c.fakePeople.AreaContacts(ctx, id)
}

func TestReferralReadsTheDirectoryOncePerRecord(t *testing.T) {
	t.Parallel()
	r := testReferral(referral.StatusAssigned, "ann")
	store := &memStore{referrals: map[string]referral.Referral{r.ID: r}, records: map[string]string{}}
	mailer := &fakeMailer{}
	people := &countingPeople{fakePeople: fakePeople{bouncing: true}}
	n := newNotifier(store, mailer, fakePeople{})
	n.People = people
	if err := n.Referral(context.Background(), r.ID); err != nil {
		t.Fatal(err)
	}
	// The acknowledgement, the lead's copy and the assignment: three emails, one area and one
	// specialist read.
	if got := mailer.kinds(); len(got) != 3 {
		t.Fatalf("sent %v, want the acknowledgement, the lead's copy and the assignment", got)
	}
	if people.areas != 1 || people.specialists != 1 {
		t.Errorf("read the area %d times and the specialist %d times, want once each", people.areas, people.specialists)
	}
}
