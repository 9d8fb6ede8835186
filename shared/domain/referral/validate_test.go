package referral_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// received is a Monday morning in November (GMT), the day of the SPEC §6 example.
var received = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// specExample returns the request of SPEC §4.
func specExample() referral.Submission {
	return referral.Submission{
		Patient: referral.Patient{
			GivenName: "Sam", FamilyName: "Taylor",
			DateOfBirth:      "1988-02-29",
			NHSNumber:        "943 476 5919",
			Postcode:         "s1 2hh",
			Phone:            "07700 900123",
			Email:            "sam.taylor@example.com",
			PreferredContact: "phone",
		},
		Referrer: referral.Referrer{
			Name:         "Dr Priya Shah",
			PracticeCode: "C88038",
			Email:        "priya.shah@nhs.net",
			Phone:        "0114 496 0000",
		},
		EmploymentStatus: "unemployed",
		HealthConditions: []string{"mental-health"},
		Consent:          true,
		Notes:            "Prefers afternoon calls.",
	}
}

// formOrder is every field path in the order the form asks for them.
var formOrder = []string{
	"patient.givenName", "patient.familyName", "patient.dateOfBirth", "patient.nhsNumber",
	"patient.postcode", "patient.phone", "patient.email", "patient.preferredContact",
	"referrer.name", "referrer.practiceCode", "referrer.email", "referrer.phone",
	"employmentStatus", "healthConditions", "consent", "notes",
}

// mustValidate validates s and fails the test if it is not valid.
func mustValidate(tb testing.TB, s referral.Submission, at time.Time, rules referral.Rules) referral.Submission {
	tb.Helper()
	out, err := referral.Validate(s, at, rules)
	if err != nil {
		tb.Fatalf("Validate: unexpected error %v (fields %+v)", err, referral.FieldErrors(err))
	}
	return out
}

// mustFieldErrors checks err is an invalid-submission *Error and returns its field errors.
func mustFieldErrors(tb testing.TB, out referral.Submission, err error) []referral.FieldError {
	tb.Helper()
	var e *referral.Error
	if !errors.As(err, &e) {
		tb.Fatalf("Validate error = %v, want a *referral.Error", err)
	}
	if e.Code != referral.CodeInvalid || e.Message == "" || len(e.Fields) == 0 {
		tb.Fatalf("Validate error = %+v, want code %q, a message and field errors", e, referral.CodeInvalid)
	}
	if !reflect.DeepEqual(out, referral.Submission{}) {
		tb.Fatalf("Validate returned %+v with an error, want the zero Submission", out)
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

// fieldCase edits the valid SPEC example; either exactly one field then fails (field, and the
// message contains msg), or the submission is valid and check inspects the normalised result.
type fieldCase struct {
	name  string
	edit  func(*referral.Submission)
	field string
	msg   string
	check func(testing.TB, referral.Submission)
}

func runFieldCases(t *testing.T, at time.Time, rules referral.Rules, cases []fieldCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := specExample()
			tc.edit(&s)
			out, err := referral.Validate(s, at, rules)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: unexpected error %v (fields %+v)", err, referral.FieldErrors(err))
				}
				if tc.check != nil {
					tc.check(t, out)
				}
				return
			}
			errs := mustFieldErrors(t, out, err)
			if len(errs) != 1 || errs[0].Field != tc.field {
				t.Fatalf("field errors %+v, want exactly one for %q", errs, tc.field)
			}
			if !strings.Contains(errs[0].Message, tc.msg) {
				t.Errorf("message %q does not contain %q", errs[0].Message, tc.msg)
			}
		})
	}
}

