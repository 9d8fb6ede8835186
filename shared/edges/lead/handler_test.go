package lead

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

var now = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// memoryAreas is a hand-written fake of the worklist store: two areas, one open referral.
type memoryAreas struct{ fail error }

func (m memoryAreas) Area(_ context.Context, id string) (string, directory.Person, error) {
	if m.fail != nil {
		return "", directory.Person{}, m.fail
	}
	switch id {
	case "norfolk":
		return "Norfolk", directory.Person{Name: "Nia", Email: "Nia.Lead@example.org"}, nil
	case "essex":
		return "Essex", directory.Person{Name: "Eve", Email: "eve@example.org"}, nil
	case "surrey":
		return "Surrey", directory.Person{}, nil // no lead yet
	}
	return "", directory.Person{}, referral.Errorf(referral.CodeNotFound, "Page not found")
}

func (m memoryAreas) Snapshot(_ context.Context, id, name string) (worklist.Snapshot, error) {
	r := referral.Referral{ID: "R-7K3M9QX2", Area: id, Status: referral.StatusWaitlisted, ReceivedAt: now.Add(-72 * time.Hour)}
	r.Patient.GivenName, r.Patient.FamilyName, r.Patient.NHSNumber = "Sam", "Taylor", "9434765919"
	return worklist.Snapshot{AreaID: id, AreaName: name, Referrals: []referral.Referral{r},
		Specialists: []worklist.Specialist{{ID: "ann", Name: "Ann Able", Capacity: 20, Active: true, Bouncing: true}}}, nil
}

// fixedMover answers every move with err, or with moved.
type fixedMover struct {
	moved worklist.Moved
	err   error
	calls int
}

func (f *fixedMover) Reassign(context.Context, string, string, string, string) (worklist.Moved, error) {
	f.calls++
	return f.moved, f.err
}

func (f *fixedMover) Transfer(context.Context, string, string, string, string) (worklist.Moved, error) {
	f.calls++
	return f.moved, f.err
}

func newHandler(tb testing.TB, store Store, mover worklist.Mover) (*Handler, *signedlink.Signer) {
	tb.Helper()
	signer, err := signedlink.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	h := &Handler{Links: signer, Store: store, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return now }}
	if mover != nil {
		h.Moves = mover
	}
	return h, signer
}

func get(path, token string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RawPath: path}
	req.RequestContext.HTTP.Method = http.MethodGet
	if token != "" {
		req.RawQueryString = url.Values{"token": {token}}.Encode()
	}
	return req
}

func post(path string, form url.Values) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{RawPath: path, Body: form.Encode(),
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded"}}
	req.RequestContext.HTTP.Method = http.MethodPost
	return req
}

