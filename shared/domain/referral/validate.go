package referral

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/postcode"
)

// Rules are the settings validation depends on (SPEC §4: MIN_AGE, REFERRER_EMAIL_DOMAINS).
type Rules struct {
	// MinAge is the youngest age, in whole years on the day received, a patient may be referred at.
	MinAge int
	// ReferrerEmailDomains lists the domains a referrer's email address may be at. An entry matches
	// that exact domain only, case-insensitively; "*.nhs.uk" matches any subdomain of nhs.uk (but
	// not nhs.uk itself). An empty list admits no referrer, so a misconfiguration fails closed.
	ReferrerEmailDomains []string
}

// DefaultRules returns the settings of SPEC §4: patients 18 or over, referrers at nhs.net.
func DefaultRules() Rules {
	return Rules{MinAge: 18, ReferrerEmailDomains: []string{"nhs.net"}}
}

// Field limits (SPEC §4). Lengths are counted in characters (runes), not bytes.
const (
	MaxNameLength  = 100
	MaxNotesLength = 1000
	// MinBirthYear rejects dates of birth that can only be typing mistakes (0088-02-29, 1088-…).
	MinBirthYear = 1900
)

// Messages shown for the whole submission when any field fails.
const invalidMessage = "There is a problem with the referral"

// Validate applies every rule of SPEC §4 to s, as received at receivedAt, and returns the
// normalised submission, or an *Error with code CodeInvalid listing every failing field, one error
// per field, in the order the form asks for them. Messages never repeat what was entered.
//
// Normalisation: names, emails, notes and codes are trimmed; the NHS number becomes 10 digits;
// the postcode "OUTWARD INWARD" in upper case; phone numbers E.164 ("+447700900123"); email
// domains lower case; the practice code upper case; preferredContact defaults to the one method
// given; health conditions are de-duplicated into the order of HealthConditions; line breaks in
// notes become "\n". On error the returned Submission is the zero value.
func Validate(s Submission, receivedAt time.Time, rules Rules) (Submission, error) {
	v := validator{}
	out := Submission{}
	p, r := s.Patient, s.Referrer

	out.Patient.GivenName = v.name("patient.givenName", p.GivenName, "the patient's first name", "First name")
	out.Patient.FamilyName = v.name("patient.familyName", p.FamilyName, "the patient's last name", "Last name")
	out.Patient.DateOfBirth = v.dateOfBirth("patient.dateOfBirth", p.DateOfBirth, calendar.DateOf(receivedAt), rules.MinAge)
	out.Patient.NHSNumber = v.nhsNumber("patient.nhsNumber", p.NHSNumber)
	out.Patient.Postcode = v.postcode("patient.postcode", p.Postcode)
	out.Patient.Phone, out.Patient.Email, out.Patient.PreferredContact = v.patientContact(p)

	out.Referrer.Name = v.name("referrer.name", r.Name, "your full name", "Full name")
	out.Referrer.PracticeCode = v.practiceCode("referrer.practiceCode", r.PracticeCode)
	out.Referrer.Email = v.referrerEmail("referrer.email", r.Email, rules.ReferrerEmailDomains)
	if strings.TrimSpace(r.Phone) != "" {
		out.Referrer.Phone = v.phone("referrer.phone", r.Phone, "Enter a UK phone number, like 0114 496 0000")
	}

	out.EmploymentStatus = v.employmentStatus("employmentStatus", s.EmploymentStatus)
	out.HealthConditions = v.healthConditions("healthConditions", s.HealthConditions)
	if !s.Consent {
		v.fail("consent", "Confirm the patient has agreed to be referred")
	}
	out.Consent = s.Consent
	out.Notes = v.notes("notes", s.Notes)

	if len(v.errs) > 0 {
		return Submission{}, &Error{Code: CodeInvalid, Message: invalidMessage, Fields: v.errs}
	}
	return out, nil
}

// validator collects field errors in the order the checks run.
type validator struct{ errs []FieldError }

func (v *validator) fail(field, message string) {
	v.errs = append(v.errs, FieldError{Field: field, Message: message})
}