func TestValidateSpecExample(t *testing.T) {
	t.Parallel()
	in := specExample()
	got := mustValidate(t, in, received, referral.DefaultRules())
	want := referral.Submission{
		Patient: referral.Patient{
			GivenName: "Sam", FamilyName: "Taylor",
			DateOfBirth:      "1988-02-29",
			NHSNumber:        "9434765919",
			Postcode:         "S1 2HH",
			Phone:            "+447700900123",
			Email:            "sam.taylor@example.com",
			PreferredContact: "phone",
		},
		Referrer: referral.Referrer{
			Name:         "Dr Priya Shah",
			PracticeCode: "C88038",
			Email:        "priya.shah@nhs.net",
			Phone:        "+441144960000",
		},
		EmploymentStatus: "unemployed",
		HealthConditions: []string{"mental-health"},
		Consent:          true,
		Notes:            "Prefers afternoon calls.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Validate(spec example) =\n%+v\nwant\n%+v", got, want)
	}
	if !reflect.DeepEqual(in, specExample()) {
		t.Errorf("Validate changed its input: %+v", in)
	}
	if again := mustValidate(t, got, received, referral.DefaultRules()); !reflect.DeepEqual(again, got) {
		t.Errorf("validating the normalised submission changed it:\n%+v\nwant\n%+v", again, got)
	}
}

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	r := referral.DefaultRules()
	if r.MinAge != 18 || !slices.Equal(r.ReferrerEmailDomains, []string{"nhs.net"}) {
		t.Errorf("DefaultRules() = %+v, want MinAge 18 and [nhs.net]", r)
	}
}

func TestValidateEmptySubmissionReportsEveryRequiredField(t *testing.T) {
	t.Parallel()
	out, err := referral.Validate(referral.Submission{}, received, referral.DefaultRules())
	errs := mustFieldErrors(t, out, err)
	want := []string{
		"patient.givenName", "patient.familyName", "patient.dateOfBirth", "patient.nhsNumber",
		"patient.postcode", "patient.phone", "referrer.name", "referrer.practiceCode",
		"referrer.email", "employmentStatus", "consent",
	}
	if got := fieldNames(errs); !slices.Equal(got, want) {
		t.Errorf("fields = %q\nwant     %q", got, want)
	}
	for _, e := range errs {
		if e.Message == "" {
			t.Errorf("field %q has no message", e.Field)
		}
	}
	if referral.ErrorCode(err) != referral.CodeInvalid {
		t.Errorf("ErrorCode = %q, want %q", referral.ErrorCode(err), referral.CodeInvalid)
	}
}

func TestValidateReportsAllErrorsInFormOrder(t *testing.T) {
	t.Parallel()
	s := referral.Submission{
		Patient: referral.Patient{
			GivenName: "Sam\nTaylor", FamilyName: strings.Repeat("x", 101), DateOfBirth: "2099-01-01",
			NHSNumber: "123", Postcode: "nowhere", Phone: "123", Email: "not an email",
			PreferredContact: "fax",
		},
		Referrer: referral.Referrer{
			Name: "\x00", PracticeCode: "88038", Email: "someone@gmail.com", Phone: "999",
		},
		EmploymentStatus: "retired",
		HealthConditions: []string{"flu"},
		Notes:            strings.Repeat("n", 1001),
	}
	out, err := referral.Validate(s, received, referral.DefaultRules())
	if got := fieldNames(mustFieldErrors(t, out, err)); !slices.Equal(got, formOrder) {
		t.Errorf("fields = %q\nwant     %q", got, formOrder)
	}
}

