package web

import (
	"bytes"
	"html/template"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
)

// escapeInputs are values with every character html/template treats specially, in and out of URLs.
var escapeInputs = []string{
	"", "plain", "Zoë Ørsted ✓ 😀", `<script>alert("x'&+")</script>`, "a\x00b", "\xff\xfe invalid UTF-8",
	"javascript:alert(1)", "JavaScript:x", " javascript:x", "data:text/html,<b>", "tel:+447700900123", "vbscript:x",
	"mailto:a@b.org?subject=<x>", "https://example.org/a b?q=1&r=\"2\"#f", "HTTP://X", "/a/b:c", "#frag", "?format=csv&x=+",
	"%41%zz%4", "/p%2Fq%", "`~!@$^*()[]{}|\\;:'\",<>/?=-_ \t\n\r", "&amp;&#34;",
}

// TestEscapingMatchesHTMLTemplate holds the writer's escaping to html/template's in the same
// contexts (text, RCDATA, quoted attributes, whole-URL attributes, trusted URLs): the test binary
// may link html/template; the Lambda functions must not.
func TestEscapingMatchesHTMLTemplate(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse(
		`<p title="{{.S}}">{{.S}}</p><textarea>{{.S}}</textarea><a href="{{.S}}">x</a><a href="{{.U}}">y</a>`))
	for _, s := range escapeInputs {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, struct {
			S string
			U template.URL
		}{s, template.URL(s)}); err != nil {
			t.Fatal(err)
		}
		var m markup
		m.raw(`<p title="`)
		m.text(s)
		m.raw(`">`)
		m.text(s)
		m.raw(`</p><textarea>`)
		m.text(s)
		m.raw(`</textarea><a href="`)
		m.url(s)
		m.raw(`">x</a><a href="`)
		m.safeURL(safeURL(s))
		m.raw(`">y</a>`)
		if got := m.String(); got != want.String() {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want.String())
		}
	}
}