func leadToken(tb testing.TB, s *signedlink.Signer, area, email string, at time.Time) string {
	tb.Helper()
	tok, _, err := worklist.IssueLink(s, area, email, at)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestWorklistAccess(t *testing.T) {
	h, s := newHandler(t, memoryAreas{}, nil)
	own := leadToken(t, s, "norfolk", "nia.lead@example.org", now)
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		says                      string
	}{
		{"own area", http.MethodGet, "/areas/norfolk/worklist", own, http.StatusOK, "Worklist for Norfolk"},
		{"another area's lead link", http.MethodGet, "/areas/essex/worklist", own, http.StatusForbidden, "not for this area"},
		{"essex's link on norfolk", http.MethodGet, "/areas/norfolk/worklist", leadToken(t, s, "essex", "eve@example.org", now), http.StatusForbidden, "not for this area"},
		{"specialist token", http.MethodGet, "/areas/norfolk/worklist", s.Sign("norfolk", "ann", now.Add(time.Hour)), http.StatusForbidden, ""},
		{"referrer token", http.MethodGet, "/areas/norfolk/worklist", s.Issue(signedlink.Claim{Role: signedlink.RoleReferrer, Subject: "norfolk", Binding: "nia.lead@example.org"}, now.Add(time.Hour)), http.StatusForbidden, ""},
		{"expired", http.MethodGet, "/areas/norfolk/worklist", leadToken(t, s, "norfolk", "nia.lead@example.org", now.Add(-worklist.LinkTTL)), http.StatusForbidden, "expired"},
		{"no token", http.MethodGet, "/areas/norfolk/worklist", "", http.StatusForbidden, ""},
		{"area without a lead", http.MethodGet, "/areas/surrey/worklist", own, http.StatusForbidden, ""},
		{"unknown area", http.MethodGet, "/areas/atlantis/worklist", own, http.StatusNotFound, "Page not found"},
		{"not a slug", http.MethodGet, "/areas/Norfolk/worklist", own, http.StatusNotFound, "Page not found"},
		{"other path", http.MethodGet, "/areas/norfolk", own, http.StatusNotFound, "Page not found"},
		{"POST to the worklist", http.MethodPost, "/areas/norfolk/worklist", own, http.StatusMethodNotAllowed, ""},
		{"GET of an action", http.MethodGet, "/areas/norfolk/referrals/R-7K3M9QX2/reassign", own, http.StatusMethodNotAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := get(tc.path, tc.token)
			req.RequestContext.HTTP.Method = tc.method
			res, err := h.Handle(context.Background(), req)
			if err != nil || res.StatusCode != tc.status {
				t.Fatalf("status = %d, %v; want %d", res.StatusCode, err, tc.status)
			}
			if !strings.Contains(res.Body, tc.says) {
				t.Errorf("body lacks %q", tc.says)
			}
			if res.Headers["Cache-Control"] != "no-store" || res.Headers["Referrer-Policy"] != "no-referrer" {
				t.Errorf("headers = %v", res.Headers)
			}
			if tc.status == http.StatusOK && (strings.Contains(res.Body, "Taylor") || strings.Contains(res.Body, "9434765919")) {
				t.Error("the worklist shows more than the given name and initial")
			}
		})
	}
}

func TestWorklistStoreDown(t *testing.T) {
	h, s := newHandler(t, memoryAreas{fail: errors.New("dynamodb: throttled")}, nil)
	res, _ := h.Handle(context.Background(), get("/areas/norfolk/worklist", leadToken(t, s, "norfolk", "nia.lead@example.org", now)))
	if res.StatusCode != http.StatusServiceUnavailable || res.Headers["Retry-After"] == "" {
		t.Errorf("status = %d, headers %v; want 503 with Retry-After", res.StatusCode, res.Headers)
	}
}

