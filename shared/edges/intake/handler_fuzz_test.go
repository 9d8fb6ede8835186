package intake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// fuzzMode is what the fake domain does with a submission that reaches it.
type fuzzMode uint8

const (
	modeReal        fuzzMode = iota // the real referral.Intake over an in-memory area finder and store
	modeAccept                      // accepted whatever it is
	modeUnavailable                 // DynamoDB is down: the only 5xx the edge may answer
	modeConflict                    // the idempotency key was used for another body
	modeOutOfArea                   // no area serves the postcode
	modeReplay                      // a stored receipt comes back
	fuzzModes
)

// fuzzStore is the store of modeReal: every referral is assigned and nothing is kept, but a key
// starting with "taken" is already claimed, for this very request when it is "taken-same" (a
// replay) and for another one otherwise (a conflict).
type fuzzStore struct{ hash string }

func (s *fuzzStore) Record(_ context.Context, r referral.Referral, claim *referral.Idempotency) (referral.Referral, error) {
	if claim != nil && strings.HasPrefix(claim.Key, "taken") {
		s.hash = claim.RequestHash
		return r, referral.ErrKeyTaken
	}
	r.Status, r.SpecialistID = referral.StatusAssigned, "ann"
	return r, nil
}

func (s *fuzzStore) Claimed(_ context.Context, key string, now time.Time) (referral.Idempotency, error) {
	if !strings.HasPrefix(key, "taken") {
		return referral.Idempotency{}, referral.Errorf(referral.CodeNotFound, "no such idempotency key")
	}
	c := referral.Idempotency{Key: key, RequestHash: "another", Receipt: receipt, ExpiresAt: now.Add(time.Hour)}
	if key == "taken-same" {
		c.RequestHash = s.hash
	}
	return c, nil
}

// fuzzAreas puts postcodes in Sheffield (S…) in South Yorkshire and the rest nowhere.
type fuzzAreas struct{}

func (fuzzAreas) AreaFor(_ context.Context, pc string) (string, bool, error) {
	return "south-yorkshire", strings.HasPrefix(pc, "S"), nil
}

// fuzzIntake is the fake Submitter: its mode says what Submit does.
type fuzzIntake struct {
	mode fuzzMode
	real *referral.Intake
}

func (f fuzzIntake) Submit(ctx context.Context, req referral.Request) (referral.Outcome, error) {
	switch f.mode {
	case modeReal:
		return f.real.Submit(ctx, req)
	case modeAccept:
		return referral.Outcome{Receipt: receipt}, nil
	case modeUnavailable:
		return referral.Outcome{}, errors.Join(referral.Errorf(referral.CodeUnavailable, "The service is busy"), errors.New("dynamodb: connection refused"))
	case modeConflict:
		return referral.Outcome{}, referral.Errorf(referral.CodeConflict, "key reused")
	case modeOutOfArea:
		return referral.Outcome{}, &referral.Error{Code: referral.CodeOutOfArea, Message: "x", Fields: []referral.FieldError{{Field: "patient.postcode", Message: "not in an area"}}}
	default:
		return referral.Outcome{Receipt: receipt, Replayed: true}, nil
	}
}