// name checks a required person's name: 1–100 characters after trimming, valid UTF-8, and no
// control characters, line or paragraph separators, or bidirectional overrides (which could
// break or disguise a log line, an email or a page).
func (v *validator) name(field, s, what, label string) string {
	if !utf8.ValidString(s) {
		v.fail(field, label+" must only include letters, spaces and punctuation")
		return ""
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		v.fail(field, "Enter "+what)
	case strings.ContainsFunc(s, forbiddenInName):
		v.fail(field, label+" must not include line breaks or other control characters")
	case strings.ContainsFunc(s, isFormat):
		// Zero-width and directional marks hide or reorder text in emails and pages (SPEC §4).
		v.fail(field, label+" must not include invisible characters such as zero-width spaces or direction marks")
	case utf8.RuneCountInString(s) > MaxNameLength:
		v.fail(field, fmt.Sprintf("%s must be %d characters or fewer", label, MaxNameLength))
	case !strings.ContainsFunc(s, unicode.IsLetter):
		// A name is written with letters; emails address people by their initial.
		v.fail(field, label+" must include at least one letter")
	}
	return s
}

func forbiddenInName(r rune) bool {
	return unicode.IsControl(r) || isSeparatorOrBidi(r)
}

// isFormat is true for Unicode format characters (category Cf: zero-width spaces and joiners,
// direction marks, soft hyphens, byte order marks…).
func isFormat(r rune) bool { return unicode.Is(unicode.Cf, r) }

// isSeparatorOrBidi is true for U+2028/U+2029 (line and paragraph separators) and the bidi
// embedding, override and isolate controls.
func isSeparatorOrBidi(r rune) bool {
	return unicode.In(r, unicode.Zl, unicode.Zp) ||
		(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

func (v *validator) dateOfBirth(field, s string, today calendar.Date, minAge int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.fail(field, "Enter the patient's date of birth")
		return ""
	}
	dob, err := calendar.ParseDate(s)
	switch {
	case err != nil:
		v.fail(field, "Date of birth must be a real date, in the format YYYY-MM-DD")
	case dob.After(today):
		v.fail(field, "Date of birth must be in the past")
	case dob.Year < MinBirthYear:
		v.fail(field, fmt.Sprintf("Date of birth must be in %d or later", MinBirthYear))
	case calendar.YearsBetween(dob, today) < minAge:
		v.fail(field, fmt.Sprintf("The patient must be %d or over on the day they are referred", minAge))
	default:
		return dob.String()
	}
	return ""
}

func (v *validator) nhsNumber(field, s string) string {
	if strings.TrimSpace(s) == "" {
		v.fail(field, "Enter the patient's NHS number")
		return ""
	}
	n, err := NormaliseNHSNumber(s)
	switch {
	case errors.Is(err, ErrNHSNumberCheckDigit):
		v.fail(field, "Enter a valid NHS number: check it against the patient's record")
	case err != nil:
		v.fail(field, "NHS number must be 10 digits")
	}
	return n
}

func (v *validator) postcode(field, s string) string {
	if strings.TrimSpace(s) == "" {
		v.fail(field, "Enter the patient's postcode")
		return ""
	}
	pc, err := postcode.Parse(s)
	if err != nil {
		v.fail(field, "Enter a full UK postcode, like S1 2HH")
		return ""
	}
	return pc.String()
}

func (v *validator) phone(field, s, message string) string {
	n, err := normalisePhone(s)
	if err != nil {
		v.fail(field, message)
	}
	return n
}

func (v *validator) email(field, s, message string) string {
	e, err := normaliseEmail(s)
	if err != nil {
		v.fail(field, message)
	}
	return e
}

// patientContact checks phone, email and preferredContact together: at least one method, each
// given method valid, and a preference that names a given method (defaulting to the only one).
func (v *validator) patientContact(p Patient) (phone, email, preferred string) {
	hasPhone, hasEmail := strings.TrimSpace(p.Phone) != "", strings.TrimSpace(p.Email) != ""
	if !hasPhone && !hasEmail {
		v.fail("patient.phone", "Enter the patient's phone number or email address")
	}
	if hasPhone {
		phone = v.phone("patient.phone", p.Phone, "Enter a UK phone number, like 07700 900 982 or +44 7700 900 982")
	}
	if hasEmail {
		email = v.email("patient.email", p.Email, "Enter an email address in the correct format, like name@example.com")
	}

	const field = "patient.preferredContact"
	preferred = strings.ToLower(strings.TrimSpace(p.PreferredContact))
	switch {
	case preferred == "" && hasPhone && hasEmail:
		v.fail(field, "Select how the patient would like to be contacted")
	case preferred == "" && hasPhone:
		preferred = "phone"
	case preferred == "" && hasEmail:
		preferred = "email"
	case preferred == "":
		// Neither method: the phone error above already asks for one.
	case !slices.Contains(ContactMethods, preferred):
		v.fail(field, "Select how the patient would like to be contacted: phone or email")
	case !hasPhone && !hasEmail:
	case preferred == "phone" && !hasPhone:
		v.fail(field, "Enter the patient's phone number, or choose email as the way to contact them")
	case preferred == "email" && !hasEmail:
		v.fail(field, "Enter the patient's email address, or choose phone as the way to contact them")
	}
	return phone, email, preferred
}

func (v *validator) practiceCode(field, s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		v.fail(field, "Enter the GP practice code")
		return ""
	}
	if !validPracticeCode(s) {
		v.fail(field, "GP practice code must be a letter followed by 5 numbers, like C88038")
		return ""
	}
	return s
}

