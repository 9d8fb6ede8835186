package email

import (
	"strconv"
	"strings"

	"github.com/ipspc/referrals/shared/render/htmlesc"
)

// writer builds one body of an email, plain text or HTML, from constant markup and values. The
// emails are plain Go, not templates: text/template's reflection made the linker keep every
// exported method of the binary (docs/decisions.md, "Emails without templates").
//
// In HTML every value is escaped exactly as html/template escaped it in the contexts the emails
// use (element text, <title>, quoted attributes, href URLs), so the emails read as they did
// byte for byte; in text values are written as they are (clean has already made them one line).
type writer struct {
	b    strings.Builder
	html bool
}

// href marks a value written into an href attribute: a URL, normalised and escaped.
type href string

// F writes format with each "%s" replaced by the next argument: a string (escaped in HTML), an
// href or an int. Formats are constants of this package; values never reach the format itself.
func (w *writer) F(format string, args ...any) {
	for i := 0; ; i++ {
		before, after, found := strings.Cut(format, "%s")
		w.b.WriteString(before)
		if !found {
			return
		}
		if i < len(args) {
			w.value(args[i])
		}
		format = after
	}
}

func (w *writer) value(a any) {
	switch v := a.(type) {
	case string:
		w.Text(v)
	case int:
		w.b.WriteString(strconv.Itoa(v))
	case href:
		if w.html {
			htmlesc.Write(&w.b, htmlesc.NormaliseURL(htmlesc.FilterURL(string(v))))
		} else {
			w.b.WriteString(string(v))
		}
	default:
		// A programming error the golden tests catch; never a value in the body.
		w.b.WriteString("%!(BADARG)")
	}
}

// Text writes a value: escaped in HTML, as it is in plain text.
func (w *writer) Text(s string) {
	if w.html {
		htmlesc.Write(&w.b, s)
	} else {
		w.b.WriteString(s)
	}
}

// Raw writes constant text or markup.
func (w *writer) Raw(s string) { w.b.WriteString(s) }

// compose lays out one body: the greeting, the kind's body and the footer, then tidies it.
func compose(html bool, subject, greeting string, body func(w *writer)) string {
	w := &writer{html: html}
	if !html {
		w.F("%s\n\n", greeting)
		body(w)
		w.Raw("\n\n---\nThis email was sent by IPSPC Referrals. Do not reply to this email.\n")
		return tidyText(w.b.String())
	}
	// Email clients drop <style> blocks and classes, so the little styling there is sits inline;
	// the layout is one column.
	w.F(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
</head>
<body>
<div style="max-width: 600px; margin: 0 auto; padding: 16px; font-family: Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #212b32;">
<p>%s</p>
`, subject, greeting)
	body(w)
	w.Raw(`
<hr>
<p>This email was sent by IPSPC Referrals. Do not reply to this email.</p>
</div>
</body>
</html>
`)
	return tidyHTML(w.b.String())
}

// details is the block naming the referral: reference, patient, area and, for a lead, the
// specialist.
func (w *writer) details(v view) {
	if !w.html {
		w.F("\n\nReference: %s\nPatient: %s\nArea: %s", v.ReferralID, v.Patient, v.Area)
		if v.Specialist != "" {
			w.F("\nSpecialist: %s", v.Specialist)
		}
		w.Raw("\n\n")
		return
	}
	w.F("\n<p>\n<strong>Reference:</strong> %s<br>\n<strong>Patient:</strong> %s<br>\n<strong>Area:</strong> %s",
		v.ReferralID, v.Patient, v.Area)
	if v.Specialist != "" {
		w.F("<br>\n<strong>Specialist:</strong> %s", v.Specialist)
	}
	w.Raw("\n</p>\n")
}

// P writes a paragraph: F's format and arguments.
func (w *writer) P(format string, args ...any) { w.block("<p>", "</p>\n", "", "\n\n", format, args...) }

// List starts a list with its introducing sentence; Item writes an item, EndList ends it.
func (w *writer) List(format string, args ...any) {
	w.block("<p>", "</p>\n<ul>\n", "", "\n", format, args...)
}

func (w *writer) Item(format string, args ...any) {
	w.block("<li>", "</li>\n", "- ", "\n", format, args...)
}

// block writes F's format and arguments between the HTML markup, or between the text prefix and
// suffix.
func (w *writer) block(htmlOpen, htmlClose, textOpen, textClose, format string, args ...any) {
	if w.html {
		textOpen, textClose = htmlOpen, htmlClose
	}
	w.Raw(textOpen)
	w.F(format, args...)
	w.Raw(textClose)
}

func (w *writer) EndList() {
	if w.html {
		w.Raw("</ul>\n")
	} else {
		w.Raw("\n")
	}
}

// deadlines lists the two deadlines of an assigned referral after intro.
func (w *writer) deadlines(intro string, v view, args ...any) {
	w.List(intro, args...)
	w.Item("contact %s by %s", v.Patient, v.ContactBy)
	w.Item("meet them by %s", v.MeetBy)
	w.EndList()
}

// open says how to open the referral with the recipient's link: in text, sentence and a colon
// then the link on its own line; in HTML, the sentence ending in end, then a button.
func (w *writer) open(sentence, end string, v view) {
	if w.html {
		w.Raw("<p>" + sentence + end + "</p>\n")
		w.button(v.Link, "Open referral %s", v.ReferralID)
		return
	}
	w.F(sentence+":\n%s\n\n", href(v.Link))
}

// button is the HTML link to the referral, styled as a button.
func (w *writer) button(link, label string, args ...any) {
	w.F(`<p><a href="%s" style="display: inline-block; padding: 12px 16px; background-color: #007f3b; color: #ffffff; font-weight: bold; text-decoration: none;">`, href(link))
	w.F(label, args...)
	w.Raw("</a></p>\n")
}
