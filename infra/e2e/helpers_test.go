package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func urlHost(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return u.Host, nil
}

var client = &http.Client{Timeout: 30 * time.Second}

// response is an HTTP response read whole.
type response struct {
	Status int
	Header http.Header
	Body   string
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("response is not JSON (%d): %v: %.300s", r.Status, err, r.Body)
	}
}

func do(t *testing.T, method, path, contentType, body string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, stack.HTTPURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func postJSON(t *testing.T, v any, headers map[string]string) response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.MethodPost, "/referrals", "application/json", string(b), headers)
}

// patient is a fictional person whose every detail is unique to one test, so tests can share a
// stack and tell their emails and log lines apart.
type patient struct {
	GivenName, FamilyName, DOB, NHS, Phone, Email, Notes, ReferrerEmail string
}

func newPatient(t *testing.T) patient {
	t.Helper()
	p := makePatient(t)
	patientsMu.Lock()
	patients = append(patients, p)
	patientsMu.Unlock()
	return p
}

var (
	patientsMu sync.Mutex
	patients   []patient // every patient the suite made, for the no-patient-data-in-logs check
)

func makePatient(t *testing.T) patient {
	t.Helper()
	tag := randomHex(t, 4)
	return patient{
		GivenName:     "Giv" + tag,
		FamilyName:    "Fam" + tag,
		DOB:           fmt.Sprintf("19%02d-0%d-1%d", 50+randomInt(t, 40), 1+randomInt(t, 9), randomInt(t, 9)),
		NHS:           randomNHS(t),
		Phone:         fmt.Sprintf("07700 9%05d", randomInt(t, 100000)),
		Email:         "pat" + tag + "@example.com",
		Notes:         "Notes" + tag + " prefers afternoons",
		ReferrerEmail: "gp" + tag + "@nhs.net",
	}
}

// submission is the JSON body for p, in the area of postcode.
func (p patient) submission(postcode string) map[string]any {
	return map[string]any{
		"patient": map[string]any{
			"givenName": p.GivenName, "familyName": p.FamilyName, "dateOfBirth": p.DOB,
			"nhsNumber": p.NHS[:3] + " " + p.NHS[3:6] + " " + p.NHS[6:], "postcode": postcode,
			"phone": p.Phone, "email": p.Email, "preferredContact": "phone",
		},
		"referrer": map[string]any{
			"name": "Dr Test GP", "practiceCode": "C88038", "email": p.ReferrerEmail, "phone": "0114 496 0000",
		},
		"employmentStatus": "unemployed",
		"healthConditions": []string{"mental-health", "musculoskeletal"},
		"consent":          true,
		"notes":            p.Notes,
	}
}

// form is the same submission as the web form posts it.
func (p patient) form(postcode, token string) url.Values {
	return url.Values{
		"patient.givenName": {p.GivenName}, "patient.familyName": {p.FamilyName}, "patient.dateOfBirth": {p.DOB},
		"patient.nhsNumber": {p.NHS}, "patient.postcode": {postcode}, "patient.phone": {p.Phone},
		"patient.email": {p.Email}, "patient.preferredContact": {"phone"},
		"referrer.name": {"Dr Test GP"}, "referrer.practiceCode": {"C88038"}, "referrer.email": {p.ReferrerEmail},
		"employmentStatus": {"unemployed"}, "healthConditions": {"mental-health"}, "consent": {"yes"},
		"notes": {p.Notes}, "idempotencyToken": {token}, "website": {""},
	}
}

type receipt struct {
	ReferralID string `json:"referralId"`
	Status     string `json:"status"`
	Area       string `json:"area"`
	ReceivedAt string `json:"receivedAt"`
	ContactBy  string `json:"contactBy"`
	MeetBy     string `json:"meetBy"`
}

type fieldErrors struct {
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (f fieldErrors) fields() []string {
	var out []string
	for _, e := range f.Errors {
		out = append(out, e.Field)
	}
	return out
}

// randomNHS returns a random valid NHS number (modulus 11).
func randomNHS(t *testing.T) string {
	t.Helper()
	for {
		digits := make([]int, 9)
		sum := 0
		for i := range digits {
			digits[i] = randomInt(t, 10)
			sum += digits[i] * (10 - i)
		}
		check := 11 - sum%11
		if check == 11 {
			check = 0
		}
		if check == 10 || digits[0] == 0 {
			continue
		}
		var b strings.Builder
		for _, d := range digits {
			b.WriteByte(byte('0' + d))
		}
		b.WriteByte(byte('0' + check))
		return b.String()
	}
}

func randomInt(t *testing.T, n int) int {
	t.Helper()
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		t.Fatal(err)
	}
	return int(v.Int64())
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// sentEmail is one message in the SES emulator's store.
type sentEmail struct {
	MessageID   string `json:"messageId"`
	From        string `json:"from"`
	Destination struct {
		To []string `json:"to"`
		Cc []string `json:"cc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
}

// emails returns the emails in the emulator that mention referralID in their subject.
func emails(t *testing.T, referralID string) []sentEmail {
	t.Helper()
	var out []sentEmail
	for _, e := range storedEmails(t) {
		if strings.Contains(e.Subject, referralID) {
			out = append(out, e)
		}
	}
	return out
}

// storedEmails returns every email in the emulator.
func storedEmails(t *testing.T) []sentEmail {
	t.Helper()
	res, err := client.Get(sesURL + "/store")
	if err != nil {
		t.Fatalf("read SES store: %v", err)
	}
	defer res.Body.Close()
	var store struct {
		Emails []sentEmail `json:"emails"`
	}
	if err := json.NewDecoder(res.Body).Decode(&store); err != nil {
		t.Fatalf("decode SES store: %v", err)
	}
	return store.Emails
}

// waitForEmails polls until at least n emails about referralID have arrived, then waits for the
// referrals stream to catch up (a duplicate would have been sent by then), and returns them.
func waitForEmails(t *testing.T, referralID string, n int, within time.Duration) []sentEmail {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := emails(t, referralID)
		if len(got) >= n {
			streamsCaughtUp(t)
			return emails(t, referralID)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails about %s after %s, want %d: %+v", len(got), referralID, within, n, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// streamsCaughtUp returns once every referrals-table record written so far has been handled by the
// notifier: whatever email it was going to send about them has been sent. Tests prove that an
// email was not sent (twice) with it, instead of sleeping.
func streamsCaughtUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := stack.StreamsCaughtUp(ctx, "ReferralsTable"); err != nil {
		t.Fatal(err)
	}
}

func subjects(es []sentEmail) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Subject)
	}
	return out
}

// waitUntil polls cond until it holds, failing the test after within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
