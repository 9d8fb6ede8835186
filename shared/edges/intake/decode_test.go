package intake_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/intake"
)

// specRequest is the JSON request of SPEC §4.
const specRequest = `{
  "patient": {
    "givenName": "Sam", "familyName": "Taylor",
    "dateOfBirth": "1988-02-29",
    "nhsNumber": "943 476 5919",
    "postcode": "s1 2hh",
    "phone": "07700 900123",
    "email": "sam.taylor@example.com",
    "preferredContact": "phone"
  },
  "referrer": {
    "name": "Dr Priya Shah",
    "practiceCode": "C88038",
    "email": "priya.shah@nhs.net",
    "phone": "0114 496 0000"
  },
  "employmentStatus": "unemployed",
  "healthConditions": ["mental-health"],
  "consent": true,
  "notes": "Prefers afternoon calls."
}`

// specSubmission is specRequest as decoded: the raw values, not yet normalised.
func specSubmission() referral.Submission {
	return referral.Submission{
		Patient: referral.Patient{
			GivenName: "Sam", FamilyName: "Taylor", DateOfBirth: "1988-02-29", NHSNumber: "943 476 5919",
			Postcode: "s1 2hh", Phone: "07700 900123", Email: "sam.taylor@example.com", PreferredContact: "phone",
		},
		Referrer: referral.Referrer{
			Name: "Dr Priya Shah", PracticeCode: "C88038", Email: "priya.shah@nhs.net", Phone: "0114 496 0000",
		},
		EmploymentStatus: "unemployed",
		HealthConditions: []string{"mental-health"},
		Consent:          true,
		Notes:            "Prefers afternoon calls.",
	}
}

var received = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// decodeOrder is every path DecodeJSON can report, in form order.
var decodeOrder = []string{
	"patient", "patient.givenName", "patient.familyName", "patient.dateOfBirth", "patient.nhsNumber",
	"patient.postcode", "patient.phone", "patient.email", "patient.preferredContact",
	"referrer", "referrer.name", "referrer.practiceCode", "referrer.email", "referrer.phone",
	"employmentStatus", "healthConditions", "consent", "notes",
}

// mustInvalid checks err is an invalid-input *referral.Error and returns its field errors.
func mustInvalid(tb testing.TB, err error) []referral.FieldError {
	tb.Helper()
	var e *referral.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v, want a *referral.Error", err)
	}
	if e.Code != referral.CodeInvalid || e.Message == "" || len(e.Fields) == 0 {
		tb.Fatalf("error = %+v, want code %q with a message and field errors", e, referral.CodeInvalid)
	}
	for _, f := range e.Fields {
		if f.Message == "" {
			tb.Fatalf("field %q has an empty message", f.Field)
		}
	}
	return e.Fields
}

func fieldNames(errs []referral.FieldError) []string {
	names := make([]string, len(errs))
	for i, e := range errs {
		names[i] = e.Field
	}
	return names
}

func TestDecodeJSONSpecExample(t *testing.T) {
	t.Parallel()
	sub, err := intake.DecodeJSON([]byte(specRequest))
	if err != nil {
		t.Fatalf("DecodeJSON: %v", err)
	}
	if want := specSubmission(); !reflect.DeepEqual(sub, want) {
		t.Fatalf("DecodeJSON =\n%+v\nwant\n%+v", sub, want)
	}
	if _, err := referral.Validate(sub, received, referral.DefaultRules()); err != nil {
		t.Errorf("the SPEC §4 example is not valid: %v (%+v)", err, referral.FieldErrors(err))
	}
}