// FuzzHandler feeds arbitrary bodies, content types, base64 flags and idempotency keys to the
// whole handler. Whatever arrives, it answers (no panic, nil error) with a status of SPEC §4's
// table: never a 5xx but the 503 of an unavailable store, which carries Retry-After; JSON
// answers are JSON, HTML answers are pages; and it logs exactly one line.
func FuzzHandler(f *testing.F) {
	spec := loadEventFile(f, "post-referral-json.json")
	form := loadEventFile(f, "post-referral-form.json")
	for mode := range fuzzModes {
		f.Add(spec.Body, "application/json", false, "key-1", uint8(mode))
		f.Add(form.Body, "application/x-www-form-urlencoded", false, "", uint8(mode))
	}
	f.Add(base64.StdEncoding.EncodeToString([]byte(spec.Body)), "application/json; charset=utf-8", true, "taken-same", uint8(modeReal))
	f.Add(spec.Body, "application/json", false, "taken-other", uint8(modeReal))
	f.Add("%%%", "application/json", true, "", uint8(modeReal))
	f.Add(`{"consent":"yes","patient":5}`, "application/json", false, "", uint8(modeReal))
	f.Add("patient.givenName=%0D%0A&consent=yes&website=x", "application/x-www-form-urlencoded", false, "", uint8(modeReal))
	f.Add("a=%zz", "application/x-www-form-urlencoded", false, "", uint8(modeReal))
	f.Add("", "text/plain", false, "", uint8(modeReal))
	f.Add("{}", `application/json; charset="`, false, "has space", uint8(modeReal))

	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	allowed := map[int]bool{200: true, 201: true, 400: true, 409: true, 413: true, 415: true, 422: true}

	f.Fuzz(func(t *testing.T, body, contentType string, isBase64 bool, key string, mode uint8) {
		m := fuzzMode(mode % uint8(fuzzModes))
		req := spec
		req.Headers = map[string]string{"content-type": contentType, "idempotency-key": key}
		req.Body, req.IsBase64Encoded = body, isBase64
		svc := &referral.Intake{
			Areas: fuzzAreas{}, Store: &fuzzStore{}, Calendar: calendar.Embedded(), Policy: referral.DefaultPolicy(),
			Now: func() time.Time { return now }, NewID: referral.NewID,
		}
		var logs bytes.Buffer
		h := &Handler{Intake: fuzzIntake{mode: m, real: svc}, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
			Metrics: &fakeCounter{}, Budget: time.Second, FormTokens: testTokens, AreaNames: staticNames{"south-yorkshire": "South Yorkshire"}}

		res, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned error %v; handlers always return a response and nil", err)
		}
		switch {
		case res.StatusCode == http.StatusServiceUnavailable:
			if m != modeUnavailable {
				t.Fatalf("503 without the store being unavailable (mode %d): %.300s", m, res.Body)
			}
			if res.Headers["Retry-After"] == "" {
				t.Fatal("503 without Retry-After")
			}
		case !allowed[res.StatusCode]:
			t.Fatalf("status %d (mode %d) is not in SPEC §4's table: %.300s", res.StatusCode, m, res.Body)
		}
		ct := res.Headers["Content-Type"]
		switch {
		case strings.HasPrefix(ct, "application/json"):
			if !json.Valid([]byte(res.Body)) {
				t.Fatalf("status %d: Content-Type %s but the body is not JSON: %.300s", res.StatusCode, ct, res.Body)
			}
		case strings.HasPrefix(ct, "text/html"):
			if !strings.Contains(res.Body, "<html") {
				t.Fatalf("status %d: Content-Type %s but the body is not a page: %.300s", res.StatusCode, ct, res.Body)
			}
		default:
			t.Fatalf("status %d: unexpected Content-Type %q", res.StatusCode, ct)
		}
		if strings.Contains(res.Body, "connection refused") {
			t.Fatalf("internal error leaked to the user: %.300s", res.Body)
		}
		var line map[string]any
		if err := json.Unmarshal(bytes.TrimSpace(logs.Bytes()), &line); err != nil {
			t.Fatalf("want exactly one JSON log line, got %q", logs.String())
		}
	})
}

// loadEventFile is loadEvent for a fuzz target's seeds.
func loadEventFile(tb testing.TB, name string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	var req events.APIGatewayV2HTTPRequest
	b, err := os.ReadFile("testdata/" + name)
	if err == nil {
		err = json.Unmarshal(b, &req)
	}
	if err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
	req.Body = strings.Replace(req.Body, "idempotencyToken="+fixtureFormToken, "idempotencyToken="+testFormToken, 1)
	return req
}

// fixtureFormToken is the form token written in testdata/post-referral-form.json; loading the
// fixture swaps it for testFormToken, one the test handlers' signer issued.
const fixtureFormToken = "form-token-0001"

var (
	testTokens, _ = signedlink.NewSigner([]byte("intake-test-form-token-secret-32b"))
	testFormToken = testTokens.Issue(signedlink.Claim{Role: signedlink.RoleForm, Holder: "test-nonce"}, time.Now().Add(FormTokenTTL))
)
