package email

// legacy_test.go is temporary: the template-based rendering as it was, to compare the plain-Go
// rendering against it on many messages (TestMatchesTemplates). It goes with templates/.

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"sync"
	"testing"
	texttemplate "text/template"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

func legacyRender(m Message) (Rendered, error) {
	v, err := check(m)
	if err != nil {
		return Rendered{}, err
	}
	t := templates()[m.Kind]
	var subject, text, html strings.Builder
	if err := t.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Rendered{}, err
	}
	v.Subject = strings.TrimSpace(subject.String())
	if err := t.text.ExecuteTemplate(&text, "layout", v); err != nil {
		return Rendered{}, err
	}
	if err := t.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: v.Subject, Text: tidyText(text.String()), HTML: tidyHTML(html.String())}, nil
}

func legacyRenderDigest(v digestView) (Rendered, error) {
	t := digestTemplates()
	var subject, text, html strings.Builder
	if err := t.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Rendered{}, fmt.Errorf("subject: %w", err)
	}
	v.Subject = strings.TrimSpace(subject.String())
	if err := t.text.ExecuteTemplate(&text, "layout", v); err != nil {
		return Rendered{}, err
	}
	if err := t.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Rendered{}, err
	}
	return Rendered{Subject: v.Subject, Text: tidyText(text.String()), HTML: tidyHTML(html.String())}, nil
}

