// Package email holds the service's emails (SPEC §7): what each kind says, rendered by plain Go
// code (bodies.go) to a subject, a plain-text body and an HTML body, and Outbox, which renders each
// message before handing it to a sender (the SES adapter), so the sender never renders.
//
// Emails carry the least patient data that works. Message, the only input, has no field for an
// NHS number, date of birth, health conditions, notes, phone number or email address, so none can
// reach an email; subjects carry only the reference and a deadline. Names and area names are
// cleaned of control characters (so nothing typed can start a new line or a header) and escaped in
// HTML exactly as html/template did (writer.go); recipient addresses must be bare addresses.
package email

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ipspc/referrals/shared/domain/notification"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// The vocabulary of emails lives in the domain (notification), shared with the store that
// records them and the adapter that sends them; these names keep the renderer's callers short.
type (
	Kind     = notification.Kind
	Audience = notification.Audience
)

const (
	Assignment         = notification.Assignment
	Acknowledgement    = notification.Acknowledgement
	Waitlisted         = notification.Waitlisted
	ContactReminder    = notification.ContactReminder
	MeetingReminder    = notification.MeetingReminder
	ContactOverdue     = notification.ContactOverdue
	MeetingOverdue     = notification.MeetingOverdue
	StartedSupport     = notification.StartedSupport
	Closed             = notification.Closed
	Withdrawn          = notification.Withdrawn
	OutcomeCheck       = notification.OutcomeCheck
	BouncingCopy       = notification.BouncingCopy
	LeadDigest         = notification.LeadDigest
	AudienceReferrer   = notification.AudienceReferrer
	AudienceSpecialist = notification.AudienceSpecialist
	AudienceLead       = notification.AudienceLead
)

// Kinds lists every kind about a referral.
var Kinds = notification.Kinds

// CloseReasons says each close reason (SPEC §9) in plain words, as the referrer reads it after
// "Support has ended because".
var closeReasons = map[string]string{
	"engaged-elsewhere": "they are getting employment support elsewhere",
	"declined":          "they decided not to take up the support",
	"unreachable":       "the employment specialist could not reach them",
	"moved-away":        "they have moved away from the area",
	"job-started":       "they have started work and no longer need support",
	"support-complete":  "their support is complete",
	"other":             "of a reason the employment specialist recorded",
}

// withdrawReasons says each withdraw reason in plain words, after "It was withdrawn because".
var withdrawReasons = map[string]string{
	"revoked":          "circumstances changed",
	"entered-in-error": "it was sent in error",
}

// copied says, for each kind a BouncingCopy may copy, what the specialist's email was about, after
// "about referral R-… in Area:".
var copied = map[Kind]string{
	Assignment:      "it was assigned to them",
	ContactReminder: "a reminder that contact is due",
	MeetingReminder: "a reminder that the first meeting is due",
	Withdrawn:       "it was withdrawn, so they must not contact the person",
}

// Acknowledgement statuses.
const (
	StatusAssigned   = "assigned"
	StatusWaitlisted = "waitlisted"
)

// Message is everything an email may say. It deliberately has no field for the NHS number, date
// of birth, health conditions, notes, phone number or the patient's email address: they cannot
// leak into an email.
type Message struct {
	Kind Kind
	To   []string // bare addresses ("name@example.org"), no display names
	Cc   []string // the area lead, on overdue kinds only
	// RecipientName greets the person in To ("Dear Alex Morgan,"); "Hello," when empty.
	RecipientName    string
	ReferralID       string // the reference, e.g. "R-7K3M9QX2"
	PatientGivenName string
	PatientInitial   string // the first letter of the family name: one letter
	AreaName         string // e.g. "South Yorkshire"
	PreferredContact string // "phone" or "email"
	// ContactBy and MeetBy are the deadlines; zero when not applicable (a waitlisted
	// acknowledgement has none yet).
	ContactBy, MeetBy calendar.Date
	// Link is the recipient's own signed link: the specialist's to the referral's page, the
	// referrer's to its status page (acknowledgement), the lead's to the area's worklist
	// (waitlisted). It is a bearer credential, so it is refused on an email with a Cc (the lead
	// would get the specialist's access) and on emails whose recipient holds no link.
	Link string
	// ReReferral flags, on an assignment, that the patient already has an open referral with
	// this specialist.
	ReReferral bool
	// Status is the outcome an acknowledgement reports: StatusAssigned or StatusWaitlisted.
	Status string
	// SpecialistName says who the referral is with, for the lead copied into an overdue email.
	SpecialistName string
	// Attempts is how many contact attempts were recorded, for overdue emails.
	Attempts int
	// Reason is a close reason (closed) or a withdraw reason (withdrawn), as its code.
	Reason string
	// Audience says who a withdrawn email is for: the specialist or the referrer.
	Audience Audience
	// CopyOf is the kind of the specialist's email a BouncingCopy copies.
	CopyOf Kind
	// JobStart is the first job start's date, on an outcome check.
	JobStart calendar.Date
}

