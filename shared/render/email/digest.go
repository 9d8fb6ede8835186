package email

import (
	"fmt"
	"strings"
)

// Digest is the weekly digest to an area lead (LeadDigest: not one of Kinds, so it has its own
// message type and RenderDigest): counts only, and the lead's own worklist link.
type Digest struct {
	To               []string // the lead
	RecipientName    string
	AreaName         string
	Waitlisted       int
	OldestWaitDays   int
	Overdue          int
	ReceivedLastWeek int
	Bouncing         int // specialists whose address is bouncing
	// Link is the lead's signed worklist link: a credential, for the lead alone.
	Link string
}

type digestView struct {
	Subject, Greeting, Area, Link                                   string
	Waitlisted, OldestWaitDays, Overdue, ReceivedLastWeek, Bouncing int
}

// RenderDigest checks d and renders its subject, text and HTML. Errors wrap ErrInvalidMessage.
func RenderDigest(d Digest) (Rendered, error) {
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(d.To) == 0 {
		problem("To is required")
	}
	if len(d.To) > maxRecipients {
		problem("more than %d recipients", maxRecipients)
	}
	checkAddresses("To", d.To, problem)
	v := digestView{Greeting: "Hello,", Area: clean(d.AreaName), Link: d.Link, Waitlisted: d.Waitlisted,
		OldestWaitDays: d.OldestWaitDays, Overdue: d.Overdue, ReceivedLastWeek: d.ReceivedLastWeek, Bouncing: d.Bouncing}
	if name := clean(d.RecipientName); name != "" {
		v.Greeting = "Dear " + name + ","
	}
	if v.Area == "" {
		problem("AreaName is required")
	}
	if !validLink(d.Link) {
		problem("Link must be an absolute http(s) URL")
	}
	if min(d.Waitlisted, d.OldestWaitDays, d.Overdue, d.ReceivedLastWeek, d.Bouncing) < 0 {
		problem("counts must not be negative")
	}
	if len(problems) > 0 {
		return Rendered{}, fmt.Errorf("%w: %s: %s", ErrInvalidMessage, LeadDigest, strings.Join(problems, "; "))
	}
	v.Subject = digestSubject(v)
	body := func(w *writer) { digestBody(w, v) }
	return Rendered{Subject: v.Subject, Text: compose(false, v.Subject, v.Greeting, body),
		HTML: compose(true, v.Subject, v.Greeting, body)}, nil
}