// TestValidateMessagesNeverEchoInput fills every field with recognisable invalid text and checks
// that no message repeats any of it: messages end up in pages, logs and API responses.
func TestValidateMessagesNeverEchoInput(t *testing.T) {
	t.Parallel()
	secret := "Zq7secret"
	s := referral.Submission{
		Patient: referral.Patient{
			GivenName: secret + "\n" + secret, FamilyName: strings.Repeat(secret, 20), DateOfBirth: secret,
			NHSNumber: secret, Postcode: secret, Phone: secret, Email: secret, PreferredContact: secret,
		},
		Referrer: referral.Referrer{
			Name: secret + "\r" + secret, PracticeCode: secret, Email: secret + "@" + secret + ".com", Phone: secret,
		},
		EmploymentStatus: secret,
		HealthConditions: []string{secret},
		Notes:            strings.Repeat(secret, 200),
	}
	out, err := referral.Validate(s, received, referral.DefaultRules())
	errs := mustFieldErrors(t, out, err)
	if got := fieldNames(errs); !slices.Equal(got, formOrder) {
		t.Fatalf("fields = %q\nwant     %q", got, formOrder)
	}
	for _, e := range errs {
		if strings.Contains(strings.ToLower(e.Message), strings.ToLower(secret)) {
			t.Errorf("message for %q echoes the input: %q", e.Field, e.Message)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("Error() echoes the input: %q", err.Error())
	}
}

func TestValidateNames(t *testing.T) {
	t.Parallel()
	accented100 := strings.Repeat("é", 100) // 200 bytes, 100 characters
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "trimmed, trailing line break too", edit: func(s *referral.Submission) { s.Patient.GivenName = "  Sam \t\r\n" },
			check: func(tb testing.TB, out referral.Submission) {
				if out.Patient.GivenName != "Sam" {
					tb.Errorf("given name = %q, want %q", out.Patient.GivenName, "Sam")
				}
			}},
		{name: "inner spaces, apostrophe and hyphen kept", edit: func(s *referral.Submission) { s.Patient.FamilyName = "O'Neil-Smith Jones" },
			check: func(tb testing.TB, out referral.Submission) {
				if out.Patient.FamilyName != "O'Neil-Smith Jones" {
					tb.Errorf("family name = %q", out.Patient.FamilyName)
				}
			}},
		{name: "100 characters of 2 bytes each", edit: func(s *referral.Submission) { s.Patient.GivenName = accented100 }},
		{name: "one character", edit: func(s *referral.Submission) { s.Patient.FamilyName = "X" }},
		{name: "non-Latin script", edit: func(s *referral.Submission) { s.Patient.GivenName = "Zoë 李 محمد" }},
		{name: "101 characters", edit: func(s *referral.Submission) { s.Patient.GivenName = accented100 + "e" },
			field: "patient.givenName", msg: "100 characters or fewer"},
		{name: "family name without a letter", edit: func(s *referral.Submission) { s.Patient.FamilyName = "-" },
			field: "patient.familyName", msg: "Last name must include at least one letter"},
		{name: "empty given name", edit: func(s *referral.Submission) { s.Patient.GivenName = "" },
			field: "patient.givenName", msg: "Enter the patient's first name"},
		{name: "spaces only", edit: func(s *referral.Submission) { s.Patient.FamilyName = "   " },
			field: "patient.familyName", msg: "Enter the patient's last name"},
		{name: "LF", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\nBcc: x@example.org" },
			field: "patient.givenName", msg: "line breaks"},
		{name: "CR", edit: func(s *referral.Submission) { s.Patient.FamilyName = "Tay\rlor" },
			field: "patient.familyName", msg: "line breaks"},
		{name: "CRLF", edit: func(s *referral.Submission) { s.Referrer.Name = "Dr\r\nShah" },
			field: "referrer.name", msg: "line breaks"},
		{name: "tab inside", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sa\tm" },
			field: "patient.givenName", msg: "control characters"},
		{name: "NUL", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\x00" },
			field: "patient.givenName", msg: "control characters"},
		{name: "DEL", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\x7f" },
			field: "patient.givenName", msg: "control characters"},
		{name: "C1 control NEL", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\u0085Taylor" },
			field: "patient.givenName", msg: "control characters"},
		{name: "line separator", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\u2028Taylor" },
			field: "patient.givenName", msg: "line breaks"},
		{name: "bidi override", edit: func(s *referral.Submission) { s.Patient.FamilyName = "Taylor\u202e" },
			field: "patient.familyName", msg: "control characters"},
		{name: "zero-width space", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sa\u200Bm" },
			field: "patient.givenName", msg: "invisible characters"},
		{name: "right-to-left mark", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\u200F" },
			field: "patient.givenName", msg: "invisible characters"},
		{name: "zero-width joiner", edit: func(s *referral.Submission) { s.Patient.FamilyName = "Tay\u200Dlor" },
			field: "patient.familyName", msg: "invisible characters"},
		{name: "soft hyphen", edit: func(s *referral.Submission) { s.Patient.FamilyName = "Tay\u00ADlor" },
			field: "patient.familyName", msg: "invisible characters"},
		{name: "byte order mark inside", edit: func(s *referral.Submission) { s.Referrer.Name = "Dr\uFEFFShah" },
			field: "referrer.name", msg: "invisible characters"},
		{name: "left-to-right mark in referrer", edit: func(s *referral.Submission) { s.Referrer.Name = "\u200EDr Shah" },
			field: "referrer.name", msg: "invisible characters"},
		{name: "invalid UTF-8", edit: func(s *referral.Submission) { s.Patient.GivenName = "Sam\xff" },
			field: "patient.givenName", msg: "letters"},
		{name: "referrer name missing", edit: func(s *referral.Submission) { s.Referrer.Name = "" },
			field: "referrer.name", msg: "Enter your full name"},
		{name: "referrer name too long", edit: func(s *referral.Submission) { s.Referrer.Name = strings.Repeat("a", 101) },
			field: "referrer.name", msg: "100 characters"},
	})
}

