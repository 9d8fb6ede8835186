package web

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// Form field names that are not part of referral.Submission.
const (
	// TokenField is the hidden idempotency token's form field.
	TokenField = "idempotencyToken"
	// HoneypotField is a field hidden from people and assistive technology: only bots fill it in.
	HoneypotField = "website"
	// ConsentValue is what the consent checkbox posts when ticked.
	ConsentValue = "yes"
	// NotesMaxLength is the character limit of the notes (SPEC §4), shown by the character count.
	NotesMaxLength = 1000
)

// FormPage is everything the referral form shows.
type FormPage struct {
	Values  referral.Submission   // the values to show: empty on first view, what was entered on error
	Consent bool                  // consent ticked (either this or Values.Consent)
	Errors  []referral.FieldError // field errors, in any order; empty on first view
	Token   string                // the idempotency token, posted back as idempotencyToken
	Message string                // an optional page-level problem, shown first in the error summary with no link
}

// FieldPaths returns the JSON paths the form posts (SPEC §4), in the order they appear on the page.
// They are also the input names.
func FieldPaths() []string {
	return []string{
		"patient.givenName", "patient.familyName", "patient.dateOfBirth", "patient.nhsNumber",
		"patient.postcode", "patient.phone", "patient.email", "patient.preferredContact",
		"referrer.name", "referrer.practiceCode", "referrer.email", "referrer.phone",
		"employmentStatus", "healthConditions", "consent", "notes",
	}
}

// FieldID returns the id of the element the error summary links to for a field path: the path
// with "." replaced by "-" ("patient.nhsNumber" becomes "patient-nhsNumber"). For radios and
// checkboxes it is the id of the first input of the group.
func FieldID(path string) string {
	return strings.ReplaceAll(path, ".", "-")
}

