package intake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// fakeIntake is a hand-written fake with a function field: each test says what Submit does.
type fakeIntake struct {
	submit func(referral.Request) (referral.Outcome, error)
	got    []referral.Request
}

func (f *fakeIntake) Submit(_ context.Context, req referral.Request) (referral.Outcome, error) {
	f.got = append(f.got, req)
	return f.submit(req)
}

type countCall struct {
	name string
	dims map[string]string
}

type fakeCounter struct {
	calls   []countCall
	records int // Count and Emit calls: log lines in production
}

func (f *fakeCounter) Count(name string, _ float64, dims map[string]string) {
	f.calls = append(f.calls, countCall{name, dims})
	f.records++
}

func (f *fakeCounter) Emit(values map[string]float64, _ string, dims map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		f.calls = append(f.calls, countCall{name, dims})
	}
	f.records++
}

var receipt = referral.Receipt{ReferralID: "R-7K3M9QX2", Status: referral.StatusAssigned, Area: "south-yorkshire",
	ReceivedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), ContactBy: "2026-11-25", MeetBy: "2026-12-07"}

func accepted(referral.Request) (referral.Outcome, error) {
	return referral.Outcome{Receipt: receipt}, nil
}

func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	req.Body = strings.Replace(req.Body, "idempotencyToken="+fixtureFormToken, "idempotencyToken="+testFormToken, 1)
	return req
}

// newHandler's log lines carry no timestamp: its digits could match the patient data the tests
// look for in the log (a "1988" among the nanoseconds), and the time is never patient data.
func newHandler(f *fakeIntake, logs *bytes.Buffer, m *fakeCounter) *Handler {
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	return &Handler{Intake: f, Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{ReplaceAttr: noTime})), Metrics: m, Budget: time.Second,
		FormTokens: testTokens, AreaNames: staticNames{"south-yorkshire": "South Yorkshire"}}
}

type staticNames map[string]string

func (s staticNames) Get(context.Context) (map[string]string, error) { return s, nil }

