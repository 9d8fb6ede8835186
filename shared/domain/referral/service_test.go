package referral

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

type fakeAreas map[string]string // district → area

func (f fakeAreas) AreaFor(_ context.Context, postcode string) (string, bool, error) {
	if f == nil {
		return "", false, errors.New("directory down")
	}
	for d, a := range f {
		if len(postcode) > len(d) && postcode[:len(d)+1] == d+" " {
			return a, true, nil
		}
	}
	return "", false, nil
}

type fakeStore struct {
	record  func(Referral, *Idempotency) (Referral, error)
	records []Referral
}

func (f *fakeStore) Record(_ context.Context, r Referral, c *Idempotency) (Referral, error) {
	f.records = append(f.records, r)
	return f.record(r, c)
}

// testKeys is a Keyer over a fixed test secret.
var testKeys, _ = NewKeyer([]byte("test-patient-key-secret-of-32-bytes-or-more"))

// heldThenAssign answers the first len(held) Records with the id taken by held[i], then assigns.
func heldThenAssign(held ...*Idempotency) func(Referral, *Idempotency) (Referral, error) {
	calls := 0
	return func(r Referral, c *Idempotency) (Referral, error) {
		calls++
		if calls <= len(held) {
			return r, &IDTaken{Held: held[calls-1]}
		}
		return assign(r, c)
	}
}

func validSubmission() Submission {
	return Submission{
		Patient:          Patient{GivenName: "Sam", FamilyName: "Taylor", DateOfBirth: "1988-02-29", NHSNumber: "943 476 5919", Postcode: "s1 2hh", Phone: "07700 900123", PreferredContact: "phone"},
		Referrer:         Referrer{Name: "Dr Priya Shah", PracticeCode: "C88038", Email: "priya.shah@nhs.net"},
		EmploymentStatus: "unemployed", Consent: true,
	}
}

