package actions

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/metrics"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// Withdraw makes memoryStore a referral.WithdrawStore: conditional on the status and specialist
// as read, as the DynamoDB store's is; an erasing withdraw keeps t.Referral's submission.
func (m *memoryStore) Withdraw(_ context.Context, r referral.Referral, t referral.Transition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writes = append(m.writes, "withdraw")
	cur, ok := m.referrals[r.ID]
	if !ok || cur.Status != r.Status || cur.SpecialistID != r.SpecialistID {
		return referral.ErrChanged
	}
	cur.Status, cur.Events = t.Referral.Status, append(slices.Clone(cur.Events), t.Event)
	if t.Erased {
		cur.Submission = t.Referral.Submission
	}
	m.referrals[r.ID] = cur
	return nil
}

type fakeAreas struct{}

func (fakeAreas) Area(_ context.Context, id string) (string, directory.Person, error) {
	return map[string]string{"south-yorkshire": "South Yorkshire"}[id], directory.Person{}, nil
}

// referrerHarness is newHarness with the referrer's routes wired, and the metrics captured.
func referrerHarness(t *testing.T, stored ...referral.Referral) (harness, *bytes.Buffer) {
	t.Helper()
	hs := newHarness(t, stored...)
	out := &bytes.Buffer{}
	hs.h.ReferrerLinks = newSigner(t)
	hs.h.Referrers = &referral.Referrers{Store: hs.store, Drain: hs.drain, Now: func() time.Time { return testNow }}
	hs.h.Areas = fakeAreas{}
	hs.h.Metrics = metrics.New(out)
	return hs, out
}

// request builds an API Gateway request for method and path (with the query), and for a POST
// the form body.
func request(method, path string, query, form url.Values) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: path, RawQueryString: query.Encode(),
		Headers: map[string]string{"accept": "text/html"},
	}
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = method, path
	if form != nil {
		req.Headers["content-type"] = "application/x-www-form-urlencoded"
		req.Body = form.Encode()
	}
	return req
}

func referrerToken(s *signedlink.Signer, id, email string, exp time.Time) string {
	return s.Issue(signedlink.Claim{Role: signedlink.RoleReferrer, Subject: id, Binding: email}, exp)
}