func TestLeadActions(t *testing.T) {
	assigned := referral.Referral{ID: "R-7K3M9QX2", Status: referral.StatusAssigned}
	waiting := referral.Referral{ID: "R-7K3M9QX2", Status: referral.StatusWaitlisted}
	for _, tc := range []struct {
		name   string
		action string
		form   url.Values
		mover  *fixedMover
		status int
		says   string
		calls  int
	}{
		{"reassigned", "reassign", url.Values{"specialist": {"bob"}}, &fixedMover{moved: worklist.Moved{Referral: assigned, Specialist: "Bob Brown"}}, http.StatusOK, "Bob Brown has the referral now", 1},
		{"no room", "reassign", url.Values{"specialist": {"bob"}}, &fixedMover{err: &worklist.Refused{Reason: worklist.RefusedNoRoom, Specialist: "Bob Brown"}}, http.StatusConflict, "Bob Brown has no space", 1},
		{"inactive", "reassign", url.Values{"specialist": {"cal"}}, &fixedMover{err: &worklist.Refused{Reason: worklist.RefusedInactive, Specialist: "Cal Cole"}}, http.StatusConflict, "Cal Cole is not taking referrals", 1},
		{"another area", "reassign", url.Values{"specialist": {"sue"}}, &fixedMover{err: &worklist.Refused{Reason: worklist.RefusedOtherArea, Specialist: "Sue Smith"}}, http.StatusConflict, "Sue Smith works in another area", 1},
		{"status", "reassign", url.Values{"specialist": {"bob"}}, &fixedMover{err: &worklist.Refused{Reason: worklist.RefusedStatus, Status: referral.StatusWaitlisted}}, http.StatusConflict, "On the waiting list", 1},
		{"no specialist chosen", "reassign", url.Values{}, &fixedMover{}, http.StatusBadRequest, "Choose a specialist", 0},
		{"transferred", "transfer", url.Values{"postcode": {"cm1 1aa"}}, &fixedMover{moved: worklist.Moved{Referral: assigned, Specialist: "Sue Smith", AreaName: "Essex"}}, http.StatusOK, "Referral transferred to Essex", 1},
		{"transferred to a waitlist", "transfer", url.Values{"postcode": {"CM1 1AA"}}, &fixedMover{moved: worklist.Moved{Referral: waiting, AreaName: "Essex"}}, http.StatusOK, "waiting list", 1},
		{"out of area", "transfer", url.Values{"postcode": {"ZE1 0AA"}}, &fixedMover{err: &worklist.Refused{Reason: worklist.RefusedOutOfArea}}, http.StatusUnprocessableEntity, "not in an IPSPC area", 1},
		{"not a postcode", "transfer", url.Values{"postcode": {"nowhere"}}, &fixedMover{}, http.StatusBadRequest, "Enter a real postcode", 0},
		{"store down", "transfer", url.Values{"postcode": {"CM1 1AA"}}, &fixedMover{err: errors.New("dynamodb: throttled")}, http.StatusServiceUnavailable, "Nothing has been changed", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, s := newHandler(t, memoryAreas{}, tc.mover)
			tc.form.Set("token", leadToken(t, s, "norfolk", "nia.lead@example.org", now))
			res, _ := h.Handle(context.Background(), post("/areas/norfolk/referrals/R-7K3M9QX2/"+tc.action, tc.form))
			if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.says) {
				t.Errorf("status = %d, want %d with %q:\n%s", res.StatusCode, tc.status, tc.says, res.Body)
			}
			if tc.mover.calls != tc.calls {
				t.Errorf("mover called %d times, want %d", tc.mover.calls, tc.calls)
			}
		})
	}
}

func TestLeadActionsRefusedBeforeTheMover(t *testing.T) {
	mover := &fixedMover{}
	h, s := newHandler(t, memoryAreas{}, mover)
	other := leadToken(t, s, "essex", "eve@example.org", now)
	for _, tc := range []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
	}{
		{"another area's link", post("/areas/norfolk/referrals/R-7K3M9QX2/reassign", url.Values{"token": {other}, "specialist": {"bob"}}), http.StatusForbidden},
		{"specialist token", post("/areas/norfolk/referrals/R-7K3M9QX2/reassign", url.Values{"token": {s.Sign("R-7K3M9QX2", "ann", now.Add(time.Hour))}, "specialist": {"bob"}}), http.StatusForbidden},
		{"bad reference", post("/areas/norfolk/referrals/nope/transfer", url.Values{"token": {other}}), http.StatusNotFound},
		{"JSON body", func() events.APIGatewayV2HTTPRequest {
			r := post("/areas/norfolk/referrals/R-7K3M9QX2/transfer", nil)
			r.Headers["content-type"] = "application/json"
			return r
		}(), http.StatusUnsupportedMediaType},
	} {
		res, _ := h.Handle(context.Background(), tc.req)
		if res.StatusCode != tc.status {
			t.Errorf("%s: status = %d, want %d", tc.name, res.StatusCode, tc.status)
		}
	}
	if mover.calls != 0 {
		t.Errorf("mover called %d times: a refused request must change nothing", mover.calls)
	}
	// Unwired, a valid POST changes nothing and says so.
	unwired, s2 := newHandler(t, memoryAreas{}, nil)
	res, _ := unwired.Handle(context.Background(), post("/areas/norfolk/referrals/R-7K3M9QX2/reassign",
		url.Values{"token": {leadToken(t, s2, "norfolk", "nia.lead@example.org", now)}, "specialist": {"bob"}}))
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("unwired reassign = %d, want 503", res.StatusCode)
	}
}