// formField maps a field error's path to a field of the form, or "" when it names none:
// "healthConditions[2]" and "healthConditions.2" belong to "healthConditions".
func formField(path string) string {
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	paths := FieldPaths()
	for path != "" {
		if slices.Contains(paths, path) {
			return path
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return ""
}

// Labels for the values of the choice questions. A value the domain adds later without a label
// here still appears, with the value as its label.
func employmentLabel(value string) (label, hint string) {
	switch value {
	case "unemployed":
		return "Unemployed", "Not in paid work and wants to find a job"
	case "employed-off-sick":
		return "Employed but off sick", "Has a job but is off work because of their health"
	case "employed-at-risk":
		return "Employed and at risk of losing their job", "Still working, but their health is making it hard to stay in work"
	}
	return value, ""
}

func healthLabel(value string) string {
	switch value {
	case "mental-health":
		return "Mental health condition"
	case "musculoskeletal":
		return "Musculoskeletal condition, such as back, joint or muscle pain"
	case "neurological":
		return "Neurological condition, such as epilepsy, migraine or multiple sclerosis"
	case "long-term-condition":
		return "Another long-term condition, such as diabetes, asthma or heart disease"
	case "other":
		return "Something else"
	}
	return value
}

func contactLabel(value string) string {
	switch value {
	case "phone":
		return "Phone"
	case "email":
		return "Email"
	}
	return value
}

// summaryItem is one line of the error summary; Href is empty for a problem with no field.
type summaryItem struct {
	Text string
	Href string
}

// textInput is a text, email or phone input, or (with Rows set) a textarea.
type textInput struct {
	Name, ID     string
	Label        string
	Hint         string
	Error        string
	Value        string
	Type         string // text, email or tel
	Autocomplete string // "off" or an autocomplete token
	InputMode    string
	Width        string // an nhsuk width class
	NoSpellcheck bool
	Rows         int // textarea only
	MaxLength    int // textarea with character count only
}

// DescribedBy is the aria-describedby of the input: its hint and its error message.
func (t textInput) DescribedBy() string {
	var ids []string
	if t.MaxLength > 0 {
		ids = append(ids, t.ID+"-info")
	}
	if t.Hint != "" {
		ids = append(ids, t.ID+"-hint")
	}
	if t.Error != "" {
		ids = append(ids, t.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// choiceGroup is a set of radios or checkboxes in a fieldset.
type choiceGroup struct {
	Kind    string // "radios" or "checkboxes"
	Name    string
	ID      string
	Legend  string
	Heading bool // legend is an h2 (a section of the form) rather than a question within one
	Hint    string
	Error   string
	Items   []choice
}

type choice struct {
	ID, Value, Label, Hint string
	Checked                bool
}

// InputType is the type attribute of the group's inputs.
func (g choiceGroup) InputType() string {
	if g.Kind == "checkboxes" {
		return "checkbox"
	}
	return "radio"
}

// DescribedBy is the aria-describedby of the fieldset: its hint and its error message.
func (g choiceGroup) DescribedBy() string {
	var ids []string
	if g.Hint != "" {
		ids = append(ids, g.ID+"-hint")
	}
	if g.Error != "" {
		ids = append(ids, g.ID+"-error")
	}
	return strings.Join(ids, " ")
}

type formView struct {
	layout
	Summary []summaryItem
	Token   string

	GivenName, FamilyName, DateOfBirth, NHSNumber, Postcode  textInput
	ContactHint                                              string
	Phone, Email                                             textInput
	PreferredContact                                         choiceGroup
	ReferrerName, PracticeCode, ReferrerEmail, ReferrerPhone textInput
	EmploymentStatus, HealthConditions, Consent              choiceGroup
	Notes                                                    textInput
}

// RenderForm writes the referral form. Values are kept and errors shown as NHS.UK error
// messages, each linked from the error summary at the top of the page.
func RenderForm(w io.Writer, p FormPage) error {
	v := newFormView(p)
	return writePage(w, "form.html", v.layout, v.write)
}

func (v formView) write(m *markup) {
	m.errorSummary(v.Summary)
	m.raw(`
          <h1>Refer a patient for employment support</h1>
          <p class="nhsuk-lede-text">Use this form to refer an adult with a physical or mental health condition who wants to find or keep paid work.</p>
          <p>An Individual Placement and Support (IPS) employment specialist in the patient's area will contact them within a few working days and help them look for work.</p>
          <p>Answer every question unless it says it is optional.</p>

          <form method="post" action="/referrals" novalidate>
            <input type="hidden" name="idempotencyToken" value="`)
	m.text(v.Token)
	m.raw(`">

            <fieldset class="nhsuk-fieldset">
              <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">
                <h2 class="nhsuk-fieldset__heading">Patient details</h2>
              </legend>
`)
	m.inputs(v.GivenName, v.FamilyName, v.DateOfBirth, v.NHSNumber, v.Postcode)
	m.raw(`            </fieldset>

            <fieldset class="nhsuk-fieldset" aria-describedby="patient-contact-hint">
              <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">
                <h2 class="nhsuk-fieldset__heading">Patient contact details</h2>
              </legend>
              <div class="nhsuk-hint" id="patient-contact-hint">`)
	m.wrap("", v.ContactHint, "</div>\n")
	m.inputs(v.Phone, v.Email)
	m.raw("            </fieldset>\n")
	m.choices(v.PreferredContact)
	m.raw(`

            <fieldset class="nhsuk-fieldset">
              <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">
                <h2 class="nhsuk-fieldset__heading">Your details</h2>
              </legend>
`)
	m.inputs(v.ReferrerName, v.PracticeCode, v.ReferrerEmail, v.ReferrerPhone)
	m.raw("            </fieldset>\n")
	for _, g := range []choiceGroup{v.EmploymentStatus, v.HealthConditions, v.Consent} {
		m.choices(g)
		m.raw("\n")
	}
	m.characterCount(v.Notes)
	m.raw(`

            <div class="nhsuk-u-visually-hidden" aria-hidden="true">
              <label for="website">Leave this blank</label>
              <input id="website" name="website" type="text" value="" tabindex="-1" autocomplete="off">
            </div>

            <button class="nhsuk-button" data-module="nhsuk-button" data-prevent-double-click="true" type="submit">Send referral</button>
          </form>
`)
}

// inputs writes text inputs, each followed by a new line.
func (m *markup) inputs(ts ...textInput) {
	for _, t := range ts {
		m.input(t)
		m.raw("\n")
	}
}

func newFormView(p FormPage) formView {
	// The first message for each field is shown next to it; every message is in the summary,
	// in the order of the fields on the page.
	inline := map[string]string{}
	type numbered struct {
		pos   int
		field string
		msg   string
	}
	var listed []numbered
	order := FieldPaths()
	for _, e := range p.Errors {
		field := formField(e.Field)
		pos := slices.Index(order, field)
		if field == "" {
			pos = len(order)
		} else if _, seen := inline[field]; !seen {
			inline[field] = e.Message
		}
		listed = append(listed, numbered{pos, field, e.Message})
	}
	slices.SortStableFunc(listed, func(a, b numbered) int { return a.pos - b.pos })

	v := formView{Token: p.Token}
	v.Title = "Refer a patient for employment support"
	if p.Message != "" {
		v.Summary = append(v.Summary, summaryItem{Text: p.Message})
	}
	for _, e := range listed {
		item := summaryItem{Text: e.msg}
		if e.field != "" {
			item.Href = "#" + FieldID(e.field)
		}
		v.Summary = append(v.Summary, item)
	}
	v.HasErrors = len(v.Summary) > 0

	in := func(path, value string, t textInput) textInput {
		t.Name, t.ID, t.Value, t.Error = path, FieldID(path), value, inline[path]
		if t.Type == "" {
			t.Type = "text"
		}
		return t
	}
	s := p.Values

	// Patient fields are about the patient, not the person filling in the form, so the browser
	// must not offer the referrer's own name, birthday or address: autocomplete is off.
	v.GivenName = in("patient.givenName", s.Patient.GivenName, textInput{
		Label: "First name", Autocomplete: "off", NoSpellcheck: true, Width: "nhsuk-u-width-two-thirds"})
	v.FamilyName = in("patient.familyName", s.Patient.FamilyName, textInput{
		Label: "Last name", Autocomplete: "off", NoSpellcheck: true, Width: "nhsuk-u-width-two-thirds"})
	v.DateOfBirth = in("patient.dateOfBirth", s.Patient.DateOfBirth, textInput{
		Label: "Date of birth", Hint: "Write it as year, month, day, for example 1988-02-29",
		Autocomplete: "off", NoSpellcheck: true, Width: "nhsuk-input--width-10"})
	v.NHSNumber = in("patient.nhsNumber", s.Patient.NHSNumber, textInput{
		Label: "NHS number", Hint: "10 digits, for example 943 476 5919",
		Autocomplete: "off", InputMode: "numeric", NoSpellcheck: true, Width: "nhsuk-input--width-10"})
	v.Postcode = in("patient.postcode", s.Patient.Postcode, textInput{
		Label: "Postcode", Hint: "Where the patient lives, for example S1 2HH",
		Autocomplete: "off", NoSpellcheck: true, Width: "nhsuk-input--width-10"})

	v.ContactHint = "Give a phone number, an email address or both."
	v.Phone = in("patient.phone", s.Patient.Phone, textInput{
		Label: "Phone number", Hint: "A UK phone number, for example 07700 900123",
		Type: "tel", Autocomplete: "off", Width: "nhsuk-input--width-20"})
	v.Email = in("patient.email", s.Patient.Email, textInput{
		Label: "Email address", Type: "email", Autocomplete: "off", NoSpellcheck: true,
		Width: "nhsuk-u-width-two-thirds"})
	v.PreferredContact = choiceGroup{Kind: "radios", Name: "patient.preferredContact",
		Legend: "How would the patient prefer to be contacted?",
		Hint:   "If you only give a phone number or an email address, we will use that."}
	for _, c := range referral.ContactMethods {
		v.PreferredContact.Items = append(v.PreferredContact.Items, choice{
			Value: c, Label: contactLabel(c), Checked: s.Patient.PreferredContact == c})
	}

	v.ReferrerName = in("referrer.name", s.Referrer.Name, textInput{
		Label: "Full name", Autocomplete: "name", NoSpellcheck: true, Width: "nhsuk-u-width-two-thirds"})
	v.PracticeCode = in("referrer.practiceCode", s.Referrer.PracticeCode, textInput{
		Label: "GP practice code", Hint: "Your practice's ODS code: 1 letter and 5 numbers, for example C88038",
		Autocomplete: "off", NoSpellcheck: true, Width: "nhsuk-input--width-10"})
	v.ReferrerEmail = in("referrer.email", s.Referrer.Email, textInput{
		Label: "NHS email address", Hint: "Use your nhs.net address. We will send confirmation of this referral to it.",
		Type: "email", Autocomplete: "email", NoSpellcheck: true, Width: "nhsuk-u-width-two-thirds"})
	v.ReferrerPhone = in("referrer.phone", s.Referrer.Phone, textInput{
		Label: "Phone number (optional)", Hint: "So the employment specialist can call you if they need to",
		Type: "tel", Autocomplete: "tel", Width: "nhsuk-input--width-20"})

	v.EmploymentStatus = choiceGroup{Kind: "radios", Name: "employmentStatus", Heading: true,
		Legend: "What is the patient's work situation?"}
	for _, c := range referral.EmploymentStatuses {
		label, hint := employmentLabel(c)
		v.EmploymentStatus.Items = append(v.EmploymentStatus.Items, choice{
			Value: c, Label: label, Hint: hint, Checked: s.EmploymentStatus == c})
	}

	v.HealthConditions = choiceGroup{Kind: "checkboxes", Name: "healthConditions", Heading: true,
		Legend: "What health conditions do they have? (optional)",
		Hint:   "Select all that apply. This helps the employment specialist prepare. It never affects whether someone can be referred."}
	for _, c := range referral.HealthConditions {
		v.HealthConditions.Items = append(v.HealthConditions.Items, choice{
			Value: c, Label: healthLabel(c), Checked: slices.Contains(s.HealthConditions, c)})
	}

	v.Consent = choiceGroup{Kind: "checkboxes", Name: "consent", Heading: true, Legend: "Consent",
		Items: []choice{{Value: ConsentValue, Checked: p.Consent || s.Consent,
			Label: "The patient agrees to be referred and for their details to be shared with an IPS employment specialist in their area"}}}

	v.Notes = in("notes", s.Notes, textInput{
		Label: "Anything the employment specialist should know? (optional)",
		Hint:  "For example, the best times to call, or support they need to take part. Do not include clinical details that are not needed.",
		Rows:  5, MaxLength: NotesMaxLength})

	for _, g := range []*choiceGroup{&v.PreferredContact, &v.EmploymentStatus, &v.HealthConditions, &v.Consent} {
		g.ID = FieldID(g.Name)
		g.Error = inline[g.Name]
		for i := range g.Items {
			g.Items[i].ID = g.ID
			if i > 0 {
				g.Items[i].ID = g.ID + "-" + strconv.Itoa(i+1)
			}
		}
	}
	return v
}
