package actions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

const (
	refID      = "R-7K3M9QX2"
	unknownID  = "R-ZZZZ2222"
	testSecret = "test-only-secret-0123456789-abcdef"
)

var (
	testNow   = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	validTill = testNow.Add(30 * 24 * time.Hour)
)

// memoryStore is a hand-written fake of the referral store: referrals in a map, conditional
// writes checked the way DynamoDB's conditions check them, and every write recorded.
type memoryStore struct {
	mu        sync.Mutex
	referrals map[string]referral.Referral
	getErr    error
	writes    []string
}

var _ referral.ProgressStore = (*memoryStore)(nil)

func (m *memoryStore) Get(_ context.Context, id string) (referral.Referral, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return referral.Referral{}, m.getErr
	}
	r, ok := m.referrals[id]
	if !ok {
		return referral.Referral{}, referral.Errorf(referral.CodeNotFound, "no such referral")
	}
	r.Events = slices.Clone(r.Events)
	return r, nil
}

func (m *memoryStore) write(method string, read referral.Referral, e referral.Event, to referral.Status, from ...referral.Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes = append(m.writes, method)
	cur, ok := m.referrals[read.ID]
	if !ok || !slices.Contains(from, cur.Status) || cur.SpecialistID != read.SpecialistID {
		return referral.ErrChanged
	}
	cur.Status, cur.Events = to, append(slices.Clone(cur.Events), e)
	m.referrals[read.ID] = cur
	return nil
}

func (m *memoryStore) RecordContact(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("contact", r, t.Event, t.Referral.Status, r.Status)
}

func (m *memoryStore) RecordMeeting(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("meeting", r, t.Event, t.Referral.Status, r.Status)
}

func (m *memoryStore) RecordAttempt(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("attempt", r, t.Event, t.Referral.Status, referral.StatusAssigned)
}

func (m *memoryStore) RecordEmployerContact(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("employer-contact", r, t.Event, t.Referral.Status, r.Status)
}

func (m *memoryStore) RecordJobStart(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("job-start", r, t.Event, t.Referral.Status, r.Status)
}

func (m *memoryStore) RecordOutcome(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("outcome", r, t.Event, t.Referral.Status, r.Status)
}

func (m *memoryStore) Close(_ context.Context, r referral.Referral, t referral.Transition) error {
	return m.write("close", r, t.Event, t.Referral.Status, referral.StatusAssigned, referral.StatusContacted, referral.StatusEngaged)
}

type fakeDrain struct {
	err   error
	areas []string
}

func (f *fakeDrain) Drain(_ context.Context, area string) error {
	f.areas = append(f.areas, area)
	return f.err
}

// patientData is every patient and referrer detail of the test referral, none of which may ever
// reach a log line.
var patientData = []string{"Sam", "Taylor", "1988-02-29", "9434765919", "943 476 5919", "S1 2HH", "+447700900123", "07700",
	"sam.taylor@example.com", "Dr Priya", "priya.shah@nhs.net", "C88038", "afternoon"}

func storedReferral(status referral.Status, specialist string) referral.Referral {
	received := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return referral.Referral{
		ID: refID, Area: "south-yorkshire", Status: status, SpecialistID: specialist, ReceivedAt: received,
		ContactBy: calendar.Date{Year: 2026, Month: 11, Day: 25}, MeetBy: calendar.Date{Year: 2026, Month: 12, Day: 7},
		Submission: referral.Submission{
			Patient: referral.Patient{GivenName: "Sam", FamilyName: "Taylor", DateOfBirth: "1988-02-29", NHSNumber: "9434765919",
				Postcode: "S1 2HH", Phone: "+447700900123", Email: "sam.taylor@example.com", PreferredContact: "phone"},
			Referrer:         referral.Referrer{Name: "Dr Priya Shah", PracticeCode: "C88038", Email: "priya.shah@nhs.net"},
			EmploymentStatus: "unemployed", HealthConditions: []string{"mental-health"}, Consent: true,
			Notes: "Prefers afternoon calls.",
		},
		Events: []referral.Event{
			{At: received, Type: referral.EventReceived, By: referral.System, Via: "form"},
			{At: received, Type: referral.EventAssigned, By: referral.System, Via: "intake"},
		},
	}
}

