package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// validSubmission is a complete submission like the one in SPEC §4.
func validSubmission() referral.Submission {
	return referral.Submission{
		Patient: referral.Patient{
			GivenName: "Sam", FamilyName: "Taylor", DateOfBirth: "1988-02-29",
			NHSNumber: "943 476 5919", Postcode: "s1 2hh", Phone: "07700 900123",
			Email: "sam.taylor@example.com", PreferredContact: "phone",
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

func TestFormHasEverySpecField(t *testing.T) {
	p := renderForm(t, FormPage{Token: "tok-123"})

	form := p.one(t, "form")
	for attr, want := range map[string]string{"method": "post", "action": "/referrals"} {
		if got := form.Attrs[attr]; got != want {
			t.Errorf("form %s = %q, want %q", attr, got, want)
		}
	}
	if !form.has("novalidate") {
		t.Errorf("form has no novalidate attribute")
	}
	if enc, ok := form.Attrs["enctype"]; ok && enc != "application/x-www-form-urlencoded" {
		t.Errorf("form enctype = %q", enc)
	}

	tests := []struct {
		name   string // input name = JSON path
		tag    string
		typ    string   // type attribute ("" for textarea)
		values []string // values of radios and checkboxes, in order
	}{
		{"patient.givenName", "input", "text", nil},
		{"patient.familyName", "input", "text", nil},
		{"patient.dateOfBirth", "input", "text", nil},
		{"patient.nhsNumber", "input", "text", nil},
		{"patient.postcode", "input", "text", nil},
		{"patient.phone", "input", "tel", nil},
		{"patient.email", "input", "email", nil},
		{"patient.preferredContact", "input", "radio", []string{"phone", "email"}},
		{"referrer.name", "input", "text", nil},
		{"referrer.practiceCode", "input", "text", nil},
		{"referrer.email", "input", "email", nil},
		{"referrer.phone", "input", "tel", nil},
		{"employmentStatus", "input", "radio", referral.EmploymentStatuses},
		{"healthConditions", "input", "checkbox", referral.HealthConditions},
		{"consent", "input", "checkbox", []string{"yes"}},
		{"notes", "textarea", "", nil},
		{"idempotencyToken", "input", "hidden", nil},
		{"website", "input", "text", nil},
	}
	var named []string
	for _, tt := range tests {
		named = append(named, tt.name)
		t.Run(tt.name, func(t *testing.T) {
			got := p.find(tt.tag, "name", tt.name)
			if len(got) == 0 {
				t.Fatalf("no <%s name=%q>", tt.tag, tt.name)
			}
			var values []string
			for _, e := range got {
				if e.Attrs["type"] != tt.typ {
					t.Errorf("type = %q, want %q", e.Attrs["type"], tt.typ)
				}
				values = append(values, e.Attrs["value"])
			}
			if tt.values != nil && !slices.Equal(values, tt.values) {
				t.Errorf("values = %q, want %q", values, tt.values)
			}
			if tt.values == nil && len(got) != 1 {
				t.Errorf("%d elements named %q, want 1", len(got), tt.name)
			}
			// Every field a person fills in has a label.
			if tt.typ != "hidden" {
				p.one(t, "label", "for", got[0].Attrs["id"])
			}
		})
	}

	// Nothing else is posted: every named control is one the tests above know about.
	for _, e := range p.Elements {
		if name, ok := e.Attrs["name"]; ok && slices.Contains([]string{"input", "textarea", "select", "button"}, e.Tag) {
			if !slices.Contains(named, name) {
				t.Errorf("unexpected form field %q", name)
			}
		}
	}
	// FieldPaths is exactly the SPEC fields (the tests above less the token and the honeypot).
	if want := named[:len(named)-2]; !slices.Equal(FieldPaths(), want) {
		t.Errorf("FieldPaths() = %q, want %q", FieldPaths(), want)
	}
}

func TestFormDetails(t *testing.T) {
	p := renderForm(t, FormPage{Token: "tok-123"})

	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"token is posted back", func(t *testing.T) {
			if got := p.one(t, "input", "name", TokenField).Attrs["value"]; got != "tok-123" {
				t.Errorf("token = %q", got)
			}
		}},
		{"honeypot is hidden from people and assistive technology", func(t *testing.T) {
			hp := p.one(t, "input", "name", HoneypotField)
			if hp.Attrs["tabindex"] != "-1" || hp.Attrs["autocomplete"] != "off" || hp.Attrs["value"] != "" {
				t.Errorf("honeypot = %v", hp.Attrs)
			}
			var hidden bool
			for _, a := range p.ancestors(hp) {
				hidden = hidden || (a.Attrs["aria-hidden"] == "true" && a.classes("nhsuk-u-visually-hidden"))
			}
			if !hidden {
				t.Errorf("honeypot is not inside a visually hidden, aria-hidden container")
			}
			if label := p.one(t, "label", "for", hp.Attrs["id"]); label.Text != "Leave this blank" {
				t.Errorf("honeypot label = %q", label.Text)
			}
		}},
		{"notes use the character count", func(t *testing.T) {
			notes := p.byID(t, "notes")
			var cc element
			for _, a := range p.ancestors(notes) {
				if a.classes("nhsuk-character-count") {
					cc = a
				}
			}
			if cc.Attrs["data-module"] != "nhsuk-character-count" || cc.Attrs["data-maxlength"] != "1000" {
				t.Errorf("character count = %v", cc.Attrs)
			}
			if !strings.Contains(notes.Attrs["aria-describedby"], "notes-info") || !notes.classes("nhsuk-js-character-count") {
				t.Errorf("notes = %v", notes.Attrs)
			}
			if info := p.byID(t, "notes-info"); !strings.Contains(info.Text, "1000 characters") {
				t.Errorf("notes-info = %q", info.Text)
			}
		}},
		{"health conditions never affect eligibility", func(t *testing.T) {
			if hint := p.byID(t, "healthConditions-hint"); !strings.Contains(hint.Text, "never affects") {
				t.Errorf("health hint = %q", hint.Text)
			}
		}},
		{"hints for formats", func(t *testing.T) {
			for id, want := range map[string]string{
				"patient-dateOfBirth-hint":   "1988-02-29",
				"patient-nhsNumber-hint":     "10 digits",
				"referrer-practiceCode-hint": "1 letter and 5 numbers",
				"referrer-email-hint":        "nhs.net",
			} {
				if got := p.byID(t, id).Text; !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to mention %q", id, got, want)
				}
			}
			if got := p.byID(t, "patient-nhsNumber").Attrs["inputmode"]; got != "numeric" {
				t.Errorf("NHS number inputmode = %q", got)
			}
		}},
		{"each question group is a fieldset with a legend", func(t *testing.T) {
			fieldsets := p.find("fieldset")
			if len(fieldsets) < 7 {
				t.Errorf("%d fieldsets, want at least 7", len(fieldsets))
			}
			if legends := p.find("legend"); len(legends) != len(fieldsets) {
				t.Errorf("%d legends for %d fieldsets", len(legends), len(fieldsets))
			}
			for _, id := range []string{"patient-givenName", "patient-phone", "patient-preferredContact",
				"referrer-name", "employmentStatus", "healthConditions", "consent"} {
				var in bool
				for _, a := range p.ancestors(p.byID(t, id)) {
					in = in || a.Tag == "fieldset"
				}
				if !in {
					t.Errorf("%s is not in a fieldset", id)
				}
			}
		}},
		{"nothing is checked or in error on first view", func(t *testing.T) {
			for _, e := range p.Elements {
				if e.has("checked") {
					t.Errorf("%s is checked", e.Attrs["id"])
				}
				if e.classes("nhsuk-form-group--error") || e.classes("nhsuk-error-summary") || e.classes("nhsuk-error-message") {
					t.Errorf("error markup on first view: %v", e.Attrs)
				}
			}
			if title := p.title(t); strings.HasPrefix(title, "Error") {
				t.Errorf("title = %q", title)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func TestFormErrorForEachField(t *testing.T) {
	for _, path := range FieldPaths() {
		t.Run(path, func(t *testing.T) {
			msg := "Problem with " + path
			p := renderForm(t, FormPage{Errors: []referral.FieldError{{Field: path, Message: msg}}})
			id := FieldID(path)

			if title := p.title(t); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title = %q, want an Error: prefix", title)
			}
			summary := p.one(t, "div", "data-module", "nhsuk-error-summary")
			if summary.Attrs["tabindex"] != "-1" || !summary.classes("nhsuk-error-summary") {
				t.Errorf("summary = %v", summary.Attrs)
			}
			if len(p.find("div", "role", "alert")) != 1 {
				t.Errorf("want one role=alert")
			}
			if h := p.one(t, "h2", "class", "nhsuk-error-summary__heading"); h.Text != "There is a problem" {
				t.Errorf("summary heading = %q", h.Text)
			}
			link := p.one(t, "a", "href", "#"+id)
			if link.Text != msg {
				t.Errorf("summary link text = %q, want %q", link.Text, msg)
			}
			if !p.inside(link, "nhsuk-error-summary") {
				t.Errorf("link to #%s is not in the error summary", id)
			}

			target := p.byID(t, id)
			if target.Tag != "input" && target.Tag != "textarea" {
				t.Errorf("#%s is a <%s>, want the field itself", id, target.Tag)
			}
			if target.Attrs["name"] != path {
				t.Errorf("#%s has name %q, want %q", id, target.Attrs["name"], path)
			}

			errMsg := p.byID(t, id+"-error")
			if !errMsg.classes("nhsuk-error-message") || errMsg.Text != msg {
				t.Errorf("inline error = %+v", errMsg)
			}
			if !p.inside(target, "nhsuk-form-group", "nhsuk-form-group--error") {
				t.Errorf("#%s is not in an nhsuk-form-group--error", id)
			}
			if n := len(p.find("", "class", "nhsuk-error-message")); n != 1 {
				t.Errorf("%d inline errors, want 1", n)
			}

			// Text inputs carry the error themselves; radios and checkboxes through their fieldset.
			describer := target
			switch target.Attrs["type"] {
			case "radio", "checkbox":
				for _, a := range p.ancestors(target) {
					if a.Tag == "fieldset" {
						describer = a
						break
					}
				}
			case "":
				if !target.classes("nhsuk-textarea--error") {
					t.Errorf("textarea has no nhsuk-textarea--error")
				}
			default:
				if !target.classes("nhsuk-input--error") {
					t.Errorf("input has no nhsuk-input--error")
				}
			}
			ids := strings.Fields(describer.Attrs["aria-describedby"])
			if !slices.Contains(ids, id+"-error") {
				t.Errorf("<%s> aria-describedby = %q, want it to include %s-error", describer.Tag, ids, id)
			}
			if len(p.find("", "id", id+"-hint")) == 1 && !slices.Contains(ids, id+"-hint") {
				t.Errorf("aria-describedby = %q, want it to include the hint", ids)
			}
		})
	}
}

func TestFormErrorSummary(t *testing.T) {
	type item struct{ text, href string }
	tests := []struct {
		name string
		page FormPage
		want []item
	}{
		{
			name: "ordered as on the page, not as given",
			page: FormPage{Errors: []referral.FieldError{
				{Field: "consent", Message: "Confirm the patient agrees"},
				{Field: "patient.nhsNumber", Message: "Enter a valid NHS number"},
				{Field: "patient.givenName", Message: "Enter a first name"},
			}},
			want: []item{
				{"Enter a first name", "#patient-givenName"},
				{"Enter a valid NHS number", "#patient-nhsNumber"},
				{"Confirm the patient agrees", "#consent"},
			},
		},
		{
			name: "page-level message first, with no link",
			page: FormPage{Message: "The form was too large to send", Errors: []referral.FieldError{
				{Field: "notes", Message: "Notes must be 1000 characters or fewer"},
			}},
			want: []item{
				{"The form was too large to send", ""},
				{"Notes must be 1000 characters or fewer", "#notes"},
			},
		},
		{
			name: "message alone",
			page: FormPage{Message: "Postcode not in an IPSPC area"},
			want: []item{{"Postcode not in an IPSPC area", ""}},
		},
		{
			name: "field-less and unknown fields are listed without a link",
			page: FormPage{Errors: []referral.FieldError{
				{Field: "", Message: "Could not read the form"},
				{Field: "somethingElse", Message: "Odd field"},
				{Field: "healthConditions[1]", Message: "Select a listed condition"},
				{Field: "patient.email.domain", Message: "Enter a real email address"},
			}},
			want: []item{
				{"Enter a real email address", "#patient-email"},
				{"Select a listed condition", "#healthConditions"},
				{"Could not read the form", ""},
				{"Odd field", ""},
			},
		},
		{
			name: "two messages for one field: both listed",
			page: FormPage{Errors: []referral.FieldError{
				{Field: "patient.phone", Message: "Enter a phone number or an email address"},
				{Field: "patient.phone", Message: "Enter a UK phone number"},
			}},
			want: []item{
				{"Enter a phone number or an email address", "#patient-phone"},
				{"Enter a UK phone number", "#patient-phone"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := renderForm(t, tt.page)
			var got []item
			for _, li := range p.find("li") {
				if !p.inside(li, "nhsuk-error-summary__list") {
					continue
				}
				it := item{text: li.Text}
				for _, a := range p.children(li) {
					if a.Tag == "a" {
						it = item{a.Text, a.Attrs["href"]}
					}
				}
				got = append(got, it)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("summary = %q\nwant      %q", got, tt.want)
			}
			for _, it := range got {
				if it.href != "" {
					p.byID(t, strings.TrimPrefix(it.href, "#"))
				}
			}
			if title := p.title(t); !strings.HasPrefix(title, "Error: ") {
				t.Errorf("title = %q", title)
			}
		})
	}
}

func TestFormKeepsAndEscapesValues(t *testing.T) {
	const nasty = `<script>alert(1)</script>"' onfocus="alert(2)&amp;`
	tests := []struct {
		path string
		set  func(s *referral.Submission, v string)
	}{
		{"patient.givenName", func(s *referral.Submission, v string) { s.Patient.GivenName = v }},
		{"patient.familyName", func(s *referral.Submission, v string) { s.Patient.FamilyName = v }},
		{"patient.dateOfBirth", func(s *referral.Submission, v string) { s.Patient.DateOfBirth = v }},
		{"patient.nhsNumber", func(s *referral.Submission, v string) { s.Patient.NHSNumber = v }},
		{"patient.postcode", func(s *referral.Submission, v string) { s.Patient.Postcode = v }},
		{"patient.phone", func(s *referral.Submission, v string) { s.Patient.Phone = v }},
		{"patient.email", func(s *referral.Submission, v string) { s.Patient.Email = v }},
		{"referrer.name", func(s *referral.Submission, v string) { s.Referrer.Name = v }},
		{"referrer.practiceCode", func(s *referral.Submission, v string) { s.Referrer.PracticeCode = v }},
		{"referrer.email", func(s *referral.Submission, v string) { s.Referrer.Email = v }},
		{"referrer.phone", func(s *referral.Submission, v string) { s.Referrer.Phone = v }},
		{"notes", func(s *referral.Submission, v string) { s.Notes = v }},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			for _, value := range []string{"Zoë O'Brien-Ng", nasty} {
				s := validSubmission()
				tt.set(&s, value)
				p := renderForm(t, FormPage{Values: s, Token: `"><script>x</script>`,
					Errors:  []referral.FieldError{{Field: tt.path, Message: "Bad <b>value</b>"}},
					Message: "<i>too large</i>"})
				if strings.Contains(p.HTML, "<script>") || strings.Contains(p.HTML, "<b>") || strings.Contains(p.HTML, "<i>") {
					t.Fatalf("unescaped markup in page")
				}
				e := p.byID(t, FieldID(tt.path))
				got := e.Attrs["value"]
				if e.Tag == "textarea" {
					got = e.Text
				}
				if got != value {
					t.Errorf("value = %q, want %q", got, value)
				}
				if tok := p.one(t, "input", "name", TokenField).Attrs["value"]; tok != `"><script>x</script>` {
					t.Errorf("token = %q", tok)
				}
			}
		})
	}

	// The other values of a full submission are kept too.
	s := validSubmission()
	p := renderForm(t, FormPage{Values: s})
	for id, want := range map[string]string{
		"patient-givenName": "Sam", "patient-nhsNumber": "943 476 5919", "patient-postcode": "s1 2hh",
		"referrer-email": "priya.shah@nhs.net", "referrer-practiceCode": "C88038",
	} {
		if got := p.byID(t, id).Attrs["value"]; got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
}

func TestFormKeepsChoices(t *testing.T) {
	tests := []struct {
		name    string
		page    FormPage
		checked []string // ids of checked inputs, in page order
	}{
		{"none", FormPage{}, nil},
		{"full submission", FormPage{Values: validSubmission()},
			[]string{"patient-preferredContact", "employmentStatus", "healthConditions", "consent"}},
		{"email, at risk, several conditions", FormPage{Values: referral.Submission{
			Patient:          referral.Patient{PreferredContact: "email"},
			EmploymentStatus: "employed-at-risk",
			HealthConditions: []string{"other", "musculoskeletal", "neurological"},
		}}, []string{"patient-preferredContact-2", "employmentStatus-3", "healthConditions-2", "healthConditions-3", "healthConditions-5"}},
		{"consent from FormPage.Consent", FormPage{Consent: true}, []string{"consent"}},
		{"values not offered are not checked", FormPage{Values: referral.Submission{
			Patient:          referral.Patient{PreferredContact: "carrier pigeon"},
			EmploymentStatus: "retired",
			HealthConditions: []string{"mental health", ""},
		}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := renderForm(t, tt.page)
			var got []string
			for _, e := range p.find("input") {
				if e.has("checked") {
					got = append(got, e.Attrs["id"])
				}
			}
			if !slices.Equal(got, tt.checked) {
				t.Errorf("checked = %q, want %q", got, tt.checked)
			}
		})
	}
}

func TestFormField(t *testing.T) {
	tests := []struct{ in, want string }{
		{"patient.nhsNumber", "patient.nhsNumber"},
		{"healthConditions[0]", "healthConditions"},
		{"healthConditions.3", "healthConditions"},
		{"patient", ""},
		{"", ""},
		{"patient.unknown", ""},
		{"notes.length", "notes"},
	}
	for _, tt := range tests {
		if got := formField(tt.in); got != tt.want {
			t.Errorf("formField(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