func TestValidateNHSNumber(t *testing.T) {
	t.Parallel()
	want := func(n string) func(testing.TB, referral.Submission) {
		return func(tb testing.TB, out referral.Submission) {
			tb.Helper()
			if out.Patient.NHSNumber != n {
				tb.Errorf("NHS number = %q, want %q", out.Patient.NHSNumber, n)
			}
		}
	}
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "spaced", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "943 476 5919" }, check: want("9434765919")},
		{name: "check digit 0", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "9434765870" }, check: want("9434765870")},
		{name: "hyphens", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "943-476-5919" }, check: want("9434765919")},
		{name: "missing", edit: func(s *referral.Submission) { s.Patient.NHSNumber = " " },
			field: "patient.nhsNumber", msg: "Enter the patient's NHS number"},
		{name: "wrong check digit", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "943 476 5918" },
			field: "patient.nhsNumber", msg: "valid NHS number"},
		{name: "check digit 10", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "123 456 7890" },
			field: "patient.nhsNumber", msg: "valid NHS number"},
		{name: "9 digits", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "943 476 591" },
			field: "patient.nhsNumber", msg: "NHS number must be 10 digits"},
		{name: "11 digits", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "943 476 59190" },
			field: "patient.nhsNumber", msg: "NHS number must be 10 digits"},
		{name: "letters", edit: func(s *referral.Submission) { s.Patient.NHSNumber = "ABC 476 5919" },
			field: "patient.nhsNumber", msg: "NHS number must be 10 digits"},
	})
}

func TestValidatePostcode(t *testing.T) {
	t.Parallel()
	want := func(pc string) func(testing.TB, referral.Submission) {
		return func(tb testing.TB, out referral.Submission) {
			tb.Helper()
			if out.Patient.Postcode != pc {
				tb.Errorf("postcode = %q, want %q", out.Patient.Postcode, pc)
			}
		}
	}
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "lower case", edit: func(s *referral.Submission) { s.Patient.Postcode = "s1 2hh" }, check: want("S1 2HH")},
		{name: "no space", edit: func(s *referral.Submission) { s.Patient.Postcode = "S350AB" }, check: want("S35 0AB")},
		{name: "extra spaces", edit: func(s *referral.Submission) { s.Patient.Postcode = "  ec1a   1bb " }, check: want("EC1A 1BB")},
		{name: "A9A", edit: func(s *referral.Submission) { s.Patient.Postcode = "w1a0ax" }, check: want("W1A 0AX")},
		{name: "missing", edit: func(s *referral.Submission) { s.Patient.Postcode = "" },
			field: "patient.postcode", msg: "Enter the patient's postcode"},
		{name: "outward only", edit: func(s *referral.Submission) { s.Patient.Postcode = "S1" },
			field: "patient.postcode", msg: "full UK postcode"},
		{name: "bad letters", edit: func(s *referral.Submission) { s.Patient.Postcode = "Q1 1AA" },
			field: "patient.postcode", msg: "full UK postcode"},
		{name: "US zip", edit: func(s *referral.Submission) { s.Patient.Postcode = "90210" },
			field: "patient.postcode", msg: "full UK postcode"},
	})
}

