package web

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
)

func assignedReceipt() referral.Receipt {
	return referral.Receipt{
		ReferralID: "R-7K3M9QX2",
		Status:     referral.StatusAssigned,
		Area:       "south-yorkshire",
		ReceivedAt: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		ContactBy:  "2026-11-25",
		MeetBy:     "2026-12-07",
	}
}

// renderAll renders one of each page, with and without errors, for the checks every page must pass.
func renderAll(tb testing.TB) map[string]string {
	tb.Helper()
	waitlisted := assignedReceipt()
	waitlisted.Status = referral.StatusWaitlisted
	pages := map[string]func(*bytes.Buffer) error{
		"form": func(b *bytes.Buffer) error { return RenderForm(b, FormPage{Token: "t"}) },
		"form with every error": func(b *bytes.Buffer) error {
			var errs []referral.FieldError
			for _, f := range FieldPaths() {
				errs = append(errs, referral.FieldError{Field: f, Message: "Fix " + f})
			}
			return RenderForm(b, FormPage{Values: validSubmission(), Errors: errs, Message: "Whole-page problem", Token: "t"})
		},
		"confirmation assigned": func(b *bytes.Buffer) error {
			return RenderConfirmation(b, ConfirmationPage{Receipt: assignedReceipt(), AreaName: "South Yorkshire"})
		},
		"confirmation waitlisted": func(b *bytes.Buffer) error {
			return RenderConfirmation(b, ConfirmationPage{Receipt: waitlisted})
		},
		"report": func(b *bytes.Buffer) error {
			return RenderReport(b, ReportPage{AreaName: "North", From: "2026-09", To: "2026-11", Rows: reportRows(), CSVLink: "?format=csv"})
		},
		"error 404": func(b *bytes.Buffer) error { return RenderError(b, ErrorPage{Status: http.StatusNotFound}) },
		"error 503": func(b *bytes.Buffer) error { return RenderError(b, ErrorPage{Status: http.StatusServiceUnavailable}) },
	}
	out := map[string]string{}
	for name, render := range pages {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			tb.Fatalf("render %s: %v", name, err)
		}
		out[name] = buf.String()
	}
	return out
}