func assign(r Referral, _ *Idempotency) (Referral, error) {
	r.Status, r.SpecialistID = StatusAssigned, "ann"
	return r, nil
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	saturday := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		sub       func(*Submission)
		areas     fakeAreas
		key       string
		store     fakeStore
		wantCode  Code // "" for success
		wantOut   func(t *testing.T, out Outcome)
		wantSaved int
	}{
		{name: "assigned with deadlines from the day received", areas: fakeAreas{"S1": "south-yorkshire"}, store: fakeStore{record: assign}, wantSaved: 1,
			wantOut: func(t *testing.T, out Outcome) {
				r := out.Receipt
				if r.Status != StatusAssigned || r.Area != "south-yorkshire" || r.ContactBy != "2026-12-01" || r.MeetBy != "2026-12-11" || !r.ReceivedAt.Equal(saturday) {
					t.Errorf("receipt = %+v", r)
				}
				if out.Referral.Patient.NHSNumber != "9434765919" || out.Referral.Patient.Postcode != "S1 2HH" {
					t.Errorf("stored submission not normalised: %+v", out.Referral.Patient)
				}
				if len(out.Referral.Events) != 1 || out.Referral.Events[0].Type != EventReceived || out.Referral.Events[0].Via != "api" {
					t.Errorf("events = %+v", out.Referral.Events)
				}
			}},
		{name: "invalid is not stored", sub: func(s *Submission) { s.Patient.NHSNumber = "1234567890"; s.Consent = false }, areas: fakeAreas{"S1": "x"}, wantCode: CodeInvalid},
		{name: "out of area is not stored", areas: fakeAreas{"NR1": "norfolk"}, wantCode: CodeOutOfArea},
		{name: "directory down is unavailable", areas: nil, wantCode: CodeUnavailable},
		{name: "store down is unavailable", areas: fakeAreas{"S1": "x"}, store: fakeStore{record: func(r Referral, _ *Idempotency) (Referral, error) { return r, errors.New("connection refused") }},
			wantCode: CodeUnavailable, wantSaved: 1},
		{name: "replayed key with the same body returns the stored receipt", areas: fakeAreas{"S1": "x"}, key: "k1", wantSaved: 1,
			store: fakeStore{record: heldThenAssign(&Idempotency{Tag: testKeys.KeyTag("k1"), RequestHash: mustHash(t), Receipt: Receipt{ReferralID: "R-OLD22222", ReceivedAt: saturday.Add(-23 * time.Hour)}})},
			wantOut: func(t *testing.T, out Outcome) {
				if !out.Replayed || out.Receipt.ReferralID != "R-OLD22222" {
					t.Errorf("outcome = %+v, want replay of R-OLD22222", out)
				}
			}},
		{name: "same key with another body conflicts", areas: fakeAreas{"S1": "x"}, key: "k1", wantSaved: 1, wantCode: CodeConflict,
			store: fakeStore{record: heldThenAssign(&Idempotency{Tag: testKeys.KeyTag("k1"), RequestHash: "other", Receipt: Receipt{ReceivedAt: saturday.Add(-time.Hour)}})}},
		{name: "same key used more than a window ago is a new referral under the key's next id", areas: fakeAreas{"S1": "x"}, key: "k1", wantSaved: 2,
			store: fakeStore{record: heldThenAssign(&Idempotency{Tag: testKeys.KeyTag("k1"), RequestHash: "other", Receipt: Receipt{ReceivedAt: saturday.Add(-24 * time.Hour)}})},
			wantOut: func(t *testing.T, out Outcome) {
				if out.Replayed || out.Receipt.ReferralID != testKeys.KeyedID("k1", 1) {
					t.Errorf("outcome = %+v, want a new referral %s", out, testKeys.KeyedID("k1", 1))
				}
			}},
		{name: "key-derived id held by another key's referral moves on", areas: fakeAreas{"S1": "x"}, key: "k1", wantSaved: 3,
			store: fakeStore{record: heldThenAssign(&Idempotency{Tag: testKeys.KeyTag("k2"), RequestHash: mustHash(t), Receipt: Receipt{ReceivedAt: saturday}}, nil)},
			wantOut: func(t *testing.T, out Outcome) {
				if out.Replayed || out.Receipt.ReferralID != testKeys.KeyedID("k1", 2) {
					t.Errorf("outcome = %+v, want a new referral %s", out, testKeys.KeyedID("k1", 2))
				}
			}},
		{name: "random id collision without a key draws again", areas: fakeAreas{"S1": "x"}, wantSaved: 2,
			store: fakeStore{record: heldThenAssign(nil)}},
		{name: "ids never free gives up as unavailable", areas: fakeAreas{"S1": "x"}, key: "k1", wantSaved: maxIDs, wantCode: CodeUnavailable,
			store: fakeStore{record: func(r Referral, _ *Idempotency) (Referral, error) { return r, &IDTaken{} }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := validSubmission()
			if tt.sub != nil {
				tt.sub(&sub)
			}
			store := tt.store
			in := &Intake{Areas: tt.areas, Store: &store, Keys: testKeys, Calendar: calendar.Embedded(), Policy: DefaultPolicy(),
				Now: func() time.Time { return saturday }, NewID: func() string { return "R-NEW22222" }}
			if tt.areas == nil {
				in.Areas = fakeAreas(nil)
			}
			out, err := in.Submit(context.Background(), Request{Submission: sub, IdempotencyKey: tt.key, Via: "api"})
			if got := codeOrEmpty(err); got != tt.wantCode {
				t.Fatalf("Submit error = %v (code %q), want code %q", err, got, tt.wantCode)
			}
			if len(store.records) != tt.wantSaved {
				t.Errorf("Record called %d times, want %d", len(store.records), tt.wantSaved)
			}
			for i, r := range store.records {
				// The claim is the record itself: the key's i-th id, not checked in a separate round trip first.
				want := "R-NEW22222"
				if tt.key != "" {
					want = testKeys.KeyedID(tt.key, i)
				}
				if r.ID != want || r.PatientKey != testKeys.PatientKey("9434765919") {
					t.Errorf("record %d: id %s, patient key %s; want %s, the key of 9434765919", i, r.ID, r.PatientKey, want)
				}
			}
			if tt.wantOut != nil {
				tt.wantOut(t, out)
			}
		})
	}
}