func TestHandleResponses(t *testing.T) {
	t.Parallel()
	unavailable := func(referral.Request) (referral.Outcome, error) {
		return referral.Outcome{}, errors.Join(referral.Errorf(referral.CodeUnavailable, "The service is busy"), errors.New("dynamodb: connection refused"))
	}
	tests := []struct {
		name       string
		event      string
		edit       func(*events.APIGatewayV2HTTPRequest)
		submit     func(referral.Request) (referral.Outcome, error)
		wantStatus int
		wantType   string
		wantBody   []string // substrings
		wantHeader map[string]string
	}{
		{name: "form page", event: "get-form.json", wantStatus: 200, wantType: "text/html", wantBody: []string{`name="patient.nhsNumber"`, `name="idempotencyToken"`}},
		{name: "asset", event: "get-asset-css.json", wantStatus: 200, wantType: "text/css", wantHeader: map[string]string{"Cache-Control": "public, max-age=86400"}},
		{name: "asset traversal is not found", event: "get-asset-css.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/assets/../web.go" }, wantStatus: 404},
		{name: "unknown path", event: "get-form.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.RawPath = "/nope" }, wantStatus: 404},
		{name: "json accepted", event: "post-referral-json.json", submit: accepted, wantStatus: 201, wantType: "application/json",
			wantBody: []string{`"referralId":"R-7K3M9QX2"`, `"contactBy":"2026-11-25"`, `"receivedAt":"2026-11-23T10:00:00Z"`}, wantHeader: map[string]string{"Location": "/referrals/R-7K3M9QX2"}},
		{name: "form accepted shows confirmation", event: "post-referral-form.json", submit: accepted, wantStatus: 201, wantType: "text/html",
			wantBody: []string{"R-7K3M9QX2", "South Yorkshire"}, wantHeader: map[string]string{"Cache-Control": "no-store"}},
		{name: "malformed json", event: "post-referral-malformed.json", wantStatus: 400, wantBody: []string{`"field":""`}},
		{name: "field errors as json", event: "post-referral-json.json", submit: func(referral.Request) (referral.Outcome, error) {
			return referral.Outcome{}, &referral.Error{Code: referral.CodeInvalid, Message: "x", Fields: []referral.FieldError{{Field: "patient.nhsNumber", Message: "Enter a valid NHS number"}}}
		}, wantStatus: 400, wantBody: []string{`{"errors":[{"field":"patient.nhsNumber","message":"Enter a valid NHS number"}]}`}},
		{name: "field errors as form", event: "post-referral-form.json", submit: func(referral.Request) (referral.Outcome, error) {
			return referral.Outcome{}, &referral.Error{Code: referral.CodeInvalid, Message: "x", Fields: []referral.FieldError{{Field: "patient.nhsNumber", Message: "Enter a valid NHS number"}}}
		}, wantStatus: 400, wantType: "text/html", wantBody: []string{"There is a problem", `href="#patient-nhsNumber"`, `value="Taylor"`}},
		{name: "out of area", event: "post-referral-json.json", submit: func(referral.Request) (referral.Outcome, error) {
			return referral.Outcome{}, &referral.Error{Code: referral.CodeOutOfArea, Message: "x", Fields: []referral.FieldError{{Field: "patient.postcode", Message: "not in an area"}}}
		}, wantStatus: 422, wantBody: []string{`"field":"patient.postcode"`}},
		{name: "conflict", event: "post-referral-json.json", submit: func(referral.Request) (referral.Outcome, error) {
			return referral.Outcome{}, referral.Errorf(referral.CodeConflict, "key reused")
		}, wantStatus: 409, wantBody: []string{"key reused"}},
		{name: "unavailable has retry-after and hides the cause", event: "post-referral-json.json", submit: unavailable, wantStatus: 503,
			wantHeader: map[string]string{"Retry-After": "5"}, wantBody: []string{"The service is busy"}},
		{name: "internal error is generic", event: "post-referral-json.json", submit: func(referral.Request) (referral.Outcome, error) {
			return referral.Outcome{}, errors.New("secret internals")
		}, wantStatus: 500, wantBody: []string{"Something went wrong"}},
		{name: "unsupported type", event: "post-referral-text.json", wantStatus: 415},
		{name: "missing type", event: "post-referral-text.json", edit: func(r *events.APIGatewayV2HTTPRequest) { delete(r.Headers, "content-type") }, wantStatus: 415},
		{name: "json with charset", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["content-type"] = "application/json; charset=utf-8" }, submit: accepted, wantStatus: 201},
		{name: "too large", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = `{"notes":"` + strings.Repeat("a", MaxBody) + `"}` }, wantStatus: 413},
		{name: "too large form", event: "post-referral-form.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body += "&notes=" + strings.Repeat("a", MaxBody) }, wantStatus: 413, wantType: "text/html"},
		{name: "base64 body", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) {
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(r.Body)), true
		}, submit: accepted, wantStatus: 201},
		{name: "bad base64", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body, r.IsBase64Encoded = "%%%", true }, wantStatus: 400},
		{name: "honeypot filled", event: "post-referral-form.json", edit: func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = strings.Replace(r.Body, "website=", "website=spam", 1)
		}, wantStatus: 400, wantType: "text/html"},
		{name: "bad idempotency key", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Headers["idempotency-key"] = "has space" }, wantStatus: 400, wantBody: []string{`"field":"Idempotency-Key"`}},
		{name: "json not UTF-8", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = strings.Replace(r.Body, "Sam", "S\xffam", 1) },
			wantStatus: 400, wantType: "application/json", wantBody: []string{`"field":""`, "UTF-8"}},
		{name: "json lone surrogate", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = strings.Replace(r.Body, "Sam", `S\ud800am`, 1) },
			wantStatus: 400, wantBody: []string{`"field":""`, "surrogate"}},
		{name: "json duplicate key", event: "post-referral-json.json", edit: func(r *events.APIGatewayV2HTTPRequest) {
			r.Body = strings.Replace(r.Body, `"consent"`, `"consent": false, "consent"`, 1)
		},
			wantStatus: 400, wantBody: []string{`"field":""`, "consent twice"}},
		{name: "form raw byte not UTF-8", event: "post-referral-form.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = strings.Replace(r.Body, "Sam", "S\xffam", 1) },
			wantStatus: 400, wantType: "text/html", wantBody: []string{"There is a problem", "UTF-8"}},
		{name: "form escaped byte not UTF-8", event: "post-referral-form.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.Body = strings.Replace(r.Body, "Sam", "S%FFam", 1) },
			wantStatus: 400, wantType: "text/html", wantBody: []string{"There is a problem", "UTF-8"}},
		{name: "wrong method", event: "get-form.json", edit: func(r *events.APIGatewayV2HTTPRequest) { r.RequestContext.HTTP.Method = "DELETE" }, wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := loadEvent(t, tt.event)
			if tt.edit != nil {
				tt.edit(&req)
			}
			submit := tt.submit
			if submit == nil {
				submit = func(referral.Request) (referral.Outcome, error) {
					t.Error("Submit called, want the edge to answer on its own")
					return referral.Outcome{}, nil
				}
			}
			var logs bytes.Buffer
			res, err := newHandler(&fakeIntake{submit: submit}, &logs, &fakeCounter{}).Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle returned error %v; handlers always return a response and nil", err)
			}
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %.300s", res.StatusCode, tt.wantStatus, res.Body)
			}
			if tt.wantType != "" && !strings.HasPrefix(res.Headers["Content-Type"], tt.wantType) {
				t.Errorf("Content-Type = %q, want %s", res.Headers["Content-Type"], tt.wantType)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(res.Body, want) {
					t.Errorf("body lacks %q: %.500s", want, res.Body)
				}
			}
			for k, v := range tt.wantHeader {
				if res.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, res.Headers[k], v)
				}
			}
			if res.Headers["Content-Security-Policy"] == "" || res.Headers["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("security headers missing: %v", res.Headers)
			}
			if strings.Contains(res.Body, "secret internals") || strings.Contains(res.Body, "connection refused") {
				t.Errorf("internal error leaked to the user: %s", res.Body)
			}
			var line map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
				t.Fatalf("want exactly one JSON log line, got %q", logs.String())
			}
			if int(line["status"].(float64)) != tt.wantStatus {
				t.Errorf("log line status = %v", line["status"])
			}
		})
	}
}