func TestDecodeJSONLenience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want func(*referral.Submission) // edits specSubmission(); nil means the zero Submission
	}{
		{"unknown fields ignored", strings.Replace(specRequest, `"consent": true,`,
			`"consent": true, "extra": {"deep": [1, 2e400, null]}, "Consent": false,`, 1),
			func(*referral.Submission) {}},
		{"unknown patient field of any type", strings.Replace(specRequest, `"givenName": "Sam",`,
			`"givenName": "Sam", "middleName": 5,`, 1), func(*referral.Submission) {}},
		{"byte order mark", "\uFEFF" + specRequest, func(*referral.Submission) {}},
		{"surrounding whitespace", "\n\t " + specRequest + " \r\n", func(*referral.Submission) {}},
		{"keys are case-sensitive", `{"Consent": true, "PATIENT": {"givenName": "Sam"}}`, nil},
		{"null is absent", `{"patient": null, "referrer": {"phone": null, "name": null}, "employmentStatus": null,
			"healthConditions": null, "consent": null, "notes": null}`, nil},
		{"empty object", `{}`, nil},
		{"same key in different objects", strings.Replace(specRequest, `"notes": "Prefers afternoon calls."`,
			`"notes": "Prefers afternoon calls.", "extra": {"notes": 1, "x": [{"notes": 2}, {"notes": 3}]}`, 1), func(*referral.Submission) {}},
		{"empty health conditions", strings.Replace(specRequest, `["mental-health"]`, `[]`, 1),
			func(s *referral.Submission) { s.HealthConditions = []string{} }},
		{"unicode and escapes", strings.Replace(specRequest, `"Taylor"`, `"Tayl\u00f6r \ud83d\ude00"`, 1),
			func(s *referral.Submission) { s.Patient.FamilyName = "Taylör 😀" }},
		{"escaped newline reaches Validate", strings.Replace(specRequest, `"Sam"`, `"Sam\r\nBcc: x"`, 1),
			func(s *referral.Submission) { s.Patient.GivenName = "Sam\r\nBcc: x" }},
		{"escaped backslash before u is not an escape", strings.Replace(specRequest, `"Prefers afternoon calls."`, `"a\\ud800"`, 1),
			func(s *referral.Submission) { s.Notes = `a\ud800` }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := intake.DecodeJSON([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodeJSON: %v (%+v)", err, referral.FieldErrors(err))
			}
			var want referral.Submission
			if tt.want != nil {
				want = specSubmission()
				tt.want(&want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("DecodeJSON =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestDecodeJSONRejectsAmbiguousInput: what encoding/json would repair or resolve is a 400 for
// the whole body, with a message saying what is wrong (SPEC §4).
func TestDecodeJSONRejectsAmbiguousInput(t *testing.T) {
	t.Parallel()
	notes := func(v string) string {
		return strings.Replace(specRequest, `"Prefers afternoon calls."`, v, 1)
	}
	tests := []struct{ name, body, want string }{
		{"raw invalid byte in a name", strings.Replace(specRequest, `"Sam"`, "\"S\xffam\"", 1), "UTF-8"},
		{"raw invalid byte outside strings", specRequest + "\xff", "UTF-8"},
		{"truncated multibyte", notes("\"caf\xc3\""), "UTF-8"},
		{"encoded surrogate half", notes("\"a\xed\xa0\x80\""), "UTF-8"},
		{"lone high surrogate", notes(`"a\ud800"`), "surrogate"},
		{"lone high surrogate at end", notes(`"\uD83D"`), "surrogate"},
		{"high surrogate then letter", notes(`"\ud83dx\u0041"`), "surrogate"},
		{"two high surrogates", notes(`"\ud83d\ud83d"`), "surrogate"},
		{"lone low surrogate", notes(`"\ude00"`), "surrogate"},
		{"lone surrogate in a key", `{"\ud800": 1}`, "surrogate"},
		{"duplicate top-level key", notes(`"first", "notes": "second"`), "notes twice"},
		{"duplicate nested key", strings.Replace(specRequest, `"givenName": "Sam",`, `"givenName": "Sam", "givenName": "Alex",`, 1), "patient.givenName twice"},
		{"duplicate key by escape", strings.Replace(specRequest, `"givenName": "Sam",`, `"givenName": "Sam", "given\u004eame": "Alex",`, 1), "patient.givenName twice"},
		{"duplicate key in an unknown object", `{"extra": {"a": 1, "a": 1}}`, "same key twice"},
		{"duplicate key inside a list", `{"extra": [1, {"a": {}, "b": [], "a": null}]}`, "same key twice"},
		{"duplicate with equal values", `{"consent": true, "consent": true}`, "consent twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := intake.DecodeJSON([]byte(tt.body))
			errs := mustInvalid(t, err)
			if len(errs) != 1 || errs[0].Field != "" || !strings.Contains(errs[0].Message, tt.want) {
				t.Fatalf("field errors %+v, want one for the whole body mentioning %q", errs, tt.want)
			}
			if strings.Contains(errs[0].Message, "Alex") || strings.Contains(errs[0].Message, "first") {
				t.Errorf("message repeats the input: %q", errs[0].Message)
			}
		})
	}
}

func TestDecodeJSONMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body string }{
		{"empty", ""},
		{"whitespace", " \n\t"},
		{"unterminated object", `{"patient": {"givenName": "Sam"}`},
		{"trailing comma", `{"consent": true,}`},
		{"single quotes", `{'consent': true}`},
		{"unquoted key", `{consent: true}`},
		{"trailing data", `{"consent": true} x`},
		{"two objects", `{} {}`},
		{"trailing bracket", `{}]`},
		{"array", `[{"consent": true}]`},
		{"string", `"referral"`},
		{"number", `42`},
		{"huge number", `1e999999`},
		{"true", `true`},
		{"null", `null`},
		{"form body sent as JSON", `patient.givenName=Sam&consent=yes`},
		{"NUL byte", "{\"notes\": \"a\x00b\"}"},
		{"raw newline in string", "{\"notes\": \"a\nb\"}"},
		{"bad escape", `{"notes": "\q"}`},
		{"bad unicode escape", `{"notes": "\uZZZZ"}`},
		{"nested too deep", strings.Repeat("[", 20000) + strings.Repeat("]", 20000)},
		{"field nested too deep", `{"notes": ` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}`},
		{"unterminated deep nesting", `{"patient": ` + strings.Repeat("[", 100000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := intake.DecodeJSON([]byte(tt.body))
			errs := mustInvalid(t, err)
			if len(errs) != 1 || errs[0].Field != "" {
				t.Fatalf("field errors %+v, want one for the whole body (field \"\")", errs)
			}
			if strings.Contains(errs[0].Message, "Sam") || strings.Contains(errs[0].Message, "referral\"") {
				t.Errorf("message echoes the body: %q", errs[0].Message)
			}
		})
	}
}

func TestDecodeJSONTypeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"consent as a string", `{"consent": "yes"}`, []string{"consent"}},
		{"consent as a number", `{"consent": 1}`, []string{"consent"}},
		{"patient as a number", `{"patient": 5}`, []string{"patient"}},
		{"patient as a list", `{"patient": [{"givenName": "Sam"}]}`, []string{"patient"}},
		{"referrer as a string", `{"referrer": "Dr Shah"}`, []string{"referrer"}},
		{"health conditions as a string", `{"healthConditions": "mental-health"}`, []string{"healthConditions"}},
		{"health condition as a number", `{"healthConditions": ["other", 3]}`, []string{"healthConditions"}},
		{"health condition null", `{"healthConditions": [null]}`, []string{"healthConditions"}},
		{"health condition object", `{"healthConditions": [{}]}`, []string{"healthConditions"}},
		{"given name as a number", `{"patient": {"givenName": 5}}`, []string{"patient.givenName"}},
		{"NHS number as a number", `{"patient": {"nhsNumber": 9434765919}}`, []string{"patient.nhsNumber"}},
		{"huge number for a name", `{"referrer": {"name": 1e999999}}`, []string{"referrer.name"}},
		{"long digit run for a name", `{"referrer": {"name": ` + strings.Repeat("9", 10000) + `}}`, []string{"referrer.name"}},
		{"huge number for consent", `{"consent": -1e999999}`, []string{"consent"}},
		{"deep value where a string belongs", `{"notes": ` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`, []string{"notes"}},
		{"boolean email", `{"patient": {"email": false}}`, []string{"patient.email"}},
		{"every type error, reported in form order",
			`{"notes": 1, "consent": "yes", "healthConditions": {}, "employmentStatus": [],
			  "referrer": {"phone": 1, "email": 2, "practiceCode": 3, "name": 4},
			  "patient": {"preferredContact": 1, "email": 2, "phone": 3, "postcode": 4, "nhsNumber": 5,
			              "dateOfBirth": 6, "familyName": 7, "givenName": 8}}`,
			[]string{"patient.givenName", "patient.familyName", "patient.dateOfBirth", "patient.nhsNumber",
				"patient.postcode", "patient.phone", "patient.email", "patient.preferredContact",
				"referrer.name", "referrer.practiceCode", "referrer.email", "referrer.phone",
				"employmentStatus", "healthConditions", "consent", "notes"}},
		{"objects and values together", `{"notes": false, "referrer": [], "patient": {"postcode": {}}, "consent": "yes"}`,
			[]string{"patient.postcode", "referrer", "consent", "notes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := intake.DecodeJSON([]byte(tt.body))
			errs := mustInvalid(t, err)
			if got := fieldNames(errs); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
		})
	}
}

func TestDecodeJSONTypeErrorKeepsOtherFields(t *testing.T) {
	t.Parallel()
	body := strings.Replace(specRequest, `"consent": true`, `"consent": "yes"`, 1)
	sub, err := intake.DecodeJSON([]byte(body))
	if got := fieldNames(mustInvalid(t, err)); !slices.Equal(got, []string{"consent"}) {
		t.Fatalf("fields = %q, want [consent]", got)
	}
	want := specSubmission()
	want.Consent = false
	if !reflect.DeepEqual(sub, want) {
		t.Errorf("partial submission =\n%+v\nwant\n%+v", sub, want)
	}
}

func TestDecodeJSONTypeErrorMessagesDoNotEchoValues(t *testing.T) {
	t.Parallel()
	_, err := intake.DecodeJSON([]byte(`{"patient": {"nhsNumber": 9434765919, "givenName": ["Zq7secret"]}, "consent": "Zq7secret"}`))
	for _, f := range mustInvalid(t, err) {
		if strings.Contains(f.Message, "Zq7secret") || strings.Contains(f.Message, "9434765919") {
			t.Errorf("message for %q echoes the value: %q", f.Field, f.Message)
		}
	}
}

// specForm is the SPEC §4 example as the web form sends it.
func specForm() url.Values {
	return url.Values{
		"patient.givenName":        {"Sam"},
		"patient.familyName":       {"Taylor"},
		"patient.dateOfBirth":      {"1988-02-29"},
		"patient.nhsNumber":        {"943 476 5919"},
		"patient.postcode":         {"s1 2hh"},
		"patient.phone":            {"07700 900123"},
		"patient.email":            {"sam.taylor@example.com"},
		"patient.preferredContact": {"phone"},
		"referrer.name":            {"Dr Priya Shah"},
		"referrer.practiceCode":    {"C88038"},
		"referrer.email":           {"priya.shah@nhs.net"},
		"referrer.phone":           {"0114 496 0000"},
		"employmentStatus":         {"unemployed"},
		"healthConditions":         {"mental-health"},
		"consent":                  {"yes"},
		"notes":                    {"Prefers afternoon calls."},
		intake.FormTokenField:      {"tok-123"},
		intake.HoneypotField:       {""},
	}
}

func TestFormFieldNames(t *testing.T) {
	t.Parallel()
	if intake.FormTokenField != "idempotencyToken" || intake.HoneypotField != "website" {
		t.Errorf("FormTokenField, HoneypotField = %q, %q", intake.FormTokenField, intake.HoneypotField)
	}
}

func TestDecodeForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(url.Values)
		want     func(*referral.Submission)
		token    string
		honeypot string
	}{
		{"spec example", func(url.Values) {}, func(*referral.Submission) {}, "tok-123", ""},
		{"consent upper case and padded", func(v url.Values) { v.Set("consent", " YES ") }, func(*referral.Submission) {}, "tok-123", ""},
		{"consent unticked", func(v url.Values) { v.Del("consent") },
			func(s *referral.Submission) { s.Consent = false }, "tok-123", ""},
		{"consent other values", func(v url.Values) { v.Set("consent", "true") },
			func(s *referral.Submission) { s.Consent = false }, "tok-123", ""},
		{"consent on", func(v url.Values) { v.Set("consent", "on") },
			func(s *referral.Submission) { s.Consent = false }, "tok-123", ""},
		{"repeated checkboxes, empty ones skipped", func(v url.Values) {
			v["healthConditions"] = []string{"other", "", "mental-health", " ", "other"}
		}, func(s *referral.Submission) { s.HealthConditions = []string{"other", "mental-health", "other"} }, "tok-123", ""},
		{"no checkboxes", func(v url.Values) { v.Del("healthConditions") },
			func(s *referral.Submission) { s.HealthConditions = nil }, "tok-123", ""},
		{"repeated text field takes the first", func(v url.Values) { v.Add("patient.givenName", "Alex") },
			func(*referral.Submission) {}, "tok-123", ""},
		{"values kept as entered", func(v url.Values) { v.Set("notes", "  line one\r\nline two ") },
			func(s *referral.Submission) { s.Notes = "  line one\r\nline two " }, "tok-123", ""},
		{"honeypot filled", func(v url.Values) { v.Set(intake.HoneypotField, " https://spam.example ") },
			func(*referral.Submission) {}, "tok-123", "https://spam.example"},
		{"honeypot whitespace only", func(v url.Values) { v.Set(intake.HoneypotField, " \t") },
			func(*referral.Submission) {}, "tok-123", ""},
		{"token trimmed", func(v url.Values) { v.Set(intake.FormTokenField, " tok-456\n") },
			func(*referral.Submission) {}, "tok-456", ""},
		{"token missing", func(v url.Values) { v.Del(intake.FormTokenField) },
			func(*referral.Submission) {}, "", ""},
		{"JSON-style names are not read", func(v url.Values) { v.Set("patient[givenName]", "Alex") },
			func(*referral.Submission) {}, "tok-123", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			values := specForm()
			tt.edit(values)
			sub, token, honeypot := intake.DecodeForm(values)
			want := specSubmission()
			tt.want(&want)
			if !reflect.DeepEqual(sub, want) {
				t.Errorf("DecodeForm =\n%+v\nwant\n%+v", sub, want)
			}
			if token != tt.token || honeypot != tt.honeypot {
				t.Errorf("token, honeypot = %q, %q; want %q, %q", token, honeypot, tt.token, tt.honeypot)
			}
		})
	}
}

func TestDecodeFormEmpty(t *testing.T) {
	t.Parallel()
	sub, token, honeypot := intake.DecodeForm(url.Values{})
	if !reflect.DeepEqual(sub, referral.Submission{}) || token != "" || honeypot != "" {
		t.Errorf("DecodeForm(empty) = %+v, %q, %q; want zero values", sub, token, honeypot)
	}
	if sub, _, _ := intake.DecodeForm(nil); !reflect.DeepEqual(sub, referral.Submission{}) {
		t.Errorf("DecodeForm(nil) = %+v", sub)
	}
}

// TestDecodeFormThenValidate runs encoded form bodies through the whole edge path.
func TestDecodeFormThenValidate(t *testing.T) {
	t.Parallel()
	valid := specForm().Encode()
	tests := []struct {
		name   string
		body   string
		fields []string // nil: valid
	}{
		{"spec example", valid, nil},
		{"CRLF in a name", strings.Replace(valid, "patient.givenName=Sam", "patient.givenName=Sam%0D%0ABcc%3A+x", 1), []string{"patient.givenName"}},
		{"invalid UTF-8 in a name", strings.Replace(valid, "referrer.name=Dr", "referrer.name=%FFDr", 1), []string{"referrer.name"}},
		{"NUL in notes", strings.Replace(valid, "notes=Prefers", "notes=%00Prefers", 1), []string{"notes"}},
		{"no consent", strings.Replace(valid, "consent=yes", "consent=no", 1), []string{"consent"}},
		{"empty form", "", []string{"patient.givenName", "patient.familyName", "patient.dateOfBirth",
			"patient.nhsNumber", "patient.postcode", "patient.phone", "referrer.name", "referrer.practiceCode",
			"referrer.email", "employmentStatus", "consent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			values, err := url.ParseQuery(tt.body)
			if err != nil {
				t.Fatalf("ParseQuery: %v", err)
			}
			sub, _, _ := intake.DecodeForm(values)
			_, err = referral.Validate(sub, received, referral.DefaultRules())
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate: %v (%+v)", err, referral.FieldErrors(err))
				}
				return
			}
			if got := fieldNames(mustInvalid(t, err)); !slices.Equal(got, tt.fields) {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
		})
	}
}