// PatientName returns the patient as emails name them: given name and family-name initial,
// "Sam T.", cleaned of control characters. A given name already reduced to its initial (a
// referral entered in error keeps no more) reads "S.".
func (m Message) PatientName() string {
	given := clean(m.PatientGivenName)
	initial := strings.ToUpper(clean(m.PatientInitial))
	switch {
	case initial == "" && utf8.RuneCountInString(given) == 1 && unicode.IsLetter([]rune(given)[0]):
		return strings.ToUpper(given) + "."
	case initial == "":
		return given
	case given == "":
		return initial + "."
	}
	return given + " " + initial + "."
}

// Rendered is an email ready to send.
type Rendered struct {
	Subject, Text, HTML string
}

// ErrInvalidMessage is wrapped by every error Render returns: the message can never be sent as
// it is, so retrying will not help. Its text names fields, never their values.
var ErrInvalidMessage = errors.New("email: invalid message")

// rules says, for one kind, which fields must be set and which must not.
type rules struct {
	patient   bool // given name and initial
	area      bool
	contact   bool // preferred contact method
	contactBy bool
	meetBy    bool
	link      bool // required; when false, refused
	// worklist: the link must be the lead's worklist link, never a referral page's (that is a
	// specialist's or a referrer's access).
	worklist bool
	cc       bool // required; when false, refused
	status   bool
	// lenient: the patient may be reduced to an initial or nothing (a referral entered in error),
	// and the email still goes; the name then reads "S." or "the person referred".
	lenient  bool
	reason   map[string]string // the reasons allowed, in plain words; nil: refused
	audience bool              // required: AudienceSpecialist or AudienceReferrer
	attempts bool              // the count of contact attempts is shown
	copy     bool              // CopyOf is required: one of copied
	jobStart bool              // JobStart is required; when false, refused
}

var kindRules = map[Kind]rules{
	Assignment:      {patient: true, area: true, contact: true, contactBy: true, meetBy: true, link: true},
	Acknowledgement: {patient: true, area: true, status: true, link: true}, // deadlines when assigned: see check
	Waitlisted:      {patient: true, area: true, link: true, worklist: true},
	ContactReminder: {patient: true, area: true, contact: true, contactBy: true, link: true},
	MeetingReminder: {patient: true, area: true, meetBy: true, link: true},
	ContactOverdue:  {patient: true, area: true, contact: true, contactBy: true, cc: true, attempts: true},
	MeetingOverdue:  {patient: true, area: true, meetBy: true, cc: true, attempts: true},
	StartedSupport:  {lenient: true, area: true},
	Closed:          {lenient: true, area: true, reason: closeReasons},
	Withdrawn:       {lenient: true, area: true, reason: withdrawReasons, audience: true},
	// Asks for the IPSPC job outcome: no deadline, no contact method, the specialist's link.
	OutcomeCheck: {patient: true, area: true, link: true, jobStart: true},
	// The lead's copy: the specialist's name and the lead's own worklist link, never theirs.
	BouncingCopy: {lenient: true, area: true, link: true, worklist: true, copy: true},
}

const (
	maxRecipients = 50 // SES's limit per message
	maxLinkLen    = 2048
)