func TestHandlePassesKeyChannelAndNoPatientDataInLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event   string
		wantKey string
		wantVia string
	}{
		{"post-referral-json.json", "7f1c2a9e-demo-key-0001", "api"},
		{"post-referral-form.json", testFormToken, "form"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			t.Parallel()
			f := &fakeIntake{submit: accepted}
			var logs bytes.Buffer
			res, _ := newHandler(f, &logs, &fakeCounter{}).Handle(context.Background(), loadEvent(t, tt.event))
			if res.StatusCode != http.StatusCreated || len(f.got) != 1 {
				t.Fatalf("status %d, %d submissions", res.StatusCode, len(f.got))
			}
			got := f.got[0]
			if got.IdempotencyKey != tt.wantKey || got.Via != tt.wantVia {
				t.Errorf("key/via = %q/%q, want %q/%q", got.IdempotencyKey, got.Via, tt.wantKey, tt.wantVia)
			}
			if got.Submission.Patient.GivenName != "Sam" || got.Submission.Referrer.PracticeCode != "C88038" || !got.Submission.Consent {
				t.Errorf("decoded submission = %+v", got.Submission)
			}
			for _, secret := range []string{"Sam", "Taylor", "943", "1988", "07700", "sam.taylor", "afternoon"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log contains patient data %q: %s", secret, logs.String())
				}
			}
			if !strings.Contains(logs.String(), `"referralId":"R-7K3M9QX2"`) {
				t.Errorf("log line lacks the referral id: %s", logs.String())
			}
		})
	}
}

func TestHandleCountsAcceptedReferralsByArea(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		outcome  referral.Outcome
		wantKind string // "" for no metrics
	}{
		{"assigned", referral.Outcome{Receipt: receipt}, "Assignments"},
		{"waitlisted", referral.Outcome{Receipt: func() referral.Receipt { r := receipt; r.Status = referral.StatusWaitlisted; return r }()}, "Waitlisted"},
		{"replay is not counted twice", referral.Outcome{Receipt: receipt, Replayed: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &fakeCounter{}
			f := &fakeIntake{submit: func(referral.Request) (referral.Outcome, error) { return tt.outcome, nil }}
			newHandler(f, &bytes.Buffer{}, m).Handle(context.Background(), loadEvent(t, "post-referral-json.json"))
			var got []string
			for _, c := range m.calls {
				if c.dims["Area"] != "south-yorkshire" || len(c.dims) != 1 {
					t.Errorf("%s dimensions = %v, want Area only", c.name, c.dims)
				}
				got = append(got, c.name)
			}
			want, wantRecords := []string{}, 0
			if tt.wantKind != "" {
				want, wantRecords = []string{"ReferralsReceived", tt.wantKind}, 1
			}
			slices.Sort(got)
			slices.Sort(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("metrics %v, want %v", got, want)
			}
			if m.records != wantRecords {
				t.Errorf("%d metric records, want %d (one line per referral)", m.records, wantRecords)
			}
		})
	}
}