var (
	inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)\sstyle\s*=`)
)

// TestEveryPage checks what the CSP, WCAG and the NHS.UK template ask of every page.
func TestEveryPage(t *testing.T) {
	assets := Assets()
	for name, src := range renderAll(t) {
		t.Run(name, func(t *testing.T) {
			p := parsePage(t, src)

			// Under script-src 'self' and style-src 'self' nothing inline runs or applies.
			for _, bad := range []string{"{{", "}}", "ZgotmplZ", "<style", "javascript:", "<no value>"} {
				if strings.Contains(src, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			if m := styleAttr.FindString(src); m != "" {
				t.Errorf("page has a style attribute: %q", m)
			}
			if m := inlineHandler.FindString(src); m != "" {
				t.Errorf("page has an inline event handler: %q", m)
			}
			scripts := p.find("script")
			if len(scripts) != 1 || scripts[0].Attrs["src"] != "/assets/init.js" || scripts[0].Attrs["type"] != "module" {
				t.Errorf("scripts = %+v, want only the init.js module", scripts)
			}
			for _, s := range scripts {
				if s.Text != "" {
					t.Errorf("inline script: %q", s.Text)
				}
			}

			// Every link to an asset resolves in Assets(); nothing is loaded from elsewhere.
			for _, e := range p.Elements {
				for _, attr := range []string{"src", "href"} {
					v, ok := e.Attrs[attr]
					if !ok || e.Tag == "a" {
						continue
					}
					name, ok := strings.CutPrefix(v, AssetPrefix)
					if !ok {
						t.Errorf("<%s %s=%q> is not under %s", e.Tag, attr, v, AssetPrefix)
						continue
					}
					if _, err := fs.Stat(assets, name); err != nil {
						t.Errorf("<%s %s=%q>: %v", e.Tag, attr, v, err)
					}
				}
			}
			p.one(t, "link", "rel", "stylesheet", "href", "/assets/nhsuk-frontend.min.css")

			// Page structure: language, title, landmarks, skip link, NHS logo.
			if lang := p.one(t, "html").Attrs["lang"]; lang != "en-GB" {
				t.Errorf("lang = %q", lang)
			}
			if title := p.title(t); !strings.HasSuffix(title, "– Refer for employment support – NHS") {
				t.Errorf("title = %q", title)
			}
			if len(p.find("h1")) != 1 {
				t.Errorf("%d h1, want 1", len(p.find("h1")))
			}
			p.one(t, "main", "id", "maincontent")
			p.one(t, "a", "href", "#maincontent", "class", "nhsuk-skip-link")
			p.one(t, "header", "role", "banner")
			p.one(t, "footer", "role", "contentinfo")
			p.one(t, "svg", "class", "nhsuk-header__logo", "aria-label", "NHS")
			if name := p.one(t, "span", "class", "nhsuk-header__service-name"); name.Text != ServiceName {
				t.Errorf("service name = %q", name.Text)
			}

			// Ids are unique, and everything that points at an id finds it.
			ids := map[string]int{}
			for _, e := range p.Elements {
				if id, ok := e.Attrs["id"]; ok {
					ids[id]++
				}
			}
			for id, n := range ids {
				if n > 1 {
					t.Errorf("id %q used %d times", id, n)
				}
			}
			for _, e := range p.Elements {
				refs := strings.Fields(e.Attrs["aria-describedby"] + " " + e.Attrs["for"])
				if href := e.Attrs["href"]; strings.HasPrefix(href, "#") {
					refs = append(refs, strings.TrimPrefix(href, "#"))
				}
				for _, id := range refs {
					if ids[id] != 1 {
						t.Errorf("<%s> points at #%s, which is not on the page", e.Tag, id)
					}
				}
			}
		})
	}
}

func TestConfirmation(t *testing.T) {
	waitlisted := assignedReceipt()
	waitlisted.Status = referral.StatusWaitlisted
	tests := []struct {
		name    string
		page    ConfirmationPage
		want    []string
		notWant []string
	}{
		{
			name: "assigned",
			page: ConfirmationPage{Receipt: assignedReceipt(), AreaName: "South Yorkshire"},
			want: []string{"R-7K3M9QX2", "South Yorkshire", "Wednesday 25 November 2026", "Monday 7 December 2026",
				"will contact the patient by Wednesday 25 November 2026", "What happens next"},
			notWant: []string{"2026-11-25", "waiting list", "south-yorkshire"},
		},
		{
			name:    "waitlisted",
			page:    ConfirmationPage{Receipt: waitlisted, AreaName: "South Yorkshire"},
			want:    []string{"R-7K3M9QX2", "South Yorkshire", "waiting list", "area lead", "What happens next"},
			notWant: []string{"Wednesday 25 November 2026", "2026-11-25", "will contact the patient by"},
		},
		{
			name: "area id when no name is given",
			page: ConfirmationPage{Receipt: assignedReceipt()},
			want: []string{"south-yorkshire"},
		},
		{
			name:    "escaped",
			page:    ConfirmationPage{Receipt: referral.Receipt{ReferralID: "<b>R-1</b>", ContactBy: "<i>soon</i>"}, AreaName: "<script>x</script>"},
			want:    []string{"&lt;b&gt;R-1&lt;/b&gt;", "&lt;script&gt;x&lt;/script&gt;", "&lt;i&gt;soon&lt;/i&gt;"},
			notWant: []string{"<b>", "<script>x", "<i>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderConfirmation(&buf, tt.page); err != nil {
				t.Fatalf("RenderConfirmation: %v", err)
			}
			src := buf.String()
			p := parsePage(t, src)
			text := pageText(p)
			for _, w := range tt.want {
				if !strings.Contains(text, w) && !strings.Contains(src, w) {
					t.Errorf("page does not contain %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(src, w) {
					t.Errorf("page contains %q", w)
				}
			}
			panel := p.one(t, "div", "class", "nhsuk-panel")
			var ref string
			for _, e := range p.Elements {
				if e.Tag == "strong" && p.inside(e, "nhsuk-panel") {
					ref = e.Text
				}
			}
			if ref != tt.page.Receipt.ReferralID {
				t.Errorf("reference in panel = %q, want %q (panel %+v)", ref, tt.page.Receipt.ReferralID, panel)
			}
		})
	}
}

// pageText is the text of every element, one space between each.
func pageText(p page) string {
	var parts []string
	for _, e := range p.Elements {
		if e.Text != "" {
			parts = append(parts, e.Text)
		}
	}
	return strings.Join(parts, " ")
}

func TestErrorPage(t *testing.T) {
	tests := []struct {
		page        ErrorPage
		wantTitle   string
		wantMessage string
	}{
		{ErrorPage{Status: 404}, "Page not found", "check it is correct"},
		{ErrorPage{Status: 405}, "Sorry, you cannot do that on this page", "start again"},
		{ErrorPage{Status: 413}, "Your referral is too long to send", "shorten the notes"},
		{ErrorPage{Status: 415}, "Sorry, we could not read your referral", "referral form"},
		{ErrorPage{Status: 500}, "Sorry, there is a problem with the service", "Try again later"},
		{ErrorPage{Status: 502}, "Sorry, there is a problem with the service", "Try again later"},
		{ErrorPage{Status: 503}, "Sorry, the service is unavailable", "Try again in a few minutes"},
		{ErrorPage{Status: 418}, "I'm a teapot", "Go to the referral form"},
		{ErrorPage{Status: 499}, "Sorry, there is a problem", "Go to the referral form"},
		{ErrorPage{Status: 599}, "Sorry, there is a problem with the service", "Try again later"},
		{ErrorPage{Status: 403, Title: "Link expired", Message: "Ask for a new <link>."}, "Link expired", "Ask for a new <link>."},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.page.Status)+" "+tt.wantTitle, func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderError(&buf, tt.page); err != nil {
				t.Fatalf("RenderError: %v", err)
			}
			p := parsePage(t, buf.String())
			if h1 := p.one(t, "h1"); h1.Text != tt.wantTitle {
				t.Errorf("h1 = %q, want %q", h1.Text, tt.wantTitle)
			}
			if title := p.title(t); !strings.HasPrefix(title, tt.wantTitle+" – ") {
				t.Errorf("title = %q, want it to start with %q", title, tt.wantTitle)
			}
			if text := pageText(p); !strings.Contains(text, tt.wantMessage) {
				t.Errorf("page text %q does not contain %q", text, tt.wantMessage)
			}
			if strings.Contains(buf.String(), "<link>") {
				t.Errorf("message not escaped")
			}
		})
	}
}

func TestLongDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-11-25", "Wednesday 25 November 2026"},
		{"2026-12-01", "Tuesday 1 December 2026"},
		{"2028-02-29", "Tuesday 29 February 2028"},
		{"2026-02-30", "2026-02-30"},
		{"soon", "soon"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := LongDate(tt.in); got != tt.want {
			t.Errorf("LongDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// failingWriter fails every write, to show a render error reaches the caller.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client went away") }

func TestRenderReportsWriteErrors(t *testing.T) {
	tests := map[string]func() error{
		"form":         func() error { return RenderForm(failingWriter{}, FormPage{}) },
		"confirmation": func() error { return RenderConfirmation(failingWriter{}, ConfirmationPage{}) },
		"error":        func() error { return RenderError(failingWriter{}, ErrorPage{Status: 404}) },
	}
	for name, render := range tests {
		if err := render(); err == nil || !strings.Contains(err.Error(), "client went away") {
			t.Errorf("%s: err = %v, want the write error", name, err)
		}
	}
}
