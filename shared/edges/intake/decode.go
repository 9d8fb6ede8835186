package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// Form field names that are not part of the submission (SPEC §4).
const (
	// FormTokenField is the hidden field carrying the form's idempotency token.
	FormTokenField = "idempotencyToken"
	// HoneypotField is the field people never see and bots fill in.
	HoneypotField = "website"
)

// DecodeJSON reads a referral sent as JSON (SPEC §4). It is deliberately lenient about shape and
// strict about types:
//
//   - A body that is not one JSON object (a syntax error, an array, trailing data, too deeply
//     nested) is malformed: an *referral.Error with code invalid and one field error whose field
//     is "" (the whole body).
//   - A well-formed body with a value of the wrong type at a known path ("consent": "yes",
//     "patient": 5, a number for a name) gives a field error at that path; all such errors are
//     collected, in form order. The returned Submission then holds the fields that did decode.
//   - Bytes that are not UTF-8, an unpaired surrogate escape (\ud800) and a key given twice in
//     one object (at any depth) are malformed too: never repaired, never resolved (SPEC §4).
//   - Unknown fields are ignored, and null is treated as absent. Keys are matched exactly.
//
// It checks types only; referral.Validate applies the rules. Messages never repeat the input.
func DecodeJSON(body []byte) (referral.Submission, error) {
	var sub referral.Submission
	body = bytes.TrimPrefix(body, []byte("\uFEFF")) // a UTF-8 byte order mark some clients send
	if !utf8.Valid(body) {
		return sub, malformed(notUTF8)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return sub, malformed("The request body is empty: send the referral as a JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return sub, malformed("The request body must be a JSON object")
		}
		return sub, malformed("The request body is not valid JSON")
	}
	if top == nil { // the body was null
		return sub, malformed("The request body must be a JSON object")
	}
	if e := checkUnambiguous(body); e != nil {
		return sub, e
	}

	d := &jsonDecoder{}
	patient := d.object(top, "patient")
	p := &sub.Patient
	p.GivenName = d.str(patient, "patient.givenName")
	p.FamilyName = d.str(patient, "patient.familyName")
	p.DateOfBirth = d.str(patient, "patient.dateOfBirth")
	p.NHSNumber = d.str(patient, "patient.nhsNumber")
	p.Postcode = d.str(patient, "patient.postcode")
	p.Phone = d.str(patient, "patient.phone")
	p.Email = d.str(patient, "patient.email")
	p.PreferredContact = d.str(patient, "patient.preferredContact")

	referrer := d.object(top, "referrer")
	r := &sub.Referrer
	r.Name = d.str(referrer, "referrer.name")
	r.PracticeCode = d.str(referrer, "referrer.practiceCode")
	r.Email = d.str(referrer, "referrer.email")
	r.Phone = d.str(referrer, "referrer.phone")

	sub.EmploymentStatus = d.str(top, "employmentStatus")
	sub.HealthConditions = d.list(top, "healthConditions")
	sub.Consent = d.boolean(top, "consent")
	sub.Notes = d.str(top, "notes")

	if len(d.errs) > 0 {
		return sub, &referral.Error{Code: referral.CodeInvalid, Message: "Some values in the request have the wrong type", Fields: d.errs}
	}
	return sub, nil
}

func malformed(message string) *referral.Error {
	return &referral.Error{
		Code:    referral.CodeInvalid,
		Message: "The request body is malformed",
		Fields:  []referral.FieldError{{Field: "", Message: message}},
	}
}

// labels name each field in type-error messages.
var labels = map[string]string{
	"patient":                  "Patient",
	"patient.givenName":        "Given name",
	"patient.familyName":       "Family name",
	"patient.dateOfBirth":      "Date of birth",
	"patient.nhsNumber":        "NHS number",
	"patient.postcode":         "Postcode",
	"patient.phone":            "Phone number",
	"patient.email":            "Email address",
	"patient.preferredContact": "Preferred contact method",
	"referrer":                 "Referrer",
	"referrer.name":            "Referrer's name",
	"referrer.practiceCode":    "GP practice code",
	"referrer.email":           "Referrer's email address",
	"referrer.phone":           "Referrer's phone number",
	"employmentStatus":         "Employment status",
	"healthConditions":         "Health conditions",
	"consent":                  "Consent",
	"notes":                    "Notes",
}