// The patterns compile at first use, not at init: this package is linked into functions that
// never send email (through the DynamoDB adapter), and init time is cold-start time.
var referralIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9-]{1,32}$`) })

// view is what the bodies say: every value already cleaned and formatted.
type view struct {
	Subject                     string
	Greeting                    string
	ReferralID                  string
	Patient                     string
	Area                        string
	Contact                     string // "by phone" / "by email"
	ContactBy, MeetBy           string // "Wednesday 25 November 2026"
	ContactByShort, MeetByShort string // "Wednesday 25 November", for subjects
	Link                        string
	ReReferral                  bool
	Waitlisted                  bool
	Specialist                  string
	Attempts                    string // "No contact attempts have been recorded."
	Reason                      string // in plain words
	ReasonCode                  string
	ForSpecialist               bool   // a withdrawn email to the specialist
	CopyOf                      string // what a bouncing copy's original was about
	JobStart                    string // "Monday 2 March 2026": the first job start
}

// Render checks m and renders its subject, text and HTML. It returns an error wrapping
// ErrInvalidMessage for an unknown kind, a missing or malformed field the kind needs, or a field
// the kind must not carry (a link on an email with a Cc, for instance).
func Render(m Message) (Rendered, error) {
	v, err := check(m)
	if err != nil {
		return Rendered{}, err
	}
	c := contents[m.Kind]
	// Nothing user-typed reaches a subject but names, cleaned; check what is sent, not what was meant.
	v.Subject = strings.TrimSpace(c.subject(v))
	if v.Subject == "" || strings.ContainsFunc(v.Subject, unsafeRune) {
		return Rendered{}, fmt.Errorf("%w: %s subject is empty or has control characters", ErrInvalidMessage, m.Kind)
	}
	body := func(w *writer) { c.body(w, v) }
	return Rendered{Subject: v.Subject, Text: compose(false, v.Subject, v.Greeting, body),
		HTML: compose(true, v.Subject, v.Greeting, body)}, nil
}

// check validates m against its kind's rules and returns the view the bodies render.
func check(m Message) (view, error) {
	r, ok := kindRules[m.Kind]
	if !ok {
		return view{}, fmt.Errorf("%w: unknown kind %q", ErrInvalidMessage, m.Kind)
	}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if len(m.To) == 0 {
		problem("To is required")
	}
	checkAddresses("To", m.To, problem)
	checkAddresses("Cc", m.Cc, problem)
	switch {
	case r.cc && len(m.Cc) == 0:
		problem("Cc (the area lead) is required")
	case !r.cc && len(m.Cc) > 0:
		problem("Cc is only for overdue emails")
	}
	if len(m.To)+len(m.Cc) > maxRecipients {
		problem("more than %d recipients", maxRecipients)
	}
	if !referralIDPattern().MatchString(m.ReferralID) {
		problem("ReferralID is required: 1 to 32 letters, digits and hyphens")
	}

	v := view{
		Greeting:   "Hello,",
		ReferralID: m.ReferralID,
		Patient:    m.PatientName(),
		Area:       clean(m.AreaName),
		ReReferral: m.ReReferral && m.Kind == Assignment,
	}
	if r.cc || r.copy { // only the lead (copied, or sent a copy) needs telling whose referral it is
		v.Specialist = clean(m.SpecialistName)
	}
	switch about, ok := copied[m.CopyOf]; {
	case r.copy && !ok:
		problem("CopyOf must be a kind sent to the specialist")
	case r.copy && v.Specialist == "":
		problem("SpecialistName is required")
	case r.copy:
		v.CopyOf = about
	case m.CopyOf != "":
		problem("CopyOf is only for bouncing copies")
	}
	if name := clean(m.RecipientName); name != "" {
		v.Greeting = "Dear " + name + ","
	}
	if r.patient {
		if clean(m.PatientGivenName) == "" {
			problem("PatientGivenName is required")
		}
		if initial := []rune(clean(m.PatientInitial)); len(initial) != 1 || !unicode.IsLetter(initial[0]) {
			problem("PatientInitial must be one letter")
		}
	}
	if r.lenient && v.Patient == "" {
		v.Patient = "the person referred"
	}
	if r.attempts {
		switch {
		case m.Attempts < 0:
			problem("Attempts must not be negative")
		case m.Attempts == 0:
			v.Attempts = "No contact attempts have been recorded."
		case m.Attempts == 1:
			v.Attempts = "1 contact attempt has been recorded."
		default:
			v.Attempts = fmt.Sprintf("%d contact attempts have been recorded.", m.Attempts)
		}
	}
	switch words, ok := r.reason[m.Reason]; {
	case r.reason != nil && !ok:
		problem("Reason must be one of the kind's reasons")
	case r.reason == nil && m.Reason != "":
		problem("Reason is only for closed and withdrawn emails")
	default:
		v.Reason, v.ReasonCode = words, m.Reason
	}
	switch {
	case r.audience && m.Audience == AudienceSpecialist:
		v.ForSpecialist = true
	case r.audience && m.Audience != AudienceReferrer:
		problem(`Audience must be "specialist" or "referrer"`)
	case !r.audience && m.Audience != "":
		problem("Audience is only for withdrawn emails")
	}
	if r.area && v.Area == "" {
		problem("AreaName is required")
	}
	switch m.PreferredContact {
	case "phone", "email":
		if r.lenient {
			// A do-not-contact email must not say how to contact them.
			problem("PreferredContact is not for this kind")
		}
		v.Contact = "by " + m.PreferredContact
	case "":
		if r.contact {
			problem("PreferredContact is required")
		}
	default:
		problem(`PreferredContact must be "phone" or "email"`)
	}

	contactBy, meetBy := r.contactBy, r.meetBy
	if r.status {
		switch m.Status {
		case StatusAssigned:
			contactBy, meetBy = true, true
		case StatusWaitlisted:
			v.Waitlisted = true
		default:
			problem(`Status must be "assigned" or "waitlisted"`)
		}
	}
	if r.copy { // the deadlines the specialist was told, when the copied email had them
		contactBy, meetBy = m.ContactBy != (calendar.Date{}), m.MeetBy != (calendar.Date{})
	}
	if contactBy {
		v.ContactBy, v.ContactByShort = dates("ContactBy", m.ContactBy, problem)
	}
	if meetBy {
		v.MeetBy, v.MeetByShort = dates("MeetBy", m.MeetBy, problem)
	}
	switch {
	case r.jobStart:
		v.JobStart, _ = dates("JobStart", m.JobStart, problem)
	case m.JobStart != (calendar.Date{}):
		problem("JobStart is only for outcome checks")
	}

	switch {
	case r.link && m.Link == "":
		problem("Link is required")
	case r.link:
		if !validLink(m.Link) {
			problem("Link must be an absolute http(s) URL")
		} else if r.worklist && !isWorklistLink(m.Link) {
			problem("Link on an email to the lead must be the lead's worklist link")
		}
		v.Link = m.Link
	case m.Link != "" && r.cc:
		problem("Link must not be sent to a Cc recipient: it would give them the specialist's access")
	case m.Link != "":
		problem("Link is only for assignments, reminders, outcome checks, acknowledgements and waitlisted emails")
	}

	if len(problems) > 0 {
		return view{}, fmt.Errorf("%w: %s: %s", ErrInvalidMessage, m.Kind, strings.Join(problems, "; "))
	}
	return v, nil
}

// checkAddresses reports each address in list that is not a bare, valid email address. Display
// names are refused outright, so nothing but an address can reach a header.
func checkAddresses(field string, list []string, problem func(string, ...any)) {
	for i, a := range list {
		if strings.ContainsFunc(a, unsafeRune) {
			problem("%s[%d] has control characters", field, i)
			continue
		}
		parsed, err := mail.ParseAddress(a)
		if err != nil || parsed.Name != "" || parsed.Address != a {
			problem("%s[%d] is not a bare email address", field, i)
		}
	}
}

// dates formats a required deadline long ("Wednesday 25 November 2026") and short, for subjects
// ("Wednesday 25 November").
func dates(field string, d calendar.Date, problem func(string, ...any)) (long, short string) {
	if d == (calendar.Date{}) {
		problem("%s is required", field)
		return "", ""
	}
	// calendar.Date has no exported validity check; a real date survives a round trip.
	if p, err := calendar.ParseDate(d.String()); err != nil || p != d {
		problem("%s is not a real date", field)
		return "", ""
	}
	return d.Long(), fmt.Sprintf("%s %d %s", d.Weekday(), d.Day, d.Month)
}

func validLink(s string) bool {
	if len(s) > maxLinkLen || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unsafeRune(r) }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// isWorklistLink reports whether an absolute link (validLink) is an area's worklist page.
func isWorklistLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && worklistPath().MatchString(u.Path)
}

var worklistPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`/areas/[^/]+/worklist$`) })

// unsafeRune reports runes that must never reach an email from user text: control characters
// (CR and LF among them), line and paragraph separators, and the bidirectional overrides that can
// make text read differently from what it is.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return r == utf8.RuneError
}

// clean makes user text safe for one line of an email: invalid UTF-8 and unsafe runes become
// spaces, and runs of spaces one.
func clean(s string) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

var blankLines = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\n{3,}`) })

// tidyText trims trailing spaces from each line, keeps at most one blank line in a row and ends
// the body with one newline, so bodies can be laid out for reading.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	s = blankLines().ReplaceAllString(strings.Join(lines, "\n"), "\n\n")
	return strings.Trim(s, "\n") + "\n"
}

// tidyHTML trims each line and drops blank ones, so bodies need not count newlines.
func tidyHTML(s string) string {
	var b strings.Builder
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