func TestValidateContactDetails(t *testing.T) {
	t.Parallel()
	contact := func(phone, email, preferred string) func(testing.TB, referral.Submission) {
		return func(tb testing.TB, out referral.Submission) {
			tb.Helper()
			p := out.Patient
			if p.Phone != phone || p.Email != email || p.PreferredContact != preferred {
				tb.Errorf("phone, email, preferred = %q, %q, %q; want %q, %q, %q",
					p.Phone, p.Email, p.PreferredContact, phone, email, preferred)
			}
		}
	}
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "both given, phone preferred", edit: func(s *referral.Submission) {},
			check: contact("+447700900123", "sam.taylor@example.com", "phone")},
		{name: "both given, email preferred, upper case", edit: func(s *referral.Submission) { s.Patient.PreferredContact = " EMAIL " },
			check: contact("+447700900123", "sam.taylor@example.com", "email")},
		{name: "phone only defaults to phone", edit: func(s *referral.Submission) {
			s.Patient.Email, s.Patient.PreferredContact = "", ""
		}, check: contact("+447700900123", "", "phone")},
		{name: "email only defaults to email", edit: func(s *referral.Submission) {
			s.Patient.Phone, s.Patient.PreferredContact = "", ""
		}, check: contact("", "sam.taylor@example.com", "email")},
		{name: "international phone", edit: func(s *referral.Submission) { s.Patient.Phone = "+44 (0)7700 900123" },
			check: contact("+447700900123", "sam.taylor@example.com", "phone")},
		{name: "email domain lower-cased", edit: func(s *referral.Submission) { s.Patient.Email = " Sam.Taylor@Example.COM " },
			check: contact("+447700900123", "Sam.Taylor@example.com", "phone")},
		{name: "neither given", edit: func(s *referral.Submission) {
			s.Patient.Phone, s.Patient.Email, s.Patient.PreferredContact = "", "  ", ""
		}, field: "patient.phone", msg: "phone number or email address"},
		{name: "neither given but a preference", edit: func(s *referral.Submission) {
			s.Patient.Phone, s.Patient.Email = "", ""
		}, field: "patient.phone", msg: "phone number or email address"},
		{name: "both given, no preference", edit: func(s *referral.Submission) { s.Patient.PreferredContact = "" },
			field: "patient.preferredContact", msg: "Select how the patient would like to be contacted"},
		{name: "unknown preference", edit: func(s *referral.Submission) { s.Patient.PreferredContact = "post" },
			field: "patient.preferredContact", msg: "phone or email"},
		{name: "prefers phone, gave only email", edit: func(s *referral.Submission) { s.Patient.Phone = "" },
			field: "patient.preferredContact", msg: "Enter the patient's phone number"},
		{name: "prefers email, gave only phone", edit: func(s *referral.Submission) {
			s.Patient.Email, s.Patient.PreferredContact = "", "email"
		}, field: "patient.preferredContact", msg: "Enter the patient's email address"},
		{name: "invalid phone", edit: func(s *referral.Submission) { s.Patient.Phone = "+33 1 23 45 67 89" },
			field: "patient.phone", msg: "UK phone number"},
		{name: "too few digits", edit: func(s *referral.Submission) { s.Patient.Phone = "0770 090" },
			field: "patient.phone", msg: "UK phone number"},
		{name: "invalid email", edit: func(s *referral.Submission) { s.Patient.Email = "sam@" },
			field: "patient.email", msg: "correct format"},
		{name: "referrer phone optional", edit: func(s *referral.Submission) { s.Referrer.Phone = "" },
			check: func(tb testing.TB, out referral.Submission) {
				if out.Referrer.Phone != "" {
					tb.Errorf("referrer phone = %q, want empty", out.Referrer.Phone)
				}
			}},
		{name: "referrer phone invalid", edit: func(s *referral.Submission) { s.Referrer.Phone = "496 0000" },
			field: "referrer.phone", msg: "UK phone number"},
	})
}