func TestReferrerRoutes(t *testing.T) {
	t.Parallel()
	signer := newSigner(t)
	valid := referrerToken(signer, refID, "priya.shah@nhs.net", validTill)
	status := "/referrals/" + refID + "/status"
	withdraw := "/referrals/" + refID + "/withdraw"
	q := func(token string) url.Values { return url.Values{"token": {token}} }
	f := func(token, reason string) url.Values {
		v := url.Values{"token": {token}}
		if reason != "" {
			v.Set("reason", reason)
		}
		return v
	}
	assigned := storedReferral(referral.StatusAssigned, "ann")
	met := storedReferral(referral.StatusEngaged, "ann")
	withdrawn := storedReferral(referral.StatusWithdrawn, "ann")
	withdrawn.Events = append(withdrawn.Events, referral.Event{At: testNow, Type: referral.EventWithdrawn, By: "referrer", Detail: "revoked"})
	tests := []struct {
		name        string
		req         events.APIGatewayV2HTTPRequest
		stored      referral.Referral
		wantStatus  int
		wantBody    []string
		notBody     []string
		wantWrites  []string
		wantDrained bool
		wantMetric  bool
		wantOutcome string
	}{
		{name: "status page", req: request("GET", status, q(valid), nil), stored: assigned, wantStatus: 200,
			wantBody: []string{"R-7K3M9QX2", "Assigned to an employment specialist", "Sam T.", "South Yorkshire",
				"With an employment specialist, who has not yet reached the patient", "23 November 2026", `action="/referrals/R-7K3M9QX2/withdraw"`,
				`value="revoked"`, `value="entered-in-error"`, "nhsuk-radios__hint"},
			notBody: []string{"Taylor", "9434765919", "943 476 5919", "1988", "sam.taylor@example.com", "07700", "afternoon"}, wantOutcome: "shown"},
		{name: "token bound to the email in another case", req: request("GET", status, q(referrerToken(signer, refID, "Priya.Shah@nhs.net", validTill)), nil),
			stored: assigned, wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "status page after the meeting has no withdraw form", req: request("GET", status, q(valid), nil), stored: met, wantStatus: 200,
			wantBody: []string{"Support started", "contact the employment specialist"}, notBody: []string{"/withdraw"}, wantOutcome: "shown"},
		{name: "specialist token on the status page", req: request("GET", status, q(signer.Sign(refID, "ann", validTill)), nil), stored: assigned,
			wantStatus: 403, notBody: []string{"Sam"}, wantOutcome: "invalid-link"},
		{name: "lead token on the status page", req: request("GET", status, q(signer.Issue(signedlink.Claim{Role: signedlink.RoleLead, Subject: refID, Binding: "priya.shah@nhs.net"}, validTill)), nil),
			stored: assigned, wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "tampered", req: request("GET", status, q(tamper(valid)), nil), stored: assigned, wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "expired", req: request("GET", status, q(referrerToken(signer, refID, "priya.shah@nhs.net", testNow.Add(-time.Hour))), nil), stored: assigned,
			wantStatus: 403, wantBody: []string{"This link has expired"}, wantOutcome: "expired-link"},
		{name: "other referral's token", req: request("GET", status, q(referrerToken(signer, unknownID, "priya.shah@nhs.net", validTill)), nil), stored: assigned,
			wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "another referrer's token", req: request("GET", status, q(referrerToken(signer, refID, "someone@nhs.net", validTill)), nil), stored: assigned,
			wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "unknown id", req: request("GET", "/referrals/"+unknownID+"/status", q(valid), nil), stored: assigned, wantStatus: 404, wantOutcome: "not-found"},
		{name: "malformed id", req: request("GET", "/referrals/nope/status", q(valid), nil), stored: assigned, wantStatus: 404, wantOutcome: "not-found"},
		{name: "POST on the status page", req: request("POST", status, nil, f(valid, "revoked")), stored: assigned, wantStatus: 405, wantOutcome: "method-not-allowed"},

		{name: "withdraw revoked", req: request("POST", withdraw, nil, f(valid, "revoked")), stored: assigned, wantStatus: 200,
			wantBody: []string{"Referral withdrawn", "Circumstances have changed", "told not to contact the patient"}, notBody: []string{"Sam"},
			wantWrites: []string{"withdraw"}, wantDrained: true, wantOutcome: "recorded"},
		{name: "withdraw entered in error", req: request("POST", withdraw, nil, f(valid, "entered-in-error")), stored: assigned, wantStatus: 200,
			wantBody:   []string{"Referral withdrawn", "Sent in error", "personal details have been removed"},
			wantWrites: []string{"withdraw"}, wantDrained: true, wantMetric: true, wantOutcome: "recorded"},
		{name: "withdraw again", req: request("POST", withdraw, nil, f(valid, "revoked")), stored: withdrawn, wantStatus: 200,
			wantBody: []string{"Referral already withdrawn", "already recorded"}, wantOutcome: "already-recorded"},
		{name: "withdraw after the meeting", req: request("POST", withdraw, nil, f(valid, "revoked")), stored: met, wantStatus: 409,
			wantBody: []string{"There is a problem", "the patient has met the employment specialist and support has started", "contact the employment specialist"},
			notBody:  []string{"Taylor"}, wantOutcome: "conflict"},
		{name: "withdraw without a reason", req: request("POST", withdraw, nil, f(valid, "")), stored: assigned, wantStatus: 400,
			wantBody: []string{"There is a problem", `href="#reason"`, "Select why you are withdrawing this referral"}, wantOutcome: "invalid"},
		{name: "withdraw with an unknown reason", req: request("POST", withdraw, nil, f(valid, "bored")), stored: assigned, wantStatus: 400,
			wantBody: []string{`href="#reason"`}, wantOutcome: "invalid"},
		{name: "specialist token on withdraw", req: request("POST", withdraw, nil, f(signer.Sign(refID, "ann", validTill), "revoked")), stored: assigned,
			wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "tampered withdraw", req: request("POST", withdraw, nil, f(tamper(valid), "revoked")), stored: assigned, wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "expired withdraw", req: request("POST", withdraw, nil, f(referrerToken(signer, refID, "priya.shah@nhs.net", testNow.Add(-time.Minute)), "revoked")),
			stored: assigned, wantStatus: 403, wantOutcome: "expired-link"},
		{name: "other referral's token on withdraw", req: request("POST", withdraw, nil, f(referrerToken(signer, unknownID, "priya.shah@nhs.net", validTill), "revoked")),
			stored: assigned, wantStatus: 403, wantOutcome: "invalid-link"},
		{name: "GET on withdraw", req: request("GET", withdraw, q(valid), nil), stored: assigned, wantStatus: 405, wantOutcome: "method-not-allowed"},

		{name: "referrer token on the specialist page", req: request("GET", "/referrals/"+refID, q(valid), nil), stored: assigned,
			wantStatus: 403, notBody: []string{"Sam"}, wantOutcome: "invalid-link"},
	}
	for _, a := range referral.Actions {
		tests = append(tests, struct {
			name        string
			req         events.APIGatewayV2HTTPRequest
			stored      referral.Referral
			wantStatus  int
			wantBody    []string
			notBody     []string
			wantWrites  []string
			wantDrained bool
			wantMetric  bool
			wantOutcome string
		}{name: "referrer token on " + string(a), req: request("POST", "/referrals/"+refID+"/"+string(a), nil, url.Values{"token": {valid}, "reason": {"declined"}, "method": {"phone"}}),
			stored: assigned, wantStatus: 403, wantOutcome: "invalid-link"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hs, metricsOut := referrerHarness(t, tt.stored)
			res := hs.do(t, tt.req)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d\n%s", res.StatusCode, tt.wantStatus, res.Body)
			}
			checkHeaders(t, res)
			for _, s := range tt.wantBody {
				if !strings.Contains(res.Body, s) {
					t.Errorf("body lacks %q", s)
				}
			}
			for _, s := range tt.notBody {
				if strings.Contains(res.Body, s) {
					t.Errorf("body has %q", s)
				}
			}
			if !slices.Equal(hs.store.writes, tt.wantWrites) {
				t.Errorf("writes = %v, want %v", hs.store.writes, tt.wantWrites)
			}
			if drained := len(hs.drain.areas) > 0; drained != tt.wantDrained {
				t.Errorf("drained = %v, want %v", drained, tt.wantDrained)
			}
			if got := strings.Count(metricsOut.String(), `"ReferralsEnteredInError"`); (got > 0) != tt.wantMetric {
				t.Errorf("metric lines: %s", metricsOut.String())
			} else if tt.wantMetric && (got != 2 || strings.Count(metricsOut.String(), "\n") != 1 || !strings.Contains(metricsOut.String(), `"Dimensions":[[]]`)) {
				t.Errorf("want one ReferralsEnteredInError line without dimensions: %s", metricsOut.String())
			}
			lines := hs.logLines(t)
			if len(lines) != 1 || lines[0]["outcome"] != tt.wantOutcome {
				t.Errorf("log = %v, want one line with outcome %q", lines, tt.wantOutcome)
			}
			checkNoPatientData(t, hs.logs.String(), valid)
			if tt.wantMetric {
				if r := hs.store.referrals[refID]; r.Patient.FamilyName != "" || r.Patient.NHSNumber != "" || r.Notes != "" || r.Patient.GivenName != "S" {
					t.Errorf("entered-in-error left personal data: %+v", r.Submission)
				}
			}
		})
	}
}

// TestStatusPageNeverWrites: opening the status page any number of times writes nothing.
func TestStatusPageNeverWrites(t *testing.T) {
	t.Parallel()
	hs, _ := referrerHarness(t, storedReferral(referral.StatusAssigned, "ann"))
	token := referrerToken(newSigner(t), refID, "priya.shah@nhs.net", validTill)
	for range 3 {
		if res := hs.do(t, request(http.MethodGet, "/referrals/"+refID+"/status", url.Values{"token": {token}}, nil)); res.StatusCode != 200 {
			t.Fatalf("status = %d", res.StatusCode)
		}
	}
	if len(hs.store.writes) != 0 || hs.store.referrals[refID].Status != referral.StatusAssigned {
		t.Errorf("GET wrote %v", hs.store.writes)
	}
}