func TestHandleCountsOutOfAreaByPostcodeAreaOnly(t *testing.T) {
	t.Parallel()
	tests := []struct{ postcode, want string }{
		{"eh1 1yz", "EH"},
		{"AB10 1XG", "AB"},
		{"yy9 9zz", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.postcode, func(t *testing.T) {
			t.Parallel()
			m := &fakeCounter{}
			f := &fakeIntake{submit: func(referral.Request) (referral.Outcome, error) {
				return referral.Outcome{}, &referral.Error{Code: referral.CodeOutOfArea, Message: "x"}
			}}
			req := loadEvent(t, "post-referral-json.json")
			req.Body = strings.Replace(req.Body, "s1 2hh", tt.postcode, 1)
			res, _ := newHandler(f, &bytes.Buffer{}, m).Handle(context.Background(), req)
			if res.StatusCode != 422 {
				t.Fatalf("status = %d", res.StatusCode)
			}
			if len(m.calls) != 1 || m.calls[0].name != "OutOfAreaReferrals" || m.calls[0].dims["PostcodeArea"] != tt.want || len(m.calls[0].dims) != 1 {
				t.Errorf("metric calls = %+v, want one OutOfAreaReferrals by PostcodeArea %s", m.calls, tt.want)
			}
		})
	}
}

// TestFormTokenIssued: GET / carries a token the service signed for the form role, with a random
// nonce and an expiry of issue time + 24 h; two page loads never share one.
func TestFormTokenIssued(t *testing.T) {
	t.Parallel()
	issued := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	h := newHandler(&fakeIntake{}, &bytes.Buffer{}, &fakeCounter{})
	h.Now = func() time.Time { return issued }
	re := regexp.MustCompile(`name="idempotencyToken" value="([^"]+)"`)
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		res, _ := h.Handle(context.Background(), loadEvent(t, "get-form.json"))
		m := re.FindStringSubmatch(res.Body)
		if res.StatusCode != 200 || m == nil {
			t.Fatalf("status %d, no token in the form", res.StatusCode)
		}
		nonce, exp, err := testTokens.Check(signedlink.RoleForm, "", "", m[1], issued)
		if err != nil || len(nonce) < 16 || !exp.Equal(issued.Add(24*time.Hour)) {
			t.Errorf("token check: nonce %q, expiry %v, err %v; want a nonce and %v", nonce, exp, err, issued.Add(24*time.Hour))
		}
		if seen[nonce] {
			t.Errorf("nonce %q issued twice", nonce)
		}
		seen[nonce] = true
		if _, _, err := testTokens.Check(signedlink.RoleForm, "", "", m[1], issued.Add(24*time.Hour)); !errors.Is(err, signedlink.ErrExpired) {
			t.Errorf("token still valid 24 h after issue: %v", err)
		}
	}
}

