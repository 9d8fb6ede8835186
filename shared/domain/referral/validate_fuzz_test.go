package referral_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/postcode"
)

// FuzzValidate checks Validate never panics, reports field errors one per field in form order,
// and that what it accepts is normalised: valid again, and unchanged by validating again.
func FuzzValidate(f *testing.F) {
	ex := specExample()
	f.Add(ex.Patient.GivenName, ex.Patient.FamilyName, ex.Patient.DateOfBirth, ex.Patient.NHSNumber,
		ex.Patient.Postcode, ex.Patient.Phone, ex.Patient.Email, ex.Patient.PreferredContact,
		ex.Referrer.Name, ex.Referrer.PracticeCode, ex.Referrer.Email, ex.Referrer.Phone,
		ex.EmploymentStatus, "mental-health", true, ex.Notes, int64(0))
	f.Add("", "", "", "", "", "", "", "", "", "", "", "", "", "", false, "", int64(-1))
	f.Add("Sam\r\n", "\xff", "2008-02-29", "1234567890", "gir0aa", "+44 (0)7700 900123", "", "",
		"Dr\u202eX", "c88038", "x@NHS.NET", "", "EMPLOYED-AT-RISK", "other,other,,flu", true, "a\r\nb", int64(1<<40))
	f.Fuzz(func(t *testing.T, given, family, dob, nhs, pc, phone, email, pref, rname, rcode, remail, rphone,
		employment, conditions string, consent bool, notes string, minutes int64) {
		in := referral.Submission{
			Patient: referral.Patient{
				GivenName: given, FamilyName: family, DateOfBirth: dob, NHSNumber: nhs, Postcode: pc,
				Phone: phone, Email: email, PreferredContact: pref,
			},
			Referrer:         referral.Referrer{Name: rname, PracticeCode: rcode, Email: remail, Phone: rphone},
			EmploymentStatus: employment,
			Consent:          consent,
			Notes:            notes,
		}
		if conditions != "" {
			in.HealthConditions = strings.Split(conditions, ",")
		}
		// Any instant within about 190 years of 2026.
		at := received.Add(time.Duration(minutes%(100_000_000)) * time.Minute)
		checkValidate(t, in, at)
	})
}

func checkValidate(t *testing.T, in referral.Submission, at time.Time) {
	t.Helper()
	rules := referral.DefaultRules()
	out, err := referral.Validate(in, at, rules)
	if err != nil {
		errs := mustFieldErrors(t, out, err)
		last := -1
		for _, e := range errs {
			i := slices.Index(formOrder, e.Field)
			if i <= last {
				t.Fatalf("field errors not one per field in form order: %+v", errs)
			}
			last = i
			if e.Message == "" {
				t.Fatalf("field %q has an empty message", e.Field)
			}
		}
		return
	}
	p := out.Patient
	if !referral.ValidNHSNumber(p.NHSNumber) {
		t.Fatalf("accepted NHS number %q is not 10 digits with a valid check digit", p.NHSNumber)
	}
	if pc, err := postcode.Parse(p.Postcode); err != nil || pc.String() != p.Postcode {
		t.Fatalf("accepted postcode %q is not normalised (%v)", p.Postcode, err)
	}
	if !out.Consent {
		t.Fatal("accepted a submission without consent")
	}
	switch p.PreferredContact {
	case "phone":
		if p.Phone == "" {
			t.Fatal("preferred contact phone without a phone number")
		}
	case "email":
		if p.Email == "" {
			t.Fatal("preferred contact email without an email address")
		}
	default:
		t.Fatalf("preferred contact %q", p.PreferredContact)
	}
	for _, ph := range []string{p.Phone, out.Referrer.Phone} {
		if ph != "" && (!strings.HasPrefix(ph, "+44") || len(ph) < 12 || len(ph) > 13 || strings.Trim(ph[1:], "0123456789") != "") {
			t.Fatalf("accepted phone %q is not E.164 +44", ph)
		}
	}
	if !strings.HasSuffix(out.Referrer.Email, "@nhs.net") {
		t.Fatalf("accepted referrer email %q outside nhs.net", out.Referrer.Email)
	}
	for _, c := range out.HealthConditions {
		if !slices.Contains(referral.HealthConditions, c) {
			t.Fatalf("accepted health condition %q", c)
		}
	}
	again, err := referral.Validate(out, at, rules)
	if err != nil {
		t.Fatalf("normalised submission %+v is not valid: %v", out, err)
	}
	if !reflect.DeepEqual(again, out) {
		t.Fatalf("validating again changed the submission:\n%+v\n%+v", out, again)
	}
}