func newSigner(t *testing.T) *signedlink.Signer {
	t.Helper()
	s, err := signedlink.NewSigner([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type harness struct {
	h     *Handler
	store *memoryStore
	drain *fakeDrain
	logs  *bytes.Buffer
}

func newHarness(t *testing.T, stored ...referral.Referral) harness {
	t.Helper()
	store := &memoryStore{referrals: map[string]referral.Referral{}}
	for _, r := range stored {
		store.referrals[r.ID] = r
	}
	drain := &fakeDrain{}
	logs := &bytes.Buffer{}
	h := &Handler{
		Links:    newSigner(t),
		Progress: &referral.Progress{Store: store, Drain: drain, Now: func() time.Time { return testNow }},
		Log:      slog.New(slog.NewJSONHandler(logs, nil)),
		Now:      func() time.Time { return testNow },
		Budget:   time.Second,
	}
	return harness{h: h, store: store, drain: drain, logs: logs}
}

// loadEvent reads a fixture and puts token in place of __TOKEN__.
func loadEvent(t *testing.T, name, token string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	b = bytes.ReplaceAll(b, []byte("__TOKEN__"), []byte(token))
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return req
}

func (hs harness) do(t *testing.T, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	res, err := hs.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	return res
}

// logLines decodes the handler's log, one JSON object a line.
func (hs harness) logLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(hs.logs.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestHandle(t *testing.T) {
	t.Parallel()
	signer := newSigner(t)
	valid := signer.Sign(refID, "ann", validTill)
	tests := []struct {
		name        string
		fixture     string
		token       string
		edit        func(*events.APIGatewayV2HTTPRequest)
		stored      []referral.Referral
		getErr      error
		drainErr    error
		wantStatus  int
		wantBody    []string
		notBody     []string
		wantWrites  []string
		wantDrained bool
		wantOutcome string
		wantLog     map[string]any // further attributes of the log line
		wantHeader  map[string]string
	}{
		{name: "details page with three forms and the token", fixture: "get-referral.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Referral R-7K3M9QX2", "Sam Taylor", "943 476 5919", "Mental health condition", "Prefers afternoon calls.",
				`action="/referrals/R-7K3M9QX2/contact"`, `action="/referrals/R-7K3M9QX2/meeting"`, `action="/referrals/R-7K3M9QX2/close"`,
				`<input type="hidden" name="token" value="` + valid + `">`, `name="reason"`, "Referral received from the online form"},
			wantOutcome: "shown", wantLog: map[string]any{"referralId": refID, "referralStatus": "assigned"}},
		{name: "token may come in a form-style query for GET too", fixture: "get-referral.json", token: valid,
			edit:   func(r *events.APIGatewayV2HTTPRequest) { r.QueryStringParameters = nil },
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK, wantOutcome: "shown"},
		{name: "tampered token", fixture: "get-referral.json", token: tamper(valid),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden,
			wantBody: []string{"You cannot use this link"}, notBody: []string{"Sam"}, wantOutcome: "invalid-link"},
		{name: "expired token", fixture: "get-referral.json", token: signer.Sign(refID, "ann", testNow.Add(-time.Hour)),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden,
			wantBody: []string{"This link has expired"}, notBody: []string{"Sam"}, wantOutcome: "expired-link"},
		{name: "token for another referral", fixture: "get-referral.json", token: signer.Sign(unknownID, "ann", validTill),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden, wantOutcome: "invalid-link"},
		{name: "token signed with another secret", fixture: "get-referral.json", token: otherSigner(t).Sign(refID, "ann", validTill),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden, wantOutcome: "invalid-link"},
		{name: "no token", fixture: "get-referral.json", token: "",
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden, wantOutcome: "invalid-link"},
		{name: "token for another specialist (reassigned)", fixture: "get-referral.json", token: signer.Sign(refID, "bob", validTill),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden,
			wantBody: []string{"You cannot use this link"}, notBody: []string{"Sam"}, wantOutcome: "forbidden"},
		{name: "waitlisted referral opens for nobody", fixture: "get-referral.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusWaitlisted, "")}, wantStatus: http.StatusForbidden, wantOutcome: "forbidden"},
		{name: "malformed id", fixture: "get-referral-malformed-id.json", token: valid, wantStatus: http.StatusNotFound,
			wantBody: []string{"Page not found"}, wantOutcome: "not-found"},
		{name: "unknown id with a valid token", fixture: "get-referral-unknown.json", token: signer.Sign(unknownID, "ann", validTill),
			wantStatus: http.StatusNotFound, wantBody: []string{"Page not found"}, wantOutcome: "not-found"},
		{name: "store down", fixture: "get-referral.json", token: valid, getErr: errors.New("connection refused"),
			wantStatus: http.StatusServiceUnavailable, wantOutcome: "unavailable", wantHeader: map[string]string{"Retry-After": "5"}},

		{name: "contact", fixture: "post-contact.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Contact recorded", "Monday 7 December 2026", `href="/referrals/R-7K3M9QX2?token=` + valid + `"`}, notBody: []string{"Sam"},
			wantWrites: []string{"contact"}, wantOutcome: "recorded", wantLog: map[string]any{"action": "contact", "referralStatus": "contacted"}},
		{name: "meeting", fixture: "post-meeting.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusContacted, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"First meeting recorded"}, wantWrites: []string{"meeting"}, wantOutcome: "recorded"},
		{name: "meeting again is already recorded", fixture: "post-meeting.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusEngaged, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"First meeting already recorded", "Nothing has been changed"}, wantOutcome: "already-recorded"},
		{name: "close drains the waitlist", fixture: "post-close.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusEngaged, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Referral closed", "Started a job"}, wantWrites: []string{"close"}, wantDrained: true, wantOutcome: "recorded"},
		{name: "a failed drain is logged, not shown", fixture: "post-close.json", token: valid, drainErr: errors.New("throttled"),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Referral closed"}, wantWrites: []string{"close"}, wantDrained: true, wantOutcome: "recorded",
			wantLog: map[string]any{"level": "WARN"}},
		{name: "close needs a reason", fixture: "post-close-no-reason.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusBadRequest,
			wantBody: []string{"There is a problem", `href="#reason"`, "Select why you are closing this referral", "Error: Referral R-7K3M9QX2",
				`<input type="hidden" name="token" value="` + valid + `">`},
			wantOutcome: "invalid"},
		{name: "close again without a reason is already recorded", fixture: "post-close-no-reason.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusClosed, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Referral already closed"}, wantOutcome: "already-recorded"},
		{name: "close with an unknown reason", fixture: "post-close.json", token: valid,
			edit:   func(r *events.APIGatewayV2HTTPRequest) { r.Body = "token=" + valid + "&reason=bored" },
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusBadRequest,
			wantBody: []string{`href="#reason"`}, wantOutcome: "invalid"},
		{name: "contact attempt by letter", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.RawPath, r.Body = "/referrals/"+refID+"/attempt", "token="+valid+"&method=letter"
			},
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Contact attempt recorded", "Letter on"}, notBody: []string{"Sam"},
			wantWrites: []string{"attempt"}, wantOutcome: "recorded", wantLog: map[string]any{"action": "attempt", "referralStatus": "assigned"}},
		{name: "contact attempt with an unknown method", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.RawPath, r.Body = "/referrals/"+refID+"/attempt", "token="+valid+"&method=pigeon"
			},
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusBadRequest,
			wantBody: []string{"There is a problem", `href="#method"`, "Select how you tried to contact the patient"}, wantOutcome: "invalid"},
		{name: "contact attempt after contact", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.RawPath, r.Body = "/referrals/"+refID+"/attempt", "token="+valid+"&method=phone"
			},
			stored: []referral.Referral{storedReferral(referral.StatusContacted, "ann")}, wantStatus: http.StatusConflict,
			wantBody: []string{"the employment specialist has reached the patient"}, wantOutcome: "conflict"},
		{name: "GET on the attempt action", fixture: "get-referral.json", token: valid,
			edit:   func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/referrals/" + refID + "/attempt" },
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "POST"}, wantOutcome: "method-not-allowed"},
		{name: "GET on the job-start action", fixture: "get-referral.json", token: valid,
			edit:   func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/referrals/" + refID + "/job-start" },
			stored: []referral.Referral{storedReferral(referral.StatusEngaged, "ann")}, wantStatus: http.StatusMethodNotAllowed,
			wantHeader: map[string]string{"Allow": "POST"}, wantOutcome: "method-not-allowed"},
		{name: "job start from the page's date input", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.RawPath = "/referrals/" + refID + "/job-start"
				r.Body = "token=" + valid + "&startDate-day=23&startDate-month=11&startDate-year=2026&hoursPerWeek=16&selfEmployed=no"
			},
			stored: []referral.Referral{storedReferral(referral.StatusEngaged, "ann")}, wantStatus: http.StatusOK,
			wantBody: []string{"Job start recorded", "Job started on Monday 23 November 2026, 16 hours a week"}, notBody: []string{"Sam"},
			wantWrites: []string{"job-start"}, wantOutcome: "recorded", wantLog: map[string]any{"action": "job-start", "referralStatus": "in-work"}},
		{name: "outcome before any job start", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.RawPath, r.Body = "/referrals/"+refID+"/outcome", "token="+valid+"&sustained=yes"
			},
			stored: []referral.Referral{storedReferral(referral.StatusEngaged, "ann")}, wantStatus: http.StatusConflict,
			wantBody: []string{"No job start has been recorded for this referral"}, wantOutcome: "conflict"},
		{name: "contact on a referral closed without contact", fixture: "post-contact.json", token: valid,
			stored: []referral.Referral{storedReferral(referral.StatusClosed, "ann")}, wantStatus: http.StatusConflict,
			wantBody: []string{"This referral is closed, so its progress cannot be changed"}, wantOutcome: "conflict"},
		{name: "post by a specialist it was taken from", fixture: "post-contact.json", token: signer.Sign(refID, "bob", validTill),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden, wantOutcome: "forbidden"},
		{name: "post with an expired token", fixture: "post-close.json", token: signer.Sign(refID, "ann", testNow),
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusForbidden, wantOutcome: "expired-link"},
		{name: "post with the token in the query string", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.Body, r.RawQueryString, r.QueryStringParameters = "", "token="+valid, map[string]string{"token": valid}
			},
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK,
			wantWrites: []string{"contact"}, wantOutcome: "recorded"},
		{name: "base64 form body", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte("token="+valid)), true
			},
			stored: []referral.Referral{storedReferral(referral.StatusAssigned, "ann")}, wantStatus: http.StatusOK,
			wantWrites: []string{"contact"}, wantOutcome: "recorded"},
		{name: "post with a malformed id", fixture: "post-contact.json", token: valid,
			edit:       func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/referrals/R-0000/contact" },
			wantStatus: http.StatusNotFound, wantBody: []string{"Page not found"}, wantOutcome: "not-found"},
		{name: "unknown action", fixture: "post-contact.json", token: valid,
			edit:       func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/referrals/" + refID + "/archive" },
			stored:     []referral.Referral{storedReferral(referral.StatusAssigned, "ann")},
			wantStatus: http.StatusNotFound, wantOutcome: "not-found"},
		{name: "GET on an action does nothing", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.RequestContext.HTTP.Method, r.Body, r.RawQueryString = http.MethodGet, "", "token="+valid
			},
			stored:     []referral.Referral{storedReferral(referral.StatusAssigned, "ann")},
			wantStatus: http.StatusMethodNotAllowed, wantOutcome: "method-not-allowed", wantHeader: map[string]string{"Allow": "POST"}},
		{name: "POST on the details page", fixture: "get-referral.json", token: valid,
			edit:       func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.HTTP.Method = http.MethodPost },
			stored:     []referral.Referral{storedReferral(referral.StatusAssigned, "ann")},
			wantStatus: http.StatusMethodNotAllowed, wantOutcome: "method-not-allowed", wantHeader: map[string]string{"Allow": "GET"}},
		{name: "not a form", fixture: "post-contact.json", token: valid,
			edit:       func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-type"] = "application/json" },
			stored:     []referral.Referral{storedReferral(referral.StatusAssigned, "ann")},
			wantStatus: http.StatusUnsupportedMediaType, wantOutcome: "unsupported-media-type"},
		{name: "body too large", fixture: "post-contact.json", token: valid,
			edit: func(r *events.APIGatewayV2HTTPRequest) {
				r.Body = "token=" + valid + "&x=" + strings.Repeat("a", MaxBody)
			},
			stored:     []referral.Referral{storedReferral(referral.StatusAssigned, "ann")},
			wantStatus: http.StatusRequestEntityTooLarge, wantOutcome: "too-large"},
		{name: "undecodable form", fixture: "post-contact.json", token: valid,
			edit:       func(r *events.APIGatewayV2HTTPRequest) { r.Body = "token=%zz" },
			stored:     []referral.Referral{storedReferral(referral.StatusAssigned, "ann")},
			wantStatus: http.StatusBadRequest, wantOutcome: "bad-body"},
		{name: "not a referral path", fixture: "get-referral.json", token: valid,
			edit:       func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/other" },
			wantStatus: http.StatusNotFound, wantOutcome: "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t, tt.stored...)
			hs.store.getErr, hs.drain.err = tt.getErr, tt.drainErr
			req := loadEvent(t, tt.fixture, tt.token)
			if tt.edit != nil {
				tt.edit(&req)
			}
			res := hs.do(t, req)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.wantStatus, res.Body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(res.Body, w) {
					t.Errorf("body does not contain %q", w)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(res.Body, w) {
					t.Errorf("body contains %q", w)
				}
			}
			checkHeaders(t, res)
			for k, v := range tt.wantHeader {
				if res.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, res.Headers[k], v)
				}
			}
			if !slices.Equal(hs.store.writes, tt.wantWrites) {
				t.Errorf("writes = %v, want %v", hs.store.writes, tt.wantWrites)
			}
			if req.RequestContext.HTTP.Method == http.MethodGet && len(hs.store.writes) != 0 {
				t.Errorf("a GET wrote: %v", hs.store.writes)
			}
			if drained := len(hs.drain.areas) > 0; drained != tt.wantDrained {
				t.Errorf("drained = %v, want %v", hs.drain.areas, tt.wantDrained)
			}

			lines := hs.logLines(t)
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %s", len(lines), hs.logs)
			}
			line := lines[0]
			if line["outcome"] != tt.wantOutcome || line["status"] != float64(tt.wantStatus) {
				t.Errorf("log outcome/status = %v/%v, want %s/%d", line["outcome"], line["status"], tt.wantOutcome, tt.wantStatus)
			}
			for k, v := range tt.wantLog {
				if line[k] != v {
					t.Errorf("log %s = %v, want %v", k, line[k], v)
				}
			}
			if tt.drainErr != nil && !strings.Contains(line["drainError"].(string), "throttled") {
				t.Errorf("drain error not logged: %v", line)
			}
			if (res.StatusCode >= 500) != (line["error"] != nil) {
				t.Errorf("error logged = %v for status %d", line["error"], res.StatusCode)
			}
			checkNoPatientData(t, hs.logs.String(), tt.token)
		})
	}
}