func TestValidateReferrer(t *testing.T) {
	t.Parallel()
	wantReferrer := func(code, email string) func(testing.TB, referral.Submission) {
		return func(tb testing.TB, out referral.Submission) {
			tb.Helper()
			if out.Referrer.PracticeCode != code || out.Referrer.Email != email {
				tb.Errorf("practice code, email = %q, %q; want %q, %q",
					out.Referrer.PracticeCode, out.Referrer.Email, code, email)
			}
		}
	}
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "practice code lower case", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = " c88038 " },
			check: wantReferrer("C88038", "priya.shah@nhs.net")},
		{name: "email domain in upper case", edit: func(s *referral.Submission) { s.Referrer.Email = "Priya.Shah@NHS.NET" },
			check: wantReferrer("C88038", "Priya.Shah@nhs.net")},
		{name: "practice code missing", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = "" },
			field: "referrer.practiceCode", msg: "Enter the GP practice code"},
		{name: "practice code too short", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = "C8803" },
			field: "referrer.practiceCode", msg: "a letter followed by 5 numbers"},
		{name: "practice code too long", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = "C880381" },
			field: "referrer.practiceCode", msg: "a letter followed by 5 numbers"},
		{name: "practice code two letters", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = "CC8803" },
			field: "referrer.practiceCode", msg: "a letter followed by 5 numbers"},
		{name: "practice code digit first", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = "888038" },
			field: "referrer.practiceCode", msg: "a letter followed by 5 numbers"},
		{name: "practice code inner space", edit: func(s *referral.Submission) { s.Referrer.PracticeCode = "C88 038" },
			field: "referrer.practiceCode", msg: "a letter followed by 5 numbers"},
		{name: "email missing", edit: func(s *referral.Submission) { s.Referrer.Email = "" },
			field: "referrer.email", msg: "Enter the referrer's email address"},
		{name: "email malformed", edit: func(s *referral.Submission) { s.Referrer.Email = "priya.shah.nhs.net" },
			field: "referrer.email", msg: "correct format"},
		{name: "other domain", edit: func(s *referral.Submission) { s.Referrer.Email = "priya@gmail.com" },
			field: "referrer.email", msg: "must end in @nhs.net"},
		{name: "lookalike domain", edit: func(s *referral.Submission) { s.Referrer.Email = "priya@evilnhs.net" },
			field: "referrer.email", msg: "@nhs.net"},
		{name: "domain as a prefix", edit: func(s *referral.Submission) { s.Referrer.Email = "priya@nhs.net.evil.com" },
			field: "referrer.email", msg: "@nhs.net"},
		{name: "subdomain not allowed by default", edit: func(s *referral.Submission) { s.Referrer.Email = "priya@mail.nhs.net" },
			field: "referrer.email", msg: "@nhs.net"},
	})
}

func TestValidateReferrerEmailRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		domains []string
		email   string
		ok      bool
	}{
		{"second exact domain", []string{"nhs.net", "example.nhs.uk"}, "gp@example.nhs.uk", true},
		{"wildcard subdomain", []string{"nhs.net", "*.nhs.uk"}, "gp@trust.nhs.uk", true},
		{"wildcard does not admit its parent", []string{"*.nhs.uk"}, "gp@nhs.uk", false},
		{"configured in upper case", []string{"NHS.NET"}, "gp@nhs.net", true},
		{"no domains configured fails closed", nil, "gp@nhs.net", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := specExample()
			s.Referrer.Email = tt.email
			rules := referral.DefaultRules()
			rules.ReferrerEmailDomains = tt.domains
			out, err := referral.Validate(s, received, rules)
			if tt.ok {
				if err != nil {
					t.Fatalf("Validate: unexpected error %v", err)
				}
				return
			}
			errs := mustFieldErrors(t, out, err)
			if len(errs) != 1 || errs[0].Field != "referrer.email" {
				t.Fatalf("field errors %+v, want one for referrer.email", errs)
			}
		})
	}
}

func TestValidateDateOfBirth(t *testing.T) {
	t.Parallel()
	dob := func(d string) func(*referral.Submission) {
		return func(s *referral.Submission) { s.Patient.DateOfBirth = d }
	}
	// received is Monday 2026-11-23.
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "leap day birthday", edit: dob("1988-02-29"), check: func(tb testing.TB, out referral.Submission) {
			if out.Patient.DateOfBirth != "1988-02-29" {
				tb.Errorf("date of birth = %q", out.Patient.DateOfBirth)
			}
		}},
		{name: "exactly 18 on the day", edit: dob("2008-11-23")},
		{name: "padded", edit: dob(" 2008-11-23 ")},
		{name: "18 tomorrow", edit: dob("2008-11-24"), field: "patient.dateOfBirth", msg: "18 or over"},
		{name: "born today", edit: dob("2026-11-23"), field: "patient.dateOfBirth", msg: "18 or over"},
		{name: "tomorrow", edit: dob("2026-11-24"), field: "patient.dateOfBirth", msg: "in the past"},
		{name: "far future", edit: dob("9999-12-31"), field: "patient.dateOfBirth", msg: "in the past"},
		{name: "missing", edit: dob(""), field: "patient.dateOfBirth", msg: "Enter the patient's date of birth"},
		{name: "29 February in a non-leap year", edit: dob("1987-02-29"), field: "patient.dateOfBirth", msg: "real date"},
		{name: "31 April", edit: dob("1987-04-31"), field: "patient.dateOfBirth", msg: "real date"},
		{name: "month 13", edit: dob("1987-13-01"), field: "patient.dateOfBirth", msg: "real date"},
		{name: "UK order", edit: dob("29/02/1988"), field: "patient.dateOfBirth", msg: "real date"},
		{name: "unpadded", edit: dob("1988-2-29"), field: "patient.dateOfBirth", msg: "real date"},
		{name: "with a time", edit: dob("1988-02-29T00:00:00Z"), field: "patient.dateOfBirth", msg: "real date"},
		{name: "before 1900", edit: dob("1899-12-31"), field: "patient.dateOfBirth", msg: "1900 or later"},
		{name: "year 0088", edit: dob("0088-02-29"), field: "patient.dateOfBirth", msg: "1900 or later"},
	})
}

