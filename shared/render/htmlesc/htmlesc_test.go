package htmlesc

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// TestMatchesHTMLTemplate holds Write, FilterURL and NormaliseURL to html/template's escaping in
// the same contexts (the test binary may link html/template; the Lambda functions must not).
// web's TestEscapingMatchesHTMLTemplate and email's TestEscaping hold their writers to it too.
func TestMatchesHTMLTemplate(t *testing.T) {
	tmpl := template.Must(template.New("t").Parse(
		`<p title="{{.S}}">{{.S}}</p><a href="{{.S}}">x</a><a href="{{.U}}">y</a>`))
	for _, s := range []string{
		"", "plain", "Zoë ✓", `<b>"x'&+"</b>`, "a\x00b", "\xff",
		"javascript:alert(1)", "JavaScript:x", "data:text/html,<b>", "mailto:a@b.org?s=<x>",
		"https://example.org/a b?q=1&r=\"2\"#f", "/a/b:c", "%41%zz%4", "()[]{}|\\^`",
	} {
		var want bytes.Buffer
		if err := tmpl.Execute(&want, struct {
			S string
			U template.URL
		}{s, template.URL(s)}); err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		got.WriteString(`<p title="`)
		Write(&got, s)
		got.WriteString(`">`)
		Write(&got, s)
		got.WriteString(`</p><a href="`)
		Write(&got, NormaliseURL(FilterURL(s)))
		got.WriteString(`">x</a><a href="`)
		Write(&got, NormaliseURL(s))
		got.WriteString(`">y</a>`)
		if got.String() != want.String() {
			t.Errorf("%q:\n got %s\nwant %s", s, got.String(), want.String())
		}
	}
}
