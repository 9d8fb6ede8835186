package web

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/ipspc/referrals/shared/render/htmlesc"
)

// The pages are written by plain Go rather than html/template: text/template's reflection
// (MethodByName) makes the linker keep every exported method of every type converted to an
// interface, about 1.7 MB of each Lambda function (docs/decisions.md, "Pages without
// html/template"). Escaping is therefore explicit: constant markup goes through raw, every value
// through text (element content and quoted attribute values) or url (href and action), which
// escape exactly as html/template does in those contexts. TestEscapingMatchesHTMLTemplate and
// TestPagesEscapeHostileInput hold them to it.

// safeURL is a URL the code built from checked parts (a tel: link of "+44" and digits, a mailto:
// link of an escaped address): url lets it through unfiltered, as html/template did template.URL.
type safeURL string

// markup is a page being written. It collects the whole page before any of it reaches the
// client, so a failure never leaves half a page.
type markup struct{ bytes.Buffer }

// raw writes constant markup, never user input.
func (m *markup) raw(ss ...string) {
	for _, s := range ss {
		m.WriteString(s)
	}
}

// text writes a value as element content or a quoted attribute value.
func (m *markup) text(s string) { htmlesc.Write(m, s) }

// num writes a number as text.
func (m *markup) num(n int) { m.WriteString(strconv.Itoa(n)) }

// url writes a value that is a whole href or action attribute: filtered (a javascript: link
// becomes "#ZgotmplZ"), normalised and escaped, as html/template does.
func (m *markup) url(s string) { m.safeURL(safeURL(htmlesc.FilterURL(s))) }

// safeURL writes a URL the code built itself: normalised and escaped, not filtered.
func (m *markup) safeURL(u safeURL) { m.text(htmlesc.NormaliseURL(string(u))) }

// layout is what every page gives the layout.
type layout struct {
	Title     string // the <title>, without the service name
	HasErrors bool   // prefixes the title with "Error: "
}

