package web

import (
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// The specialist's pages: a referral opened through the signed link in their email, with forms
// that record contact, the first meeting, or a close; and the page that confirms what was recorded.
// Everything that changes the referral is a button that POSTs: opening the link only shows a page
// (mail systems open links before people do).

// LinkTokenField is the form field (and query parameter) that carries the signed-link token.
const LinkTokenField = "token"

// ReferralPath is the path of a referral's page.
func ReferralPath(id string) string { return "/referrals/" + id }

// ActionPath is the path an action on a referral is posted to.
func ActionPath(id string, a referral.Action) string { return ReferralPath(id) + "/" + string(a) }

// LinkURL is the referral's page with the token in the query string: the link in emails, and the
// way back to the referral from the confirmation page.
func LinkURL(id, token string) string {
	return ReferralPath(id) + "?" + url.Values{LinkTokenField: {token}}.Encode()
}

// ReferralPage is the specialist's page of one referral: every detail of the patient and the
// referrer, the deadlines, the history in plain words, and the forms for what can be recorded next.
type ReferralPage struct {
	Referral referral.Referral
	Token    string                // the signed-link token, posted back by each form
	Viewer   string                // the specialist the link was issued to ("You" in the history)
	Errors   []referral.FieldError // a close without a reason, a bad outcome field
	Reason   string                // the close reason chosen, kept when the page is shown again
	// Values is the form as posted, kept in the outcome forms when the page is shown again.
	Values url.Values
	// Today is the day in Europe/London: the employer contact's default date and the date hint's
	// example. Zero means the clock's today.
	Today calendar.Date
}

// summaryRow is one row of an NHS.UK summary list. Lines are shown one to a line; List as a
// bulleted list; Href, when set, makes the value a link.
type summaryRow struct {
	Key   string
	Value string
	Href  safeURL
	Lines []string
	List  []string
}

type historyRow struct {
	When, What, Who string
}

// historyTable is a referral's history as a table; Who is a column only when WithWho.
type historyTable struct {
	Rows    []historyRow
	WithWho bool
}

type referralView struct {
	layout
	Summary      []summaryItem
	Reference    string
	StatusLabel  string
	StatusColour string
	ReReferral   bool
	Closed       string // "Closed on …: reason", for a closed referral
	Deadlines    []summaryRow
	Patient      []summaryRow
	Referrer     []summaryRow
	About        []summaryRow
	History      historyTable

	Token                                     string
	ContactAction, MeetingAction, CloseAction string
	AttemptAction                             string
	CanContact, CanMeet, CanClose, CanAttempt bool
	HasAnyAction                              bool
	NextStep                                  string
	Reason                                    choiceGroup
	Method                                    choiceGroup
	outcomeForms
}

// RenderReferral writes the specialist's page of a referral.
func RenderReferral(w io.Writer, p ReferralPage) error {
	v := newReferralView(p)
	return writePage(w, "referral.html", v.layout, v.write)
}

func (v referralView) write(m *markup) {
	m.errorSummary(v.Summary)
	m.raw(`
          <h1 class="nhsuk-heading-l">
            <span class="nhsuk-caption-l">Employment support referral</span>
            Referral `)
	m.wrap("", v.Reference, "\n          </h1>\n          <p><strong class=\"nhsuk-tag nhsuk-tag--")
	m.wrap("", v.StatusColour, `">`)
	m.wrap("", v.StatusLabel, "</strong></p>")
	m.when(v.ReReferral, `
          <div class="nhsuk-card nhsuk-card--warning">
            <div class="nhsuk-card__content">
              <h2 class="nhsuk-card__heading"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Referred again</span></h2>
              <p>This patient already had an open referral with you when this one arrived. It was not counted again in your caseload.</p>
            </div>
          </div>`)
	if v.Closed != "" {
		m.raw(`
          <div class="nhsuk-inset-text">
            <span class="nhsuk-u-visually-hidden">Information: </span>
            <p>`)
		m.wrap("", v.Closed, "</p>\n          </div>")
	} else {
		m.with("\n          <p class=\"nhsuk-lede-text\">", v.NextStep, "</p>")
	}
	for _, s := range []struct {
		heading string
		rows    []summaryRow
	}{{"Deadlines", v.Deadlines}, {"Patient", v.Patient}, {"Referral", v.About}, {"Referrer", v.Referrer}} {
		m.raw("\n\n          <h2>", s.heading, "</h2>\n")
		m.summaryRows(s.rows)
	}
	if v.HasAnyAction {
		m.raw(`
          <h2>Record progress</h2>
          <p>Record each step when it has happened. The deadline reminders stop once it is recorded.</p>`)
		if v.CanAttempt {
			m.tokenForm("post", v.AttemptAction, v.Token)
			m.raw(`
            <h3>Contact attempt</h3>
            <p>You tried to reach the patient but have not yet spoken to them.</p>
`)
			m.choices(v.Method)
			m.button(buttonSecondary, "Record contact attempt")
		}
		if v.CanContact {
			m.tokenForm("post", v.ContactAction, v.Token)
			m.raw(`
            <h3>Contact</h3>
            <p>You have spoken to the patient, or reached them using the contact method they prefer.</p>`)
			m.button(buttonPrimary, "Record contact")
		}
		if v.CanMeet {
			m.tokenForm("post", v.MeetingAction, v.Token)
			m.raw(`
            <h3>First meeting</h3>
            <p>You have met the patient for the first time, in person or by video.</p>`)
			m.button(buttonPrimary, "Record first meeting")
		}
		if v.CanEmployerContact {
			m.tokenForm("post", v.EmployerContactAction, v.Token)
			m.raw(`
            <h3>Employer contact</h3>
            <p>You contacted an employer about work for the patient. Record each employer contact.</p>
`)
			m.dateInput(v.EmployerDate)
			m.button(buttonSecondary, "Record employer contact")
		}
		if v.CanJobStart {
			m.tokenForm("post", v.JobStartAction, v.Token)
			m.raw(`
            <h3>Job start</h3>
            <p>The patient started a paid job. Record each job, including a second job: in-work support carries on.</p>
`)
			m.dateInput(v.StartDate)
			m.raw("\n")
			m.input(v.Hours)
			m.raw("\n")
			m.choices(v.SelfEmployed)
			m.button(buttonPrimary, "Record job start")
		}
		if v.CanOutcome {
			m.tokenForm("post", v.OutcomeAction, v.Token)
			m.raw("\n            <h3>Job outcome</h3>\n")
			m.choices(v.Sustained)
			m.button(buttonPrimary, "Record job outcome")
		}
		if v.CanClose {
			m.tokenForm("post", v.CloseAction, v.Token)
			m.raw(`
            <h3>Close the referral</h3>
            <p>Close the referral when your support ends. It then no longer counts towards your caseload.</p>
`)
			m.choices(v.Reason)
			m.button(buttonWarning, "Close referral")
		}
	}
	if len(v.Jobs) > 0 || len(v.EmployerContacts) > 0 {
		m.raw("\n          <h2>Work</h2>")
		if len(v.Jobs) > 0 {
			m.tableStart("nhsuk-table__caption--m", "Jobs, oldest first", false, "Start date", "Hours a week", "Self-employed", "Outcome")
			for _, j := range v.Jobs {
				m.rowStart()
				for _, c := range []string{j.Start, j.Hours, j.SelfEmployed, j.Outcome} {
					m.cell(c)
				}
				m.rowEnd()
			}
			m.tableEnd()
		}
		if len(v.EmployerContacts) > 0 {
			m.raw("\n          <h3>Employer contacts</h3>\n          <ul class=\"nhsuk-list nhsuk-list--bullet\">")
			for _, c := range v.EmployerContacts {
				m.wrap("\n            <li>", c, "</li>")
			}
			m.raw("\n          </ul>")
		}
	}
	m.raw("\n\n          <h2>History</h2>\n")
	m.historyTable(v.History)
	m.raw("\n")
}

func newReferralView(p ReferralPage) referralView {
	r := p.Referral
	v := referralView{Reference: r.ID, Token: p.Token, ReReferral: r.ReReferral, History: historyTable{WithWho: true}}
	// The title is kept in browser history and tab lists: the reference only, no patient data.
	v.Title = "Referral " + r.ID
	v.StatusLabel, v.StatusColour = statusTag(r.Status)

	canClose := r.Status == referral.StatusAssigned || r.Status == referral.StatusContacted || r.Status == referral.StatusEngaged ||
		r.Status == referral.StatusInWork
	today := p.Today
	if today == (calendar.Date{}) {
		today = calendar.DateOf(time.Now())
	}
	v.outcomeForms = newOutcomeForms(p, today)
	for _, e := range p.Errors {
		item := summaryItem{Text: e.Message, Href: v.outcomeFieldHref(e.Field)}
		if e.Field == referral.ReasonField && canClose { // the reasons are only on the page while it can close
			item.Href = "#" + FieldID(referral.ReasonField)
		}
		if e.Field == referral.MethodField && r.Status == referral.StatusAssigned {
			item.Href = "#" + FieldID(referral.MethodField)
		}
		v.Summary = append(v.Summary, item)
	}
	v.HasErrors = len(v.Summary) > 0

	contacted, hasContact := r.FirstEvent(referral.EventContacted)
	met, hasMeeting := r.FirstEvent(referral.EventMet)
	if !hasContact && hasMeeting {
		contacted, hasContact = met, true // a meeting is contact too
	}
	done := func(e referral.Event, ok bool, what string) string {
		if !ok {
			return ""
		}
		return what + " " + londonDate(e.At)
	}
	if r.Status == referral.StatusWaitlisted {
		v.Deadlines = []summaryRow{{Key: "Deadlines", Value: "Set when the referral is assigned to a specialist"}}
	} else {
		v.Deadlines = []summaryRow{
			{Key: "Contact the patient by", Lines: nonEmpty(r.ContactBy.Long(), done(contacted, hasContact, "Contacted on"))},
			{Key: "First meeting by", Lines: nonEmpty(r.MeetBy.Long(), done(met, hasMeeting, "Met on"))},
		}
	}
	switch r.Status {
	case referral.StatusClosed:
		v.Closed = "This referral is closed."
		if e, ok := r.LastEvent(referral.EventClosed); ok {
			v.Closed = "This referral was closed on " + londonDate(e.At) + ". Reason: " + closeReasonLabel(e.Detail) + "."
		}
	case referral.StatusWithdrawn:
		v.Closed = "The referrer withdrew this referral. Do not contact the patient about it."
		if e, ok := r.LastEvent(referral.EventWithdrawn); ok {
			v.Closed = "The referrer withdrew this referral on " + londonDate(e.At) + ". Reason: " + withdrawReasonLabel(e.Detail) + ". Do not contact the patient about it."
		}
	}

	pt := r.Patient
	v.Patient = []summaryRow{
		{Key: "Name", Value: strings.TrimSpace(pt.GivenName + " " + pt.FamilyName)},
		{Key: "Date of birth", Value: birthDate(pt.DateOfBirth)},
		{Key: "NHS number", Value: formatNHSNumber(pt.NHSNumber)},
		{Key: "Postcode", Value: pt.Postcode},
		phoneRow("Phone number", pt.Phone),
		emailRow("Email address", pt.Email),
		{Key: "Preferred contact", Value: orNotGiven(contactLabel(pt.PreferredContact))},
	}
	rf := r.Referrer
	v.Referrer = []summaryRow{
		{Key: "Name", Value: rf.Name},
		{Key: "GP practice code", Value: rf.PracticeCode},
		emailRow("Email address", rf.Email),
		phoneRow("Phone number", rf.Phone),
	}
	employment, _ := employmentLabel(r.EmploymentStatus)
	conditions := summaryRow{Key: "Health conditions", Value: "None given"}
	if len(r.HealthConditions) > 0 {
		conditions.Value = ""
		for _, c := range r.HealthConditions {
			conditions.List = append(conditions.List, healthLabel(c))
		}
	}
	notes := summaryRow{Key: "Notes from the referrer", Value: "None"}
	if strings.TrimSpace(r.Notes) != "" {
		notes.Value, notes.Lines = "", strings.Split(r.Notes, "\n")
	}
	v.About = []summaryRow{
		{Key: "Received", Value: londonTime(r.ReceivedAt)},
		{Key: "Work situation", Value: orNotGiven(employment)},
		conditions,
		notes,
	}
	if r.Status.Terminal() {
		// Support has ended: the page keeps the history and the outcome, not the means to reach
		// or identify the patient (SPEC §9, data minimisation).
		v.Patient = []summaryRow{{Key: "Name", Value: PatientShortName(pt)}, {Key: "Postcode area", Value: postcodeArea(pt.Postcode)}}
		v.About = []summaryRow{v.About[0], v.About[1]}
	}

	for _, e := range r.Events {
		v.History.Rows = append(v.History.Rows, historyRow{When: londonTime(e.At), What: eventText(e), Who: actorText(e.By, p.Viewer)})
	}

	v.ContactAction = ActionPath(r.ID, referral.ActionContact)
	v.MeetingAction = ActionPath(r.ID, referral.ActionMeeting)
	v.CloseAction = ActionPath(r.ID, referral.ActionClose)
	v.AttemptAction = ActionPath(r.ID, referral.ActionAttempt)
	v.CanAttempt = r.Status == referral.StatusAssigned
	v.CanContact = r.Status == referral.StatusAssigned
	v.CanMeet = r.Status == referral.StatusAssigned || r.Status == referral.StatusContacted
	v.CanClose = canClose
	v.HasAnyAction = v.CanContact || v.CanMeet || v.CanClose || v.CanAttempt || v.CanEmployerContact
	switch r.Status {
	case referral.StatusAssigned:
		v.NextStep = "Contact the patient by " + r.ContactBy.Long() + ", using the contact method they prefer."
	case referral.StatusContacted:
		v.NextStep = "Meet the patient by " + r.MeetBy.Long() + "."
	case referral.StatusEngaged:
		v.NextStep = "Keep supporting the patient. Record employer contacts and a job start as they happen. Close the referral when your support ends."
	case referral.StatusInWork:
		v.NextStep = "Keep giving in-work support. Record whether the patient is still in the job when you know. Close the referral when your support ends."
	}

	v.Reason = radios(referral.ReasonField, "Why are you closing this referral?", referral.CloseReasons, closeReasonLabel, p.Reason, p.Errors)
	v.Method = radios(referral.MethodField, "How did you try to contact the patient?", referral.ContactAttemptMethods, attemptMethodLabel, "", p.Errors)
	return v
}

// radios builds a radio group for field, showing the first error about it.
func radios(field, legend string, values []string, label func(string) string, checked string, errs []referral.FieldError) choiceGroup {
	g := choiceGroup{Kind: "radios", Name: field, ID: FieldID(field), Legend: legend}
	for _, e := range errs {
		if e.Field == field && g.Error == "" {
			g.Error = e.Message
		}
	}
	for i, value := range values {
		c := choice{ID: g.ID, Value: value, Label: label(value), Checked: value == checked}
		if i > 0 {
			c.ID = g.ID + "-" + strconv.Itoa(i+1)
		}
		g.Items = append(g.Items, c)
	}
	return g
}

// attemptMethodLabel says a contact-attempt method (referral.ContactAttemptMethods) in words.
func attemptMethodLabel(method string) string {
	switch method {
	case "phone":
		return "Phone call"
	case "email":
		return "Email"
	case "letter":
		return "Letter"
	case "text":
		return "Text message"
	}
	return method
}

// ActionPage confirms an action: newly recorded, or recorded before (a repeated request).
type ActionPage struct {
	Referral        referral.Referral // as it now is
	Action          referral.Action
	AlreadyRecorded bool
	Token           string // for the link back to the referral
}

type actionView struct {
	layout
	Heading   string
	Reference string
	Lines     []string
	BackURL   string
}

// RenderActionRecorded writes the page that confirms an action. It names the referral by its
// reference only.
func RenderActionRecorded(w io.Writer, p ActionPage) error {
	r := p.Referral
	v := actionView{Reference: r.ID, BackURL: LinkURL(r.ID, p.Token)}
	if p.AlreadyRecorded {
		v.Lines = append(v.Lines, "This was already recorded. Nothing has been changed.")
	}
	switch p.Action {
	case referral.ActionContact:
		v.Heading = map[bool]string{false: "Contact recorded", true: "Contact already recorded"}[p.AlreadyRecorded]
		if r.Status == referral.StatusContacted {
			v.Lines = append(v.Lines, "Next, meet the patient by "+r.MeetBy.Long()+".")
		}
	case referral.ActionMeeting:
		v.Heading = map[bool]string{false: "First meeting recorded", true: "First meeting already recorded"}[p.AlreadyRecorded]
		if r.Status == referral.StatusEngaged {
			v.Lines = append(v.Lines, "The referral stays with you until you close it.")
		}
	case referral.ActionAttempt:
		v.Heading = "Contact attempt recorded"
		if e, ok := r.LastEvent(referral.EventAttempted); ok {
			v.Lines = append(v.Lines, attemptMethodLabel(e.Detail)+" on "+londonDate(e.At)+". Record contact once you reach the patient.")
		}
	case referral.ActionEmployerContact:
		v.Heading = map[bool]string{false: "Employer contact recorded", true: "Employer contact already recorded"}[p.AlreadyRecorded]
		if e, ok := r.LastEvent(referral.EventEmployerContact); ok && !p.AlreadyRecorded {
			v.Lines = append(v.Lines, "Contact with an employer on "+LongDate(e.Detail)+".")
		}
	case referral.ActionJobStart:
		v.Heading = map[bool]string{false: "Job start recorded", true: "Job start already recorded"}[p.AlreadyRecorded]
		if e, ok := r.LastEvent(referral.EventJobStarted); ok && !p.AlreadyRecorded {
			v.Lines = append(v.Lines, jobText(e.Detail)+". The referral stays with you for in-work support until you close it.")
		}
	case referral.ActionOutcome:
		v.Heading = map[bool]string{false: "Job outcome recorded", true: "Job outcome already recorded"}[p.AlreadyRecorded]
		if e, ok := r.LastEvent(referral.EventOutcome); ok {
			v.Lines = append(v.Lines, "Outcome: "+outcomeLabel(e.Detail)+".")
		}
	case referral.ActionClose:
		v.Heading = map[bool]string{false: "Referral closed", true: "Referral already closed"}[p.AlreadyRecorded]
		if e, ok := r.LastEvent(referral.EventClosed); ok {
			v.Lines = append(v.Lines, "Reason: "+closeReasonLabel(e.Detail)+".")
		}
	default:
		v.Heading = "Recorded"
	}
	v.Title = v.Heading
	return writePage(w, "action-recorded.html", v.layout, v.write)
}

func (v actionView) write(m *markup) {
	m.referencePanel(v.Heading, v.Reference)
	m.paragraphs(v.Lines)
	m.raw("\n          <p><a href=\"")
	m.url(v.BackURL)
	m.wrap(`">Go back to referral `, v.Reference, "</a></p>\n")
}

// closeReasonLabel says a close reason (referral.CloseReasons) in words.
func closeReasonLabel(reason string) string {
	switch reason {
	case "engaged-elsewhere":
		return "Getting employment support somewhere else"
	case "declined":
		return "Does not want employment support"
	case "unreachable":
		return "Could not be contacted"
	case "moved-away":
		return "Moved out of the area"
	case "job-started":
		return "Started a job"
	case "support-complete":
		return "Support is complete"
	case "other":
		return "Another reason"
	case "":
		return "Not given"
	}
	return reason
}

func statusTag(s referral.Status) (label, colour string) {
	switch s {
	case referral.StatusWaitlisted:
		return "On the waiting list", "yellow"
	case referral.StatusAssigned:
		return "Not contacted yet", "blue"
	case referral.StatusContacted:
		return "Contacted", "aqua-green"
	case referral.StatusEngaged:
		return "Met", "green"
	case referral.StatusInWork:
		return "In work", "purple"
	case referral.StatusClosed:
		return "Closed", "grey"
	case referral.StatusWithdrawn:
		return "Withdrawn", "grey"
	}
	return string(s), "grey"
}

// eventText says an audit event in plain words.
func eventText(e referral.Event) string {
	switch e.Type {
	case referral.EventReceived:
		switch e.Via {
		case "form":
			return "Referral received from the online form"
		case "api":
			return "Referral received from a GP system"
		}
		return "Referral received"
	case referral.EventAssigned:
		text := "Referral assigned to an employment specialist"
		if e.Via == "waitlist" {
			text = "Referral assigned to an employment specialist from the waiting list"
		}
		if e.Detail == "re-referral" {
			text += ". The patient was already being supported by this specialist"
		}
		return text
	case referral.EventWaitlisted:
		return "Referral put on the area's waiting list: no specialist had space"
	case referral.EventEmailed:
		return "Email sent: " + emailKindText(e.Detail)
	case referral.EventReminded:
		return "Reminder sent: " + emailKindText(e.Detail)
	case referral.EventEscalated:
		return "Deadline missed: " + emailKindText(e.Detail)
	case referral.EventContacted:
		return "Contact with the patient recorded"
	case referral.EventMet:
		return "First meeting recorded"
	case referral.EventAttempted:
		return "Contact attempt: " + strings.ToLower(attemptMethodLabel(e.Detail))
	case referral.EventClosed:
		return "Referral closed. Reason: " + closeReasonLabel(e.Detail)
	case referral.EventWithdrawn:
		return "Referral withdrawn by the referrer. Reason: " + withdrawReasonLabel(e.Detail)
	case referral.EventEmployerContact:
		return "Employer contacted on " + LongDate(e.Detail)
	case referral.EventJobStarted:
		return jobText(e.Detail)
	case referral.EventOutcome:
		return "Job outcome: " + strings.ToLower(outcomeLabel(e.Detail))
	}
	if e.Detail != "" {
		return e.Type + " (" + e.Detail + ")"
	}
	return e.Type
}

func emailKindText(kind string) string {
	switch kind {
	case "assignment":
		return "new referral, to the employment specialist"
	case "acknowledgement":
		return "confirmation of the referral, to the referrer"
	case "waitlisted":
		return "referral on the waiting list, to the area lead"
	case "contact-reminder":
		return "the deadline to contact the patient is the next working day"
	case "meeting-reminder":
		return "the deadline to meet the patient is the next working day"
	case "contact-overdue":
		return "the patient was not contacted in time. The area lead was told"
	case "meeting-overdue":
		return "the patient was not met in time. The area lead was told"
	case "bouncing-copy":
		return "a copy to the area lead: the specialist's email address is bouncing"
	case "":
		return "details not recorded"
	}
	return kind
}

func actorText(by, viewer string) string {
	switch {
	case by == referral.System || by == "":
		return "The referral service"
	case by == viewer:
		return "You"
	}
	return "Another employment specialist"
}

// londonTime writes an instant as people in England read it: "24 November 2026 at 2:30pm",
// "23 November 2026 at 10am".
func londonTime(t time.Time) string {
	if t.IsZero() {
		return "Not recorded"
	}
	t = t.In(calendar.London()) // every time on the pages is shown in London's
	clock := t.Format("3:04pm")
	clock = strings.Replace(clock, ":00", "", 1)
	if t.Hour() == 12 && t.Minute() == 0 {
		clock = "midday"
	}
	return t.Format("2 January 2006") + " at " + clock
}

func londonDate(t time.Time) string {
	return t.In(calendar.London()).Format("2 January 2006")
}

// birthDate writes "1988-02-29" as "29 February 1988".
func birthDate(s string) string {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return d.Format("2 January 2006")
}

// formatNHSNumber writes 10 digits in the 3-3-4 groups people read them in.
func formatNHSNumber(s string) string {
	if len(s) != 10 || strings.Trim(s, "0123456789") != "" {
		return s
	}
	return s[:3] + " " + s[3:6] + " " + s[6:]
}

// isE164UK reports whether s is a UK number as stored: +44, a non-zero digit, then 8 or 9 digits.
// Checked by hand rather than with a regexp compiled at start-up: every cold start would pay for it.
func isE164UK(s string) bool {
	rest, ok := strings.CutPrefix(s, "+44")
	if !ok || len(rest) < 9 || len(rest) > 10 || rest[0] == '0' {
		return false
	}
	return strings.Trim(rest, "0123456789") == ""
}

// formatUKPhone writes a stored E.164 UK number ("+447700900123") in national form with the usual
// grouping: "07700 900123", "020 7946 0000", "0114 496 0000", "01632 960001".
func formatUKPhone(s string) string {
	if !isE164UK(s) {
		return s
	}
	n := "0" + s[3:]
	switch {
	case len(n) == 11 && strings.HasPrefix(n, "02"):
		return n[:3] + " " + n[3:7] + " " + n[7:]
	case len(n) == 11 && (strings.HasPrefix(n, "011") || (strings.HasPrefix(n, "01") && n[3] == '1')):
		return n[:4] + " " + n[4:7] + " " + n[7:]
	}
	return n[:5] + " " + n[5:]
}

func phoneRow(key, phone string) summaryRow {
	if phone == "" {
		return summaryRow{Key: key, Value: "Not given"}
	}
	row := summaryRow{Key: key, Value: formatUKPhone(phone)}
	if isE164UK(phone) {
		// The URL filter lets no tel: URL through; this one is "+44" and digits only.
		row.Href = safeURL("tel:" + phone)
	}
	return row
}

func emailRow(key, email string) summaryRow {
	if email == "" {
		return summaryRow{Key: key, Value: "Not given"}
	}
	// Escaped so that nothing in the address ('?' above all) can add a header to the message.
	return summaryRow{Key: key, Value: email, Href: safeURL("mailto:" + url.PathEscape(email))}
}

func orNotGiven(s string) string {
	if s == "" {
		return "Not given"
	}
	return s
}

func nonEmpty(ss ...string) []string {
	return slices.DeleteFunc(ss, func(s string) bool { return s == "" })
}