func TestSubmitMergesDecodeErrorsWithRuleErrors(t *testing.T) {
	t.Parallel()
	sub := validSubmission()
	sub.Consent = false            // decoding failed on consent: "yes" was sent
	sub.Patient = Patient{}        // "patient": 5 was sent
	sub.Referrer.PracticeCode = "" // a rule error in a field that decoded fine
	store := &fakeStore{}
	in := &Intake{Areas: fakeAreas{"S1": "x"}, Store: store, Keys: testKeys, Calendar: calendar.Embedded(), Policy: DefaultPolicy(), Now: time.Now, NewID: NewID}
	_, err := in.Submit(context.Background(), Request{Submission: sub, DecodeErrors: []FieldError{{Field: "patient", Message: "must be an object"}, {Field: "consent", Message: "must be true or false"}}})
	var got []string
	for _, f := range FieldErrors(err) {
		got = append(got, f.Field)
	}
	want := []string{"patient", "consent", "referrer.practiceCode"}
	if ErrorCode(err) != CodeInvalid || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("fields = %v (code %s), want %v: type errors first, rule errors of other fields after, none twice", got, ErrorCode(err), want)
	}
	if len(store.records) != 0 {
		t.Error("invalid submission was recorded")
	}
}

func mustHash(t *testing.T) string {
	t.Helper()
	s, err := Validate(validSubmission(), time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC), DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	return RequestHash(s)
}

func codeOrEmpty(err error) Code {
	if err == nil {
		return ""
	}
	return ErrorCode(err)
}

func TestRequestHashDistinguishesBodies(t *testing.T) {
	a, b := validSubmission(), validSubmission()
	b.Notes = "different"
	if RequestHash(a) == RequestHash(b) {
		t.Error("different submissions hash alike")
	}
	if RequestHash(a) != RequestHash(validSubmission()) {
		t.Error("equal submissions hash differently")
	}
}

func TestPickSpecialist(t *testing.T) {
	tests := []struct {
		name  string
		in    []Candidate
		want  []string // any of these
		found bool
	}{
		{"lowest caseload", []Candidate{{ID: "a", Capacity: 20, Caseload: 5, Active: true}, {ID: "b", Capacity: 20, Caseload: 2, Active: true}}, []string{"b"}, true},
		{"inactive skipped", []Candidate{{ID: "a", Capacity: 20, Caseload: 0, Active: false}, {ID: "b", Capacity: 20, Caseload: 9, Active: true}}, []string{"b"}, true},
		{"full skipped", []Candidate{{ID: "a", Capacity: 3, Caseload: 3, Active: true}, {ID: "b", Capacity: 20, Caseload: 9, Active: true}}, []string{"b"}, true},
		{"ties either", []Candidate{{ID: "a", Capacity: 5, Caseload: 1, Active: true}, {ID: "b", Capacity: 5, Caseload: 1, Active: true}}, []string{"a", "b"}, true},
		{"nobody", []Candidate{{ID: "a", Capacity: 0, Active: true}}, nil, false},
		{"empty", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[string]bool{}
			for range 200 {
				got, ok := PickSpecialist(tt.in)
				if ok != tt.found {
					t.Fatalf("ok = %v, want %v", ok, tt.found)
				}
				if ok {
					seen[got.ID] = true
				}
			}
			if len(seen) != len(tt.want) {
				t.Errorf("picked %v, want each of %v (ties spread at random)", seen, tt.want)
			}
			for _, w := range tt.want {
				if !seen[w] {
					t.Errorf("never picked %s", w)
				}
			}
		})
	}
}

func TestNewIDShape(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) || seen[id] {
			t.Fatalf("NewID() = %q: valid %v, repeated %v", id, ValidID(id), seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "R-", "R-7K3M9QX", "R-7K3M9QX2X", "X-7K3M9QX2", "R-7K3M9QO2", "R-7k3m9qx2", "R-1K3M9QX2"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