// checkHeaders checks what every response carries: never cached, no Referer (the URL holds the
// token), the intake's strict CSP.
func checkHeaders(t *testing.T, res events.APIGatewayV2HTTPResponse) {
	t.Helper()
	want := map[string]string{
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"Content-Type":            "text/html; charset=utf-8",
	}
	for k, v := range want {
		if res.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, res.Headers[k], v)
		}
	}
}

func checkNoPatientData(t *testing.T, logs, token string) {
	t.Helper()
	for _, pd := range patientData {
		if strings.Contains(logs, pd) {
			t.Errorf("log contains patient data %q: %s", pd, logs)
		}
	}
	if token != "" && strings.Contains(logs, token) {
		t.Errorf("log contains the token: %s", logs)
	}
}

func tamper(token string) string {
	b := []byte(token)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func otherSigner(t *testing.T) *signedlink.Signer {
	t.Helper()
	s, err := signedlink.NewSigner([]byte(strings.Repeat("x", signedlink.MinSecretLen)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRepeatedActions posts each action twice, as a double click or a mail system would: the
// second answers "already recorded" with 200 and writes nothing.
func TestRepeatedActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture     string
		first, then string
	}{
		{"post-contact.json", "Contact recorded", "Contact already recorded"},
		{"post-meeting.json", "First meeting recorded", "First meeting already recorded"},
		{"post-close.json", "Referral closed", "Referral already closed"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t, storedReferral(referral.StatusAssigned, "ann"))
			token := newSigner(t).Sign(refID, "ann", validTill)
			for i, want := range []string{tt.first, tt.then} {
				res := hs.do(t, loadEvent(t, tt.fixture, token))
				if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, want) {
					t.Errorf("request %d: status %d, want 200 saying %q\n%s", i+1, res.StatusCode, want, res.Body)
				}
			}
			if len(hs.store.writes) != 1 {
				t.Errorf("writes = %v, want one", hs.store.writes)
			}
			if n := len(hs.store.referrals[refID].Events); n != 3 {
				t.Errorf("%d events, want 3: one event for the action", n)
			}
			var outcomes []any
			for _, l := range hs.logLines(t) {
				outcomes = append(outcomes, l["outcome"])
			}
			if !slices.Equal(outcomes, []any{"recorded", "already-recorded"}) {
				t.Errorf("logged outcomes = %v", outcomes)
			}
			checkNoPatientData(t, hs.logs.String(), token)
		})
	}
}