// writePage writes a whole page (the layout around content) to w. name names the page in errors.
func writePage(w io.Writer, name string, l layout, content func(*markup)) error {
	var m markup
	m.raw(layoutTop)
	if l.HasErrors {
		m.raw("Error: ")
	}
	m.text(l.Title)
	m.raw(layoutMiddle)
	content(&m)
	m.raw(layoutBottom)
	if _, err := m.WriteTo(w); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

const layoutTop = `<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>`

const layoutMiddle = ` – Refer for employment support – NHS</title>
  <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
  <meta name="theme-color" content="#005eb8">
  <meta name="robots" content="noindex, nofollow">
  <link rel="icon" href="/assets/images/favicon.ico" sizes="48x48">
  <link rel="icon" href="/assets/images/favicon.svg" sizes="any" type="image/svg+xml">
  <link rel="mask-icon" href="/assets/images/nhsuk-icon-mask.svg" color="#005eb8">
  <link rel="apple-touch-icon" href="/assets/images/nhsuk-icon-180.png">
  <link rel="manifest" href="/assets/manifest.json">
  <link rel="stylesheet" href="/assets/nhsuk-frontend.min.css">
  <script type="module" src="/assets/init.js"></script>
</head>
<body>
  <a class="nhsuk-skip-link" data-module="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
  <header class="nhsuk-header" data-module="nhsuk-header" role="banner">
    <div class="nhsuk-header__container nhsuk-width-container">
      <div class="nhsuk-header__service">
        <a class="nhsuk-header__service-logo" href="/" aria-label="NHS Refer for employment support homepage">
          <svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS">
            <title>NHS</title>
            <path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"/>
          </svg>
          <span class="nhsuk-header__service-name">Refer for employment support</span>
        </a>
      </div>
    </div>
  </header>
  <div class="nhsuk-width-container">
    <main class="nhsuk-main-wrapper" id="maincontent">
      <div class="nhsuk-grid-row">
        <div class="nhsuk-grid-column-two-thirds">
`

const layoutBottom = `
        </div>
      </div>
    </main>
  </div>
  <footer class="nhsuk-footer" role="contentinfo">
    <div class="nhsuk-width-container">
      <div class="nhsuk-footer__meta">
        <p class="nhsuk-body-s">Individual Placement and Support in Primary Care (IPSPC): employment support for people with a health condition, for GPs and primary care clinicians in England.</p>
      </div>
    </div>
  </footer>
</body>
</html>`

// NHS.UK frontend 10.6.1 components, written out from their Nunjucks templates (template.njk of
// each component in node_modules/nhsuk-frontend/dist/nhsuk/components). Each one starts on a new
// line and ends with one, as the page's markup expects.

// with writes s between before and after, escaped, when s is not empty.
func (m *markup) with(before, s, after string) {
	if s != "" {
		m.wrap(before, s, after)
	}
}

// when writes s when cond holds.
func (m *markup) when(cond bool, s string) {
	if cond {
		m.raw(s)
	}
}

func (m *markup) errorSummary(items []summaryItem) {
	if len(items) > 0 {
		m.raw(`
<div class="nhsuk-error-summary" data-module="nhsuk-error-summary" tabindex="-1" autofocus>
  <div role="alert">
    <h2 class="nhsuk-error-summary__heading">There is a problem</h2>
    <div class="nhsuk-error-summary__body">
      <ul class="nhsuk-list nhsuk-error-summary__list">`)
		for _, it := range items {
			m.raw("\n        <li>")
			if it.Href != "" {
				m.raw(`<a href="`)
				m.url(it.Href)
				m.wrap(`">`, it.Text, `</a>`)
			} else {
				m.text(it.Text)
			}
			m.raw("</li>")
		}
		m.raw(`
      </ul>
    </div>
  </div>
</div>`)
	}
	m.raw("\n")
}

func (m *markup) errorMessage(id, msg string) {
	if msg != "" {
		m.wrap("\n  <span class=\"nhsuk-error-message\" id=\"", id, "-error\">\n    <span class=\"nhsuk-u-visually-hidden\">Error: </span>")
		m.wrap("", msg, "\n  </span>")
	}
	m.raw("\n")
}

func (m *markup) hint(id, hint string) {
	if hint != "" {
		m.wrap("\n  <div class=\"nhsuk-hint\" id=\"", id, `-hint">`)
		m.wrap("", hint, "</div>")
	}
	m.raw("\n")
}

// formGroup opens an NHS.UK form group, marked as in error when it is.
func (m *markup) formGroup(hasError bool, extra string) {
	m.raw("\n<div class=\"nhsuk-form-group")
	m.when(hasError, " nhsuk-form-group--error")
	m.raw(extra)
}

func (m *markup) input(t textInput) {
	m.formGroup(t.Error != "", "\">\n  <label class=\"nhsuk-label\" for=\"")
	m.wrap("", t.ID, `">`)
	m.wrap("", t.Label, "</label>")
	m.hint(t.ID, t.Hint)
	m.errorMessage(t.ID, t.Error)
	m.raw("\n  <input class=\"nhsuk-input")
	m.with(" ", t.Width, "")
	m.when(t.Error != "", " nhsuk-input--error")
	m.wrap(`" id="`, t.ID, `" name="`)
	m.wrap("", t.Name, `" type="`)
	m.wrap("", t.Type, `" value="`)
	m.wrap("", t.Value, `"`)
	m.with(` autocomplete="`, t.Autocomplete, `"`)
	m.with(` inputmode="`, t.InputMode, `"`)
	m.when(t.NoSpellcheck, ` spellcheck="false"`)
	m.with(` aria-describedby="`, t.DescribedBy(), `"`)
	m.raw(">\n</div>\n")
}

func (m *markup) characterCount(t textInput) {
	m.formGroup(t.Error != "", ` nhsuk-character-count" data-module="nhsuk-character-count" data-maxlength="`)
	m.num(t.MaxLength)
	m.wrap("\">\n  <h2 class=\"nhsuk-label-wrapper\">\n    <label class=\"nhsuk-label nhsuk-label--m\" for=\"", t.ID, `">`)
	m.wrap("", t.Label, "</label>\n  </h2>")
	m.hint(t.ID, t.Hint)
	m.errorMessage(t.ID, t.Error)
	m.raw("\n  <textarea class=\"nhsuk-textarea")
	m.when(t.Error != "", " nhsuk-textarea--error")
	m.wrap(` nhsuk-js-character-count" id="`, t.ID, `" name="`)
	m.wrap("", t.Name, `" rows="`)
	m.num(t.Rows)
	m.wrap(`" aria-describedby="`, t.DescribedBy(), `">`)
	m.wrap("", t.Value, "</textarea>\n  <div class=\"nhsuk-hint nhsuk-character-count__message\" id=\"")
	m.wrap("", t.ID, `-info">You can enter up to `)
	m.num(t.MaxLength)
	m.raw(" characters</div>\n</div>\n")
}

func (m *markup) choices(g choiceGroup) {
	m.formGroup(g.Error != "", "\">\n  <fieldset class=\"nhsuk-fieldset\"")
	m.with(` aria-describedby="`, g.DescribedBy(), `"`)
	m.raw(">")
	if g.Heading {
		m.wrap("\n    <legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--m\">\n      <h2 class=\"nhsuk-fieldset__heading\">", g.Legend, "</h2>\n    </legend>")
	} else {
		m.wrap("\n    <legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--s\">", g.Legend, "</legend>")
	}
	m.hint(g.ID, g.Hint)
	m.errorMessage(g.ID, g.Error)
	m.wrap("\n    <div class=\"nhsuk-", g.Kind, `" data-module="nhsuk-`)
	m.wrap("", g.Kind, `">`)
	for _, c := range g.Items {
		m.wrap("\n      <div class=\"nhsuk-", g.Kind, "__item\">\n        <input class=\"nhsuk-")
		m.wrap("", g.Kind, `__input" id="`)
		m.wrap("", c.ID, `" name="`)
		m.wrap("", g.Name, `" type="`)
		m.wrap("", g.InputType(), `" value="`)
		m.wrap("", c.Value, `"`)
		m.when(c.Checked, " checked")
		if c.Hint != "" {
			m.wrap(` aria-describedby="`, c.ID, `-item-hint"`)
		}
		m.wrap(">\n        <label class=\"nhsuk-label nhsuk-", g.Kind, `__label" for="`)
		m.wrap("", c.ID, `">`)
		m.wrap("", c.Label, "</label>")
		if c.Hint != "" {
			m.wrap("\n        <div class=\"nhsuk-hint nhsuk-", g.Kind, `__hint" id="`)
			m.wrap("", c.ID, `-item-hint">`)
			m.wrap("", c.Hint, "</div>")
		}
		m.raw("\n      </div>")
	}
	m.raw("\n    </div>\n  </fieldset>\n</div>\n")
}

// dateInput is the NHS.UK date input: day, month and year posted as ID-day, ID-month, ID-year.
func (m *markup) dateInput(d dateInput) {
	m.formGroup(d.Error != "", "\">\n  <fieldset class=\"nhsuk-fieldset\" role=\"group\" aria-describedby=\"")
	m.wrap("", d.DescribedBy(), "\">\n    <legend class=\"nhsuk-fieldset__legend nhsuk-fieldset__legend--s\">")
	m.wrap("", d.Legend, "</legend>\n    <div class=\"nhsuk-hint\" id=\"")
	m.wrap("", d.ID, `-hint">`)
	m.wrap("", d.Hint, "</div>")
	m.errorMessage(d.ID, d.Error)
	m.wrap("\n    <div class=\"nhsuk-date-input\" id=\"", d.ID, `">`)
	for _, p := range d.Parts() {
		m.raw("\n      <div class=\"nhsuk-date-input__item\">\n        <div class=\"nhsuk-form-group")
		m.when(d.Error != "", " nhsuk-form-group--error")
		m.wrap("\">\n          <label class=\"nhsuk-label nhsuk-date-input__label\" for=\"", d.ID, "-")
		m.wrap("", p.Name, `">`)
		m.wrap("", p.Label, "</label>\n          <input class=\"nhsuk-input")
		m.when(d.Error != "", " nhsuk-input--error")
		m.raw(" nhsuk-input--width-")
		m.num(p.Width)
		m.wrap(` nhsuk-date-input__input" id="`, d.ID, "-")
		m.wrap("", p.Name, `" name="`)
		m.wrap("", d.ID, "-")
		m.wrap("", p.Name, `" type="text" inputmode="numeric" value="`)
		m.wrap("", p.Value, "\">\n        </div>\n      </div>")
	}
	m.raw("\n    </div>\n  </fieldset>\n</div>\n")
}

// referencePanel is the green confirmation panel: a heading over the referral's reference.
func (m *markup) referencePanel(heading, reference string) {
	m.wrap("\n          <div class=\"nhsuk-panel\">\n            <h1 class=\"nhsuk-panel__heading\">", heading, "</h1>\n            <div class=\"nhsuk-panel__body\">\n              Referral<br><strong>")
	m.wrap("", reference, "</strong>\n            </div>\n          </div>")
}

func (m *markup) summaryRows(rows []summaryRow) {
	m.raw("\n          <dl class=\"nhsuk-summary-list\">")
	for _, r := range rows {
		m.wrap("\n            <div class=\"nhsuk-summary-list__row\">\n              <dt class=\"nhsuk-summary-list__key\">", r.Key, "</dt>\n              <dd class=\"nhsuk-summary-list__value\">")
		switch {
		case len(r.List) > 0:
			m.raw("\n                <ul class=\"nhsuk-list nhsuk-list--bullet\">")
			for _, item := range r.List {
				m.wrap("\n                  <li>", item, "</li>")
			}
			m.raw("\n                </ul>")
		case len(r.Lines) > 0:
			for i, line := range r.Lines {
				m.when(i > 0, "<br>")
				m.text(line)
			}
		case r.Href != "":
			m.raw(`<a href="`)
			m.safeURL(r.Href)
			m.wrap(`">`, r.Value, "</a>")
		default:
			m.text(r.Value)
		}
		m.raw("</dd>\n            </div>")
	}
	m.raw("\n          </dl>\n")
}

func (m *markup) historyTable(h historyTable) {
	headers := []string{"When", "What happened"}
	if h.WithWho {
		headers = append(headers, "By")
	}
	m.tableStart("nhsuk-u-visually-hidden", "What has happened to this referral, oldest first", false, headers...)
	for _, r := range h.Rows {
		m.rowStart()
		m.cell(r.When)
		m.cell(r.What)
		if h.WithWho {
			m.cell(r.Who)
		}
		m.rowEnd()
	}
	m.tableEnd()
	m.raw("\n")
}

// tableStart opens an NHS.UK table with its caption and column headers, up to its body; the last
// column is numeric (right-aligned) when numericLast.
func (m *markup) tableStart(captionClass, caption string, numericLast bool, headers ...string) {
	m.raw("\n          <table class=\"nhsuk-table\">\n            <caption class=\"nhsuk-table__caption ", captionClass, "\">", caption,
		"</caption>\n            <thead class=\"nhsuk-table__head\">")
	m.rowStart()
	for i, h := range headers {
		class := "nhsuk-table__header"
		if numericLast && i == len(headers)-1 {
			class += " nhsuk-table__header--numeric"
		}
		m.raw(cellIndent, `<th class="`, class, `" scope="col">`, h, "</th>")
	}
	m.rowEnd()
	m.raw("\n            </thead>\n            <tbody class=\"nhsuk-table__body\">")
}

func (m *markup) tableEnd() { m.raw("\n            </tbody>\n          </table>") }

// Table rows and cells, indented as the pages' tables are.
const rowIndent, cellIndent = "\n              ", "\n                "

func (m *markup) rowStart() { m.raw(rowIndent, `<tr class="nhsuk-table__row">`) }
func (m *markup) rowEnd()   { m.raw(rowIndent, "</tr>") }

func (m *markup) cell(s string) { m.wrap(cellIndent+`<td class="nhsuk-table__cell">`, s, "</td>") }

func (m *markup) numCell(n int) {
	m.raw(cellIndent, `<td class="nhsuk-table__cell nhsuk-table__cell--numeric">`)
	m.num(n)
	m.raw("</td>")
}

// paragraphs writes each line as a paragraph.
func (m *markup) paragraphs(lines []string) {
	for _, l := range lines {
		m.wrap("\n          <p>", l, "</p>")
	}
}

// tokenForm opens a form (method "post" or "get") to action carrying the link's token.
func (m *markup) tokenForm(method, action, token string) {
	m.raw("\n          <form method=\"", method, "\" action=\"")
	m.url(action)
	m.wrap("\" novalidate>\n            <input type=\"hidden\" name=\"token\" value=\"", token, `">`)
}

// Buttons' classes: the main action, a secondary one, and one that ends something.
const (
	buttonPrimary   = "nhsuk-button"
	buttonSecondary = "nhsuk-button nhsuk-button--secondary"
	buttonWarning   = "nhsuk-button nhsuk-button--warning"
)

// button writes a form's submit button and closes the form.
func (m *markup) button(class, label string) {
	m.raw("\n            <button class=\"", class, "\" data-module=\"nhsuk-button\" data-prevent-double-click=\"true\" type=\"submit\">", label, "</button>\n          </form>")
}

// wrap writes s, escaped, between before and after (constant markup).
func (m *markup) wrap(before, s, after string) {
	m.raw(before)
	m.text(s)
	m.raw(after)
}