// jsonDecoder reads typed values out of decoded objects, collecting a field error for each value
// of the wrong type.
type jsonDecoder struct{ errs []referral.FieldError }

func (d *jsonDecoder) fail(path, must string) {
	d.errs = append(d.errs, referral.FieldError{Field: path, Message: labels[path] + " must be " + must})
}

// raw returns the value at the last segment of path in obj, or nil when it is absent or null.
func raw(obj map[string]json.RawMessage, path string) json.RawMessage {
	v, ok := obj[path[strings.LastIndexByte(path, '.')+1:]]
	if !ok || string(bytes.TrimSpace(v)) == "null" {
		return nil
	}
	return v
}

func (d *jsonDecoder) object(obj map[string]json.RawMessage, path string) map[string]json.RawMessage {
	v := raw(obj, path)
	if v == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		d.fail(path, "a JSON object")
		return nil
	}
	return m
}

func (d *jsonDecoder) str(obj map[string]json.RawMessage, path string) string {
	v := raw(obj, path)
	if v == nil {
		return ""
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		d.fail(path, "a JSON string")
		return ""
	}
	return s
}

func (d *jsonDecoder) boolean(obj map[string]json.RawMessage, path string) bool {
	v := raw(obj, path)
	if v == nil {
		return false
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		d.fail(path, "true or false")
		return false
	}
	return b
}

// list reads a list of strings; a null element, like any other non-string, is a type error.
func (d *jsonDecoder) list(obj map[string]json.RawMessage, path string) []string {
	v := raw(obj, path)
	if v == nil {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		d.fail(path, "a list of strings")
		return nil
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		var s string
		// The quote check rejects null, which json.Unmarshal would quietly decode as "".
		if bytes.HasPrefix(bytes.TrimSpace(item), []byte(`"`)) && json.Unmarshal(item, &s) == nil {
			out = append(out, s)
			continue
		}
		d.fail(path, "a list of strings")
		return nil
	}
	return out
}

// DecodeForm reads a referral sent by the web form (application/x-www-form-urlencoded). Input
// names are the JSON paths (patient.givenName, referrer.email…); healthConditions is a repeated
// checkbox (empty values ignored); consent is checked when its value is "yes". The first value of
// any other repeated field is used. It also returns the hidden idempotency token and the honeypot
// field, both trimmed (so whitespace alone does not count as a bot's answer).
func DecodeForm(values url.Values) (sub referral.Submission, token string, honeypot string) {
	get := values.Get
	sub.Patient = referral.Patient{
		GivenName:        get("patient.givenName"),
		FamilyName:       get("patient.familyName"),
		DateOfBirth:      get("patient.dateOfBirth"),
		NHSNumber:        get("patient.nhsNumber"),
		Postcode:         get("patient.postcode"),
		Phone:            get("patient.phone"),
		Email:            get("patient.email"),
		PreferredContact: get("patient.preferredContact"),
	}
	sub.Referrer = referral.Referrer{
		Name:         get("referrer.name"),
		PracticeCode: get("referrer.practiceCode"),
		Email:        get("referrer.email"),
		Phone:        get("referrer.phone"),
	}
	sub.EmploymentStatus = get("employmentStatus")
	for _, c := range values["healthConditions"] {
		if strings.TrimSpace(c) != "" {
			sub.HealthConditions = append(sub.HealthConditions, c)
		}
	}
	sub.Consent = strings.EqualFold(strings.TrimSpace(get("consent")), "yes")
	sub.Notes = get("notes")
	return sub, strings.TrimSpace(get(FormTokenField)), strings.TrimSpace(get(HoneypotField))
}