// TestNotFoundRevealsNothing: a malformed id, an unknown id with a valid token, and an unknown
// action all answer the very same 404.
func TestNotFoundRevealsNothing(t *testing.T) {
	t.Parallel()
	signer := newSigner(t)
	hs := newHarness(t, storedReferral(referral.StatusAssigned, "ann"))
	malformed := hs.do(t, loadEvent(t, "get-referral-malformed-id.json", signer.Sign("not-a-reference", "ann", validTill)))
	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
	}{
		{"unknown id, valid token", loadEvent(t, "get-referral-unknown.json", signer.Sign(unknownID, "ann", validTill))},
		{"unknown id, valid token, POST", func() events.APIGatewayV2HTTPRequest {
			r := loadEvent(t, "post-contact.json", signer.Sign(unknownID, "ann", validTill))
			r.RawPath = "/referrals/" + unknownID + "/contact"
			return r
		}()},
		{"malformed id, no token", loadEvent(t, "get-referral-malformed-id.json", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := newHarness(t, storedReferral(referral.StatusAssigned, "ann")).do(t, tt.req)
			if res.StatusCode != http.StatusNotFound || res.Body != malformed.Body {
				t.Errorf("status %d, body differs from the malformed id's 404: %v", res.StatusCode, res.Body != malformed.Body)
			}
			if !strings.Contains(res.Body, "Page not found") {
				t.Errorf("404 page does not say Page not found")
			}
			for k, v := range malformed.Headers {
				if res.Headers[k] != v {
					t.Errorf("header %s = %q, want %q as for a malformed id", k, res.Headers[k], v)
				}
			}
		})
	}
}

// TestFixtures checks the fixtures are API Gateway v2 events that round-trip, with a routeKey
// that matches their method and path, so they work as `sam local invoke -e` events.
func TestFixtures(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob("testdata/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(b, &req); err != nil {
				t.Fatal(err)
			}
			again, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			var back events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(again, &back); err != nil || back.RawPath != req.RawPath || back.Body != req.Body || back.RouteKey != req.RouteKey {
				t.Errorf("fixture does not round-trip: %v", err)
			}
			if req.Version != "2.0" || req.RequestContext.HTTP.Path != req.RawPath || req.RequestContext.RouteKey != req.RouteKey {
				t.Errorf("fixture is not consistent: %+v", req)
			}
			method, route, _ := strings.Cut(req.RouteKey, " ")
			if method != req.RequestContext.HTTP.Method || !strings.HasPrefix(route, "/referrals/{id}") {
				t.Errorf("routeKey %q for %s %s", req.RouteKey, req.RequestContext.HTTP.Method, req.RawPath)
			}
		})
	}
}
