package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// element is one start tag of a parsed page, with its attributes and the text directly inside it.
type element struct {
	Tag    string
	Attrs  map[string]string
	Text   string // the element's own text, trimmed (not its children's)
	Index  int    // index in page.Elements
	Parent int    // index in page.Elements of the enclosing element, -1 at the top
}

func (e element) has(attr string) bool { _, ok := e.Attrs[attr]; return ok }

// classes reports whether the element's class attribute holds every one of classes.
func (e element) classes(classes ...string) bool {
	have := strings.Fields(e.Attrs["class"])
	for _, c := range classes {
		found := false
		for _, h := range have {
			found = found || h == c
		}
		if !found {
			return false
		}
	}
	return true
}

// page is a rendered page: its source and its elements in document order.
type page struct {
	HTML     string
	Elements []element
}

// parsePage reads HTML with encoding/xml in its lenient HTML mode (the standard library has no HTML
// parser): void elements close themselves, entities are decoded, bare attributes are allowed.
// It fails the test on anything the decoder cannot read, such as a stray '<' a template let through.
func parsePage(tb testing.TB, src string) page {
	tb.Helper()
	d := xml.NewDecoder(strings.NewReader(src))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	p := page{HTML: src}
	var open []int // indexes into p.Elements of the elements not yet closed
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatalf("parse page: %v\n%s", err, src)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			e := element{Tag: strings.ToLower(t.Name.Local), Attrs: map[string]string{}, Index: len(p.Elements), Parent: -1}
			if len(open) > 0 {
				e.Parent = open[len(open)-1]
			}
			for _, a := range t.Attr {
				name := a.Name.Local
				if a.Name.Space != "" {
					name = a.Name.Space + ":" + name
				}
				e.Attrs[strings.ToLower(name)] = a.Value
			}
			p.Elements = append(p.Elements, e)
			open = append(open, len(p.Elements)-1)
		case xml.EndElement:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case xml.CharData:
			if len(open) > 0 {
				i := open[len(open)-1]
				p.Elements[i].Text = strings.TrimSpace(p.Elements[i].Text + " " + strings.TrimSpace(string(t)))
			}
		}
	}
	return p
}

// find returns the elements with this tag (any tag if "") whose attributes include every pair of
// attrs ("name", "patient.givenName", ...).
func (p page) find(tag string, attrs ...string) []element {
	var out []element
	for _, e := range p.Elements {
		if tag != "" && e.Tag != tag {
			continue
		}
		match := true
		for i := 0; i+1 < len(attrs); i += 2 {
			if v, ok := e.Attrs[attrs[i]]; !ok || v != attrs[i+1] {
				match = false
				break
			}
		}
		if match {
			out = append(out, e)
		}
	}
	return out
}

// ancestors returns the elements enclosing e, innermost first.
func (p page) ancestors(e element) []element {
	var out []element
	for i := e.Parent; i >= 0; i = p.Elements[i].Parent {
		out = append(out, p.Elements[i])
	}
	return out
}

// children returns the elements directly inside e.
func (p page) children(e element) []element {
	var out []element
	for _, c := range p.Elements[e.Index+1:] {
		if c.Parent == e.Index {
			out = append(out, c)
		}
	}
	return out
}

// inside reports whether e is within an element with all of these classes.
func (p page) inside(e element, classes ...string) bool {
	for _, a := range p.ancestors(e) {
		if a.classes(classes...) {
			return true
		}
	}
	return false
}

// one returns the only element matching tag and attrs, failing the test otherwise.
func (p page) one(tb testing.TB, tag string, attrs ...string) element {
	tb.Helper()
	found := p.find(tag, attrs...)
	if len(found) != 1 {
		tb.Fatalf("found %d <%s> with %q, want 1", len(found), tag, attrs)
	}
	return found[0]
}

// title returns the text of the page's <title> (not an SVG's).
func (p page) title(tb testing.TB) string {
	tb.Helper()
	var titles []string
	for _, e := range p.find("title") {
		if e.Parent >= 0 && p.Elements[e.Parent].Tag == "head" {
			titles = append(titles, e.Text)
		}
	}
	if len(titles) != 1 {
		tb.Fatalf("page has %d titles in <head>, want 1", len(titles))
	}
	return titles[0]
}

// byID returns the element with this id, failing the test if there is none.
func (p page) byID(tb testing.TB, id string) element {
	tb.Helper()
	return p.one(tb, "", "id", id)
}

// renderForm renders the form and parses it.
func renderForm(tb testing.TB, fp FormPage) page {
	tb.Helper()
	var buf bytes.Buffer
	if err := RenderForm(&buf, fp); err != nil {
		tb.Fatalf("RenderForm: %v", err)
	}
	return parsePage(tb, buf.String())
}

func TestParsePageCanFail(t *testing.T) {
	// The checks below rely on parsePage; make sure it sees what it should.
	p := parsePage(t, `<div><p id="a" class="x y">Hello <b id="c">you</b></p><input id="b" checked></div>`)
	if got := p.byID(t, "a"); got.Text != "Hello" || !got.classes("x", "y") || got.classes("z") {
		t.Errorf("p = %+v", got)
	}
	if got := p.byID(t, "b"); !got.has("checked") || got.has("disabled") {
		t.Errorf("input = %+v", got)
	}
	if !p.inside(p.byID(t, "c"), "x") {
		t.Errorf("b is inside p")
	}
	if p.inside(p.byID(t, "b"), "x") {
		t.Errorf("input is not inside p")
	}
	if n := len(p.find("input", "id", "missing")); n != 0 {
		t.Errorf("find missing = %d", n)
	}
}