var digestTemplates = sync.OnceValue(func() kindTemplates {
	return kindTemplates{
		text: texttemplate.Must(texttemplate.New(string(LeadDigest)).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.txt", "templates/"+string(LeadDigest)+".txt")),
		html: htmltemplate.Must(htmltemplate.New(string(LeadDigest)).Option("missingkey=error").
			ParseFS(templateFS, "templates/layout.html", "templates/"+string(LeadDigest)+".html")),
	}
})

//go:embed templates
var templateFS embed.FS

type kindTemplates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// templates holds each kind's parsed templates, parsed once on first use (functions that only
// link this package through a store never render an email, and should not pay for parsing at
// start-up); a broken template fails every test in this package.
var templates = sync.OnceValue(func() map[Kind]kindTemplates {
	m := make(map[Kind]kindTemplates, len(Kinds))
	for _, k := range Kinds {
		m[k] = kindTemplates{
			text: texttemplate.Must(texttemplate.New(string(k)).Option("missingkey=error").
				ParseFS(templateFS, "templates/layout.txt", "templates/"+string(k)+".txt")),
			html: htmltemplate.Must(htmltemplate.New(string(k)).Option("missingkey=error").
				ParseFS(templateFS, "templates/layout.html", "templates/"+string(k)+".html")),
		}
	}
	return m
})

// TestMatchesTemplates renders many varied messages, hostile and odd ones among them, through
// the templates and through the plain-Go rendering, and wants the same bytes.
func TestMatchesTemplates(t *testing.T) {
	names := []string{"", "Sam", "S", "Zoë Ñúñez-O'Brien", `<script>alert("x")</script>`, `a&b "c" 'd' +e <f> & &amp;`,
		"  spaced   out  ", "李小龍", "x\r\nBcc: a@b.c", "\u202eevil\x00", "%s %d {{.Link}}", "🙂 emoji"}
	links := []string{"", "https://referrals.example.org/referrals/R-1?token=AQAA+/=_-~.",
		`https://h.example/p'a"t<h>(x)?q=é&r=%41%zz%4`, "http://h.example/areas/a%20b/worklist?token=x&y=<>",
		"https://h.example/areas/south-yorkshire/worklist?token=AwAAAABrK5SYbGVh", "javascript:alert(1)", "https://h/a#frag!$*,;@[]",
		"https://h.example/areas/s'<\"é/worklist?token=a+b%zz%4"}
	var n, rendered int
	for _, kind := range Kinds {
		base := messageFor(t, kind)
		variants := []func(*Message){func(*Message) {}}
		for _, s := range names {
			variants = append(variants,
				func(m *Message) { m.PatientGivenName = s },
				func(m *Message) { m.PatientInitial = s },
				func(m *Message) { m.AreaName = s },
				func(m *Message) { m.RecipientName = s },
				func(m *Message) { m.SpecialistName = s; m.PatientGivenName, m.PatientInitial = s, "" },
			)
		}
		for _, l := range links {
			variants = append(variants, func(m *Message) { m.Link = l })
		}
		for _, r := range []string{"", "revoked", "entered-in-error", "unreachable", "declined", "other", "bogus"} {
			for _, a := range []Audience{"", AudienceReferrer, AudienceSpecialist} {
				variants = append(variants, func(m *Message) { m.Reason, m.Audience = r, a })
			}
		}
		for _, a := range []int{-1, 0, 1, 2, 17} {
			variants = append(variants, func(m *Message) { m.Attempts = a })
		}
		for _, c := range append([]Kind{"", Closed}, Kinds...) {
			variants = append(variants, func(m *Message) { m.CopyOf = c },
				func(m *Message) { m.CopyOf, m.ContactBy = c, calendar.Date{} },
				func(m *Message) { m.CopyOf, m.MeetBy = c, calendar.Date{} },
				func(m *Message) { m.CopyOf, m.ContactBy, m.MeetBy = c, calendar.Date{}, calendar.Date{} })
		}
		variants = append(variants,
			func(m *Message) { m.ReReferral = true },
			func(m *Message) { m.ReReferral, m.PatientGivenName = true, "<b>Bo</b>" },
			func(m *Message) { m.Status = StatusWaitlisted },
			func(m *Message) { m.Status = StatusWaitlisted; m.AreaName = "A & B" },
			func(m *Message) { m.PreferredContact = "email" },
			func(m *Message) { m.PreferredContact = "" },
			func(m *Message) { m.ContactBy = calendar.Date{Year: 2027, Month: 1, Day: 1} },
			func(m *Message) { m.MeetBy = calendar.Date{Year: 2028, Month: 2, Day: 29} },
			func(m *Message) { m.JobStart = calendar.Date{Year: 2026, Month: 12, Day: 31} },
			func(m *Message) { m.Cc = []string{"lead@example.org"} },
			func(m *Message) { m.ReferralID = "R-ABC" },
		)
		for _, edit := range variants {
			m := base
			edit(&m)
			n++
			want, werr := legacyRender(m)
			got, gerr := Render(m)
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("%s %+v: templates err %v, plain Go err %v", kind, m, werr, gerr)
			}
			if werr != nil {
				continue
			}
			rendered++
			if got != want {
				t.Fatalf("%s %+v differs:\n--- templates\n%s\n%s\n%s\n--- plain Go\n%s\n%s\n%s", kind, m,
					want.Subject, want.Text, want.HTML, got.Subject, got.Text, got.HTML)
			}
		}
	}
	counts := []int{0, 1, 2, 7, 1234}
	for _, name := range names {
		for _, l := range links {
			for i := range 32 {
				d := Digest{To: []string{"lead@example.org"}, RecipientName: name, AreaName: name + " area", Link: l,
					Waitlisted: counts[i%5], OldestWaitDays: counts[(i/2)%5], Overdue: counts[(i/3)%5],
					ReceivedLastWeek: counts[(i/4)%5], Bouncing: counts[(i/5)%5]}
				n++
				got, err := RenderDigest(d)
				if err != nil {
					continue
				}
				rendered++
				v := digestView{Greeting: "Hello,", Area: clean(d.AreaName), Link: d.Link, Waitlisted: d.Waitlisted,
					OldestWaitDays: d.OldestWaitDays, Overdue: d.Overdue, ReceivedLastWeek: d.ReceivedLastWeek, Bouncing: d.Bouncing}
				if name := clean(d.RecipientName); name != "" {
					v.Greeting = "Dear " + name + ","
				}
				want, err := legacyRenderDigest(v)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Fatalf("digest %+v differs:\n--- templates\n%s\n%s\n%s\n--- plain Go\n%s\n%s\n%s", d,
						want.Subject, want.Text, want.HTML, got.Subject, got.Text, got.HTML)
				}
			}
		}
	}
	t.Logf("%d messages, %d rendered and identical", n, rendered)
	if rendered < 1000 {
		t.Errorf("only %d messages rendered: the variants do not exercise the rendering", rendered)
	}
}