// checkFieldOrder fails unless every field is a known path, each at most once, in form order.
func checkFieldOrder(tb testing.TB, errs []referral.FieldError) {
	tb.Helper()
	last := -1
	for _, e := range errs {
		i := slices.Index(decodeOrder, e.Field)
		if i <= last {
			tb.Fatalf("field errors not one per known field in form order: %+v", errs)
		}
		last = i
	}
}

// checkRevalidates fails unless validating sub's normalised form gives it back unchanged.
func checkRevalidates(tb testing.TB, sub referral.Submission) {
	tb.Helper()
	out, err := referral.Validate(sub, received, referral.DefaultRules())
	if err != nil {
		checkFieldOrder(tb, mustInvalid(tb, err))
		return
	}
	again, err := referral.Validate(out, received, referral.DefaultRules())
	if err != nil || !reflect.DeepEqual(again, out) {
		tb.Fatalf("normalised submission does not re-validate to itself: %+v, %v", again, err)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{specRequest, `{}`, `null`, `{"consent":"yes","patient":5}`, `{"healthConditions":[null]}`, "\uFEFF{}", `[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sub, err := intake.DecodeJSON(body)
		if err != nil {
			errs := mustInvalid(t, err)
			if errs[0].Field == "" {
				if len(errs) != 1 {
					t.Fatalf("malformed body with more than one error: %+v", errs)
				}
				return
			}
			checkFieldOrder(t, errs)
			return
		}
		// What decoded encodes and decodes to the same submission.
		b, err := json.Marshal(sub)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := intake.DecodeJSON(b)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", b, err)
		}
		if len(sub.HealthConditions) == 0 {
			sub.HealthConditions = nil // omitempty drops an empty list
		}
		if !reflect.DeepEqual(again, sub) {
			t.Fatalf("round trip changed the submission:\n%+v\n%+v", sub, again)
		}
		checkRevalidates(t, sub)
	})
}

func FuzzDecodeForm(f *testing.F) {
	for _, s := range []string{specForm().Encode(), "", "consent=yes", "patient.givenName=%0D%0A", "a=%zz", "healthConditions=other&healthConditions=other"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return // the handler answers 400 before decoding
		}
		sub, token, honeypot := intake.DecodeForm(values)
		if token != strings.TrimSpace(token) || honeypot != strings.TrimSpace(honeypot) {
			t.Fatalf("token %q or honeypot %q not trimmed", token, honeypot)
		}
		if sub.Consent != strings.EqualFold(strings.TrimSpace(values.Get("consent")), "yes") {
			t.Fatalf("consent = %v for %q", sub.Consent, values.Get("consent"))
		}
		for _, c := range sub.HealthConditions {
			if strings.TrimSpace(c) == "" {
				t.Fatal("an empty health condition was kept")
			}
		}
		checkRevalidates(t, sub)
	})
}