// TestFormPostNeedsServerToken: a form post without a token this service issued (and still valid)
// gets the form again, 400, entered values kept, a fresh valid token and a message; nothing is
// submitted. JSON clients keep their own Idempotency-Key.
func TestFormPostNeedsServerToken(t *testing.T) {
	t.Parallel()
	now := time.Now()
	other, _ := signedlink.NewSigner([]byte("another-service-secret-of-32-bytes"))
	tests := []struct {
		name   string
		token  string // "-" removes the field
		want   int
		submit bool
	}{
		{"issued token", testFormToken, 201, true},
		{"no token field", "-", 400, false},
		{"empty token", "", 400, false},
		{"made-up token", "anything", 400, false},
		{"token from another secret", other.Issue(signedlink.Claim{Role: signedlink.RoleForm, Holder: "n"}, now.Add(time.Hour)), 400, false},
		{"token of another role", testTokens.Issue(signedlink.Claim{Role: signedlink.RoleSpecialist, Holder: "n"}, now.Add(time.Hour)), 400, false},
		{"expired token", testTokens.Issue(signedlink.Claim{Role: signedlink.RoleForm, Holder: "n"}, now.Add(-time.Second)), 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := loadEvent(t, "post-referral-form.json")
			values, err := url.ParseQuery(req.Body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token == "-" {
				values.Del(FormTokenField)
			} else {
				values.Set(FormTokenField, tt.token)
			}
			req.Body = values.Encode()
			f := &fakeIntake{submit: accepted}
			var logs bytes.Buffer
			res, _ := newHandler(f, &logs, &fakeCounter{}).Handle(context.Background(), req)
			if res.StatusCode != tt.want || (len(f.got) == 1) != tt.submit {
				t.Fatalf("status %d with %d submissions, want %d and submitted=%v", res.StatusCode, len(f.got), tt.want, tt.submit)
			}
			if tt.submit {
				if f.got[0].IdempotencyKey != tt.token {
					t.Errorf("key %q, want the form token", f.got[0].IdempotencyKey)
				}
				return
			}
			for _, want := range []string{"Check your answers and send the form again", `value="Taylor"`, `value="943 476 5919"`} {
				if !strings.Contains(res.Body, want) {
					t.Errorf("form lacks %q", want)
				}
			}
			m := regexp.MustCompile(`name="idempotencyToken" value="([^"]+)"`).FindStringSubmatch(res.Body)
			if m == nil || m[1] == tt.token {
				t.Fatalf("no fresh token in the form again")
			}
			if _, _, err := testTokens.Check(signedlink.RoleForm, "", "", m[1], now); err != nil {
				t.Errorf("fresh token does not verify: %v", err)
			}
			if !strings.Contains(logs.String(), `"outcome":"form-token"`) || strings.Contains(logs.String(), m[1]) {
				t.Errorf("log line: %s", logs.String())
			}
		})
	}
}

// readyFunc is a start-up read that fails while err is set.
type readyFunc func() error

func (f readyFunc) Wait(context.Context) error { return f() }

// TestHandleWaitsForStartUpReads: while the secrets are not read, the form and a submission get
// 503 with Retry-After (a form page with no token, or JSON) and nothing is submitted; assets and
// the API description do not wait; once read, the same requests are served.
func TestHandleWaitsForStartUpReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event          string
		notReady, readyAfter int
		wantType             string
	}{
		{name: "form page", event: "get-form.json", notReady: 503, readyAfter: 200, wantType: "text/html"},
		{name: "json submission", event: "post-referral-json.json", notReady: 503, readyAfter: 201, wantType: "application/json"},
		{name: "form submission", event: "post-referral-form.json", notReady: 503, readyAfter: 201, wantType: "text/html"},
		{name: "asset", event: "get-asset-css.json", notReady: 200, readyAfter: 200, wantType: "text/css"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			f := &fakeIntake{submit: accepted}
			h := newHandler(f, &logs, &fakeCounter{})
			readErr := errors.New("secrets manager: connection reset")
			h.Ready = readyFunc(func() error { return readErr })
			res, err := h.Handle(context.Background(), loadEvent(t, tt.event))
			if err != nil || res.StatusCode != tt.notReady {
				t.Fatalf("before the secrets are read: status %d, err %v, want %d", res.StatusCode, err, tt.notReady)
			}
			if !strings.HasPrefix(res.Headers["Content-Type"], tt.wantType) {
				t.Errorf("Content-Type %q, want %s", res.Headers["Content-Type"], tt.wantType)
			}
			if tt.notReady == 503 {
				if res.Headers["Retry-After"] == "" || strings.Contains(res.Body, "connection reset") {
					t.Errorf("503 without Retry-After, or showing the cause: %v\n%s", res.Headers, res.Body)
				}
				if tt.wantType == "text/html" && !strings.Contains(res.Body, `name="idempotencyToken" value=""`) {
					t.Errorf("the 503 page carries a form token, or no token field:\n%s", res.Body)
				}
				if len(f.got) != 0 {
					t.Errorf("submitted %d referrals before the secrets were read", len(f.got))
				}
			}
			readErr = nil
			if res, err = h.Handle(context.Background(), loadEvent(t, tt.event)); err != nil || res.StatusCode != tt.readyAfter {
				t.Fatalf("after the secrets are read: status %d, err %v, want %d\n%s", res.StatusCode, err, tt.readyAfter, res.Body)
			}
		})
	}
}