func TestValidateAgeOnTheDayReceived(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dob      string
		received time.Time
		minAge   int
		ok       bool
	}{
		// Born on 29 February: 18 on 1 March in a non-leap year, not on 28 February.
		{"leap-day birth, 28 Feb of 18th year", "2008-02-29", time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC), 18, false},
		{"leap-day birth, 1 Mar of 18th year", "2008-02-29", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), 18, true},
		{"29 February of a non-leap year is not a date", "2006-02-29", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC), 18, false}, // 2006-02-29 is not real
		{"leap-day birth on its birthday", "2004-02-29", time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC), 18, true},
		// The day received is the Europe/London day: 23:30 UTC on 14 June is 00:30 BST on 15 June.
		{"18th birthday begins in London before UTC", "2008-06-15", time.Date(2026, 6, 14, 23, 30, 0, 0, time.UTC), 18, true},
		{"a minute earlier it is still the 14th", "2008-06-15", time.Date(2026, 6, 14, 22, 59, 0, 0, time.UTC), 18, false},
		{"London date, not the caller's zone", "2008-06-15", time.Date(2026, 6, 15, 8, 0, 0, 0, time.FixedZone("UTC+10", 10*3600)), 18, false},
		{"future by London date", "2026-06-15", time.Date(2026, 6, 14, 22, 59, 0, 0, time.UTC), 0, false},
		{"born today in London", "2026-06-15", time.Date(2026, 6, 14, 23, 30, 0, 0, time.UTC), 0, true},
		{"MIN_AGE 16 admits a 16-year-old", "2010-11-23", received, 16, true},
		{"MIN_AGE 16 rejects a 15-year-old", "2010-11-24", received, 16, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := specExample()
			s.Patient.DateOfBirth = tt.dob
			rules := referral.DefaultRules()
			rules.MinAge = tt.minAge
			out, err := referral.Validate(s, tt.received, rules)
			if tt.ok {
				if err != nil {
					t.Fatalf("Validate: unexpected error %v", err)
				}
				return
			}
			errs := mustFieldErrors(t, out, err)
			if len(errs) != 1 || errs[0].Field != "patient.dateOfBirth" {
				t.Fatalf("field errors %+v, want one for patient.dateOfBirth", errs)
			}
		})
	}
}

func TestValidateEmploymentAndHealthConditions(t *testing.T) {
	t.Parallel()
	conditions := func(want ...string) func(testing.TB, referral.Submission) {
		return func(tb testing.TB, out referral.Submission) {
			tb.Helper()
			if !slices.Equal(out.HealthConditions, want) {
				tb.Errorf("health conditions = %q, want %q", out.HealthConditions, want)
			}
		}
	}
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "employed off sick", edit: func(s *referral.Submission) { s.EmploymentStatus = "employed-off-sick" }},
		{name: "employed at risk, padded upper case", edit: func(s *referral.Submission) { s.EmploymentStatus = " Employed-At-Risk " },
			check: func(tb testing.TB, out referral.Submission) {
				if out.EmploymentStatus != "employed-at-risk" {
					tb.Errorf("employment status = %q", out.EmploymentStatus)
				}
			}},
		{name: "employment status missing", edit: func(s *referral.Submission) { s.EmploymentStatus = "" },
			field: "employmentStatus", msg: "Select whether the patient is unemployed"},
		{name: "employment status unknown", edit: func(s *referral.Submission) { s.EmploymentStatus = "retired" },
			field: "employmentStatus", msg: "Select whether the patient is unemployed"},
		{name: "no health conditions", edit: func(s *referral.Submission) { s.HealthConditions = nil }, check: conditions()},
		{name: "empty list is none", edit: func(s *referral.Submission) { s.HealthConditions = []string{} }, check: conditions()},
		{name: "every condition, duplicates removed, list order", edit: func(s *referral.Submission) {
			s.HealthConditions = []string{"other", "mental-health", "other", "neurological", "musculoskeletal", "long-term-condition", "mental-health"}
		}, check: conditions("mental-health", "musculoskeletal", "neurological", "long-term-condition", "other")},
		{name: "unknown condition", edit: func(s *referral.Submission) { s.HealthConditions = []string{"mental-health", "flu"} },
			field: "healthConditions", msg: "from the list"},
		{name: "empty condition", edit: func(s *referral.Submission) { s.HealthConditions = []string{""} },
			field: "healthConditions", msg: "from the list"},
	})
}