// validPracticeCode reports whether s is an ODS GP practice code: one upper-case letter, five digits.
func validPracticeCode(s string) bool {
	if len(s) != 6 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (v *validator) referrerEmail(field, s string, allowed []string) string {
	if strings.TrimSpace(s) == "" {
		v.fail(field, "Enter the referrer's email address")
		return ""
	}
	e, err := normaliseEmail(s)
	if err != nil {
		v.fail(field, "Enter the referrer's email address in the correct format, like name@nhs.net")
		return ""
	}
	if !domainAllowed(e[strings.LastIndexByte(e, '@')+1:], allowed) {
		if d := describeDomains(allowed); d != "" {
			v.fail(field, "Enter the referrer's work email address: it must end in "+d)
		} else {
			v.fail(field, "Referrals cannot be accepted from any email address at the moment")
		}
		return ""
	}
	return e
}

func (v *validator) employmentStatus(field, s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(EmploymentStatuses, s) {
		v.fail(field, "Select whether the patient is unemployed, employed and off sick, or employed and at risk of losing their job")
		return ""
	}
	return s
}

// healthConditions checks each entry is one of HealthConditions and returns them without
// duplicates in the order of HealthConditions (nil when none). They never screen anyone out.
func (v *validator) healthConditions(field string, in []string) []string {
	seen := make(map[string]bool, len(HealthConditions))
	for _, c := range in {
		c = strings.ToLower(strings.TrimSpace(c))
		if !slices.Contains(HealthConditions, c) {
			v.fail(field, "Select health conditions from the list, or none")
			return nil
		}
		seen[c] = true
	}
	var out []string
	for _, c := range HealthConditions {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}

// notes checks the optional free text: valid UTF-8, at most 1000 characters, and no control
// characters other than tab and line feed. Every line break (CRLF, CR, U+2028, U+2029) becomes
// "\n" and counts as one character, as browsers count a textarea's maxlength; the result is trimmed.
func (v *validator) notes(field, s string) string {
	if !utf8.ValidString(s) {
		v.fail(field, "Notes must only include letters, numbers, spaces and punctuation")
		return ""
	}
	s = lineBreaks.Replace(s)
	s = strings.TrimSpace(s)
	switch {
	case strings.ContainsFunc(s, func(r rune) bool {
		return (unicode.IsControl(r) && r != '\n' && r != '\t') || isSeparatorOrBidi(r)
	}):
		v.fail(field, "Notes must not include control characters")
	case utf8.RuneCountInString(s) > MaxNotesLength:
		v.fail(field, "Notes must be 1,000 characters or fewer")
	default:
		return s
	}
	return ""
}

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n")