// TestPagesEscapeHostileInput renders every page with markup in every field a person can type or
// the service stores from input, and unsafe links wherever a link is given.
func TestPagesEscapeHostileInput(t *testing.T) {
	const bad = `<script>alert('x')</script><img src=x onerror=alert(1)>"&`
	const escaped = `&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#34;&amp;`
	const evil = "javascript:alert(1)"

	sub := referral.Submission{
		Patient:          referral.Patient{GivenName: bad, FamilyName: bad, DateOfBirth: bad, NHSNumber: bad, Postcode: bad, Phone: bad, Email: bad, PreferredContact: bad},
		Referrer:         referral.Referrer{Name: bad, PracticeCode: bad, Email: bad, Phone: bad},
		EmploymentStatus: bad, HealthConditions: []string{bad}, Notes: bad + "\n" + bad,
	}
	var formErrs []referral.FieldError
	for _, f := range append(FieldPaths(), bad) {
		formErrs = append(formErrs, referral.FieldError{Field: f, Message: bad})
	}
	r := specialistReferral(referral.StatusInWork,
		progressAt(referral.EventAttempted, "ann", bad, contactedAt),
		progressAt(referral.EventJobStarted, "ann", bad, metAt),
		progressAt(referral.EventEmployerContact, "ann", bad, metAt),
		progressAt(bad, bad, bad, closedAt))
	r.Submission = sub
	fieldErrs := []referral.FieldError{{Field: referral.ReasonField, Message: bad}, {Field: referral.HoursPerWeekField, Message: bad}, {Field: bad, Message: bad}}
	posted := url.Values{referral.DateField: {bad}, referral.HoursPerWeekField: {bad}, referral.StartDateField + "-day": {bad}}
	closed := r
	closed.Status = referral.StatusClosed
	closed.Events = append(closed.Events, progressAt(referral.EventClosed, "ann", bad, closedAt))
	person := worklist.Person{GivenName: bad, Initial: bad}
	wl := worklist.Worklist{AreaID: bad, AreaName: bad,
		Waitlist:    []worklist.Waiting{{ReferralID: bad, Person: person}},
		Overdue:     []worklist.Overdue{{ReferralID: bad, Person: person, SpecialistID: bad, What: []string{bad}}},
		Specialists: []worklist.Specialist{{ID: bad, Name: bad}},
		Open: []worklist.Open{{ReferralID: bad, Person: person, Status: referral.Status(bad), SpecialistID: bad, CanReassign: true, CanTransfer: true,
			ReassignTo: []worklist.Specialist{{ID: bad, Name: bad}}}},
	}

	pages := map[string]func(*bytes.Buffer) error{
		"form": func(b *bytes.Buffer) error {
			return RenderForm(b, FormPage{Values: sub, Errors: formErrs, Token: bad, Message: bad})
		},
		"confirmation": func(b *bytes.Buffer) error {
			return RenderConfirmation(b, ConfirmationPage{Receipt: referral.Receipt{ReferralID: bad, ContactBy: bad, MeetBy: bad}, AreaName: bad})
		},
		"error": func(b *bytes.Buffer) error { return RenderError(b, ErrorPage{Status: 400, Title: bad, Message: bad}) },
		"referral": func(b *bytes.Buffer) error {
			return RenderReferral(b, ReferralPage{Referral: r, Token: bad, Viewer: bad, Errors: fieldErrs, Reason: bad, Values: posted})
		},
		"closed referral": func(b *bytes.Buffer) error { return RenderReferral(b, ReferralPage{Referral: closed, Token: bad}) },
		"action recorded": func(b *bytes.Buffer) error {
			return RenderActionRecorded(b, ActionPage{Referral: closed, Action: referral.ActionClose, Token: bad})
		},
		"referrer status": func(b *bytes.Buffer) error {
			rr := r
			rr.Status = referral.StatusAssigned
			return RenderReferrerStatus(b, StatusPage{Referral: rr, AreaName: bad, Token: bad, Errors: fieldErrs, Reason: bad})
		},
		"withdrawn": func(b *bytes.Buffer) error {
			w := r
			w.ID = bad
			w.Events = append(w.Events, progressAt(referral.EventWithdrawn, bad, bad, closedAt))
			return RenderWithdrawn(b, WithdrawnPage{Referral: w, Token: bad})
		},
		"worklist": func(b *bytes.Buffer) error {
			return RenderWorklist(b, WorklistPage{Worklist: wl, Token: bad, ReportLink: evil})
		},
		"lead result": func(b *bytes.Buffer) error {
			return RenderLeadResult(b, LeadResultPage{AreaID: bad, Token: bad, ReferralID: bad, Outcome: LeadNoRoom, Specialist: bad})
		},
		"report": func(b *bytes.Buffer) error {
			return RenderReport(b, ReportPage{AreaName: bad, From: bad, To: bad, Rows: reportRows(), CSVLink: evil, Action: evil, Token: bad})
		},
	}
	for name, render := range pages {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render(&b); err != nil {
				t.Fatal(err)
			}
			src := b.String()
			p := parsePage(t, src) // a stray '<' would not parse
			if !strings.Contains(src, escaped) {
				t.Errorf("the hostile input is not on the page, escaped")
			}
			if n := strings.Count(strings.ToLower(src), "<script"); n != 1 {
				t.Errorf("%d <script elements, want only the layout's", n)
			}
			if strings.Contains(src, "<img") || strings.Contains(src, "'x'") {
				t.Errorf("hostile markup got through unescaped")
			}
			for _, e := range append(p.find("a"), p.find("form")...) {
				for _, attr := range []string{"href", "action"} {
					if v := strings.ToLower(strings.TrimSpace(e.Attrs[attr])); strings.HasPrefix(v, "javascript:") {
						t.Errorf("<%s %s=%q>", e.Tag, attr, e.Attrs[attr])
					}
				}
			}
		})
	}

	// The unsafe links were replaced, not dropped: the page still has the link, going nowhere.
	var b bytes.Buffer
	if err := RenderWorklist(&b, WorklistPage{Worklist: wl, Token: "t", ReportLink: evil}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<a href="#ZgotmplZ">Programme return`) {
		t.Errorf("javascript: report link not neutralised to #ZgotmplZ")
	}
}

// TestWebLinksNoTemplatePackage keeps html/template and text/template out of this package and
// everything it imports: their reflection cost each function that renders a page about 2 MB
// (docs/decisions.md, "Pages without html/template").
func TestWebLinksNoTemplatePackage(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=-tags=lambda.norpc")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/ipspc/referrals/shared/render/web") {
		t.Fatalf("go list -deps . did not list this package: %q", out)
	}
	for _, pkg := range deps {
		if pkg == "html/template" || pkg == "text/template" {
			t.Errorf("shared/render/web links %s", pkg)
		}
	}
}