// TestValidateHealthConditionsNeverScreenOut checks zero exclusion: any combination of valid
// conditions leaves a valid submission valid.
func TestValidateHealthConditionsNeverScreenOut(t *testing.T) {
	t.Parallel()
	for mask := range 1 << len(referral.HealthConditions) {
		var cs []string
		for i, c := range referral.HealthConditions {
			if mask&(1<<i) != 0 {
				cs = append(cs, c)
			}
		}
		s := specExample()
		s.HealthConditions = cs
		if _, err := referral.Validate(s, received, referral.DefaultRules()); err != nil {
			t.Errorf("health conditions %q: %v", cs, err)
		}
	}
}

func TestValidateDoesNotChangeItsInput(t *testing.T) {
	t.Parallel()
	s := specExample()
	s.HealthConditions = []string{"other", "mental-health", "other"}
	mustValidate(t, s, received, referral.DefaultRules())
	if want := []string{"other", "mental-health", "other"}; !slices.Equal(s.HealthConditions, want) {
		t.Errorf("input health conditions changed to %q", s.HealthConditions)
	}
}

func TestValidateConsentAndNotes(t *testing.T) {
	t.Parallel()
	notes := func(want string) func(testing.TB, referral.Submission) {
		return func(tb testing.TB, out referral.Submission) {
			tb.Helper()
			if out.Notes != want {
				tb.Errorf("notes = %q, want %q", out.Notes, want)
			}
		}
	}
	runFieldCases(t, received, referral.DefaultRules(), []fieldCase{
		{name: "no consent", edit: func(s *referral.Submission) { s.Consent = false },
			field: "consent", msg: "Confirm the patient has agreed"},
		{name: "no notes", edit: func(s *referral.Submission) { s.Notes = "" }, check: notes("")},
		{name: "whitespace notes are none", edit: func(s *referral.Submission) { s.Notes = " \r\n\t " }, check: notes("")},
		{name: "newlines kept, CRLF and CR become LF", edit: func(s *referral.Submission) { s.Notes = "one\r\ntwo\rthree\nfour\u2028five" },
			check: notes("one\ntwo\nthree\nfour\nfive")},
		{name: "tab kept", edit: func(s *referral.Submission) { s.Notes = "a\tb" }, check: notes("a\tb")},
		{name: "1000 characters of 3 bytes each", edit: func(s *referral.Submission) { s.Notes = strings.Repeat("€", 1000) },
			check: notes(strings.Repeat("€", 1000))},
		{name: "1000 characters with CRLF counted once", edit: func(s *referral.Submission) { s.Notes = strings.Repeat("a\r\n", 333) + "a" }},
		{name: "1001 characters", edit: func(s *referral.Submission) { s.Notes = strings.Repeat("€", 1001) },
			field: "notes", msg: "1,000 characters or fewer"},
		{name: "1001 with line feeds", edit: func(s *referral.Submission) { s.Notes = strings.Repeat("a\n", 500) + "bc" },
			field: "notes", msg: "1,000 characters or fewer"},
		{name: "NUL", edit: func(s *referral.Submission) { s.Notes = "a\x00b" }, field: "notes", msg: "control characters"},
		{name: "escape", edit: func(s *referral.Submission) { s.Notes = "a\x1b[31mb" }, field: "notes", msg: "control characters"},
		{name: "invalid UTF-8", edit: func(s *referral.Submission) { s.Notes = "a\xc3" }, field: "notes", msg: "letters"},
	})
}
