package web

import (
	"io"
	"strings"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// The referrer's pages (SPEC §10 "Referrer"): a referral's status, opened through the link in the
// acknowledgement, with the withdraw form while a withdraw is allowed; and the page that confirms
// the withdraw. They show the least of the patient: the given name and the family name's initial.

// StatusPath is the referrer's page of a referral; WithdrawPath is where its withdraw is posted.
func StatusPath(id string) string   { return ReferralPath(id) + "/status" }
func WithdrawPath(id string) string { return ReferralPath(id) + "/withdraw" }

// StatusURL is the referrer's page with the token in the query string.
func StatusURL(id, token string) string {
	return StatusPath(id) + "?" + LinkTokenField + "=" + token
}

// StatusPage is the referrer's page of one referral.
type StatusPage struct {
	Referral referral.Referral
	AreaName string // the area's name; its id when the name could not be read
	Token    string
	Errors   []referral.FieldError // a withdraw without a reason, or one no longer allowed
	Reason   string                // the reason chosen, kept when the page is shown again
}

type referrerView struct {
	layout
	Summary     []summaryItem
	Reference   string
	Heading     string
	Details     []summaryRow
	History     historyTable
	CanWithdraw bool
	Action      string
	Token       string
	Reason      choiceGroup
}

// RenderReferrerStatus writes the referrer's page of a referral.
func RenderReferrerStatus(w io.Writer, p StatusPage) error {
	r := p.Referral
	v := referrerView{Reference: r.ID, Token: p.Token, Action: WithdrawPath(r.ID)}
	v.Title = "Referral " + r.ID
	v.Heading = referrerStatusLabel(r.Status)
	for _, e := range p.Errors {
		item := summaryItem{Text: e.Message}
		if e.Field == referral.ReasonField {
			item.Href = "#" + FieldID(referral.ReasonField)
		}
		v.Summary = append(v.Summary, item)
	}
	v.HasErrors = len(v.Summary) > 0
	v.Details = []summaryRow{
		{Key: "Patient", Value: PatientShortName(r.Patient)},
		{Key: "Area", Value: p.AreaName},
		{Key: "Status", Value: upperFirst(r.Status.Words())},
	}
	for _, e := range r.Events {
		if what := referrerEventText(e); what != "" {
			v.History.Rows = append(v.History.Rows, historyRow{When: londonDate(e.At), What: what})
		}
	}
	v.CanWithdraw = withdrawable(r.Status)
	v.Reason = radios(referral.ReasonField, "Why are you withdrawing this referral?", referral.WithdrawReasons, withdrawReasonLabel, p.Reason, p.Errors)
	for i := range v.Reason.Items {
		v.Reason.Items[i].Hint = withdrawReasonHint(v.Reason.Items[i].Value)
	}
	return writePage(w, "referrer-status.html", v.layout, v.write)
}

func (v referrerView) write(m *markup) {
	m.errorSummary(v.Summary)
	m.wrap("\n          <h1 class=\"nhsuk-heading-l\">\n            <span class=\"nhsuk-caption-l\">Employment support referral ", v.Reference, "</span>\n            ")
	m.wrap("", v.Heading, "\n          </h1>\n")
	m.summaryRows(v.Details)
	m.raw("\n\n          <h2>What has happened</h2>\n")
	m.historyTable(v.History)
	if v.CanWithdraw {
		m.raw(`
          <h2>Withdraw this referral</h2>
          <p>If you did not make this referral, or it should not go ahead, you can withdraw it until the patient's first meeting. The employment specialist will be told not to contact the patient.</p>`)
		m.tokenForm("post", v.Action, v.Token)
		m.raw("\n")
		m.choices(v.Reason)
		m.button(buttonWarning, "Withdraw referral")
	} else {
		m.raw("\n          <p>To change anything about this referral now, contact the employment specialist.</p>")
	}
	m.raw("\n")
}

// withdrawable mirrors SPEC §9: a referrer can withdraw until the first meeting.
func withdrawable(s referral.Status) bool {
	return s == referral.StatusWaitlisted || s == referral.StatusAssigned || s == referral.StatusContacted
}

// WithdrawnPage confirms a withdraw: newly recorded, or recorded before.
type WithdrawnPage struct {
	Referral        referral.Referral
	AlreadyRecorded bool
	Token           string
}

// RenderWithdrawn writes the page that confirms a withdraw. It names the referral by its reference.
func RenderWithdrawn(w io.Writer, p WithdrawnPage) error {
	r := p.Referral
	v := actionView{Reference: r.ID, BackURL: StatusURL(r.ID, p.Token), Heading: "Referral withdrawn"}
	if p.AlreadyRecorded {
		v.Heading = "Referral already withdrawn"
		v.Lines = append(v.Lines, "This was already recorded. Nothing has been changed.")
	}
	if e, ok := r.LastEvent(referral.EventWithdrawn); ok {
		v.Lines = append(v.Lines, "Reason: "+withdrawReasonLabel(e.Detail)+".")
		if e.Detail == referral.WithdrawEnteredInError {
			v.Lines = append(v.Lines, "The patient's personal details have been removed from the referral.")
		}
	}
	v.Lines = append(v.Lines, "The employment specialist has been told not to contact the patient. We have emailed you to confirm.")
	v.Title = v.Heading
	return writePage(w, "action-recorded.html", v.layout, v.write)
}

// PatientShortName is the given name and the family name's initial: "Sam T.", or "S." once
// entered-in-error has left only the given name's initial.
func PatientShortName(p referral.Patient) string {
	given, family := strings.TrimSpace(p.GivenName), strings.TrimSpace(p.FamilyName)
	switch {
	case family != "":
		return strings.TrimSpace(given + " " + strings.ToUpper(string([]rune(family)[:1])) + ".")
	case len([]rune(given)) == 1:
		return given + "."
	}
	return given
}

func referrerStatusLabel(s referral.Status) string {
	switch s {
	case referral.StatusWaitlisted:
		return "On the waiting list"
	case referral.StatusAssigned:
		return "Assigned to an employment specialist"
	case referral.StatusContacted:
		return "Patient contacted"
	case referral.StatusEngaged:
		return "Support started"
	case referral.StatusInWork:
		return "In work"
	case referral.StatusClosed:
		return "Closed"
	case referral.StatusWithdrawn:
		return "Withdrawn"
	}
	return "Received"
}

// referrerEventText says what happened for the referrer, or "" for what is not theirs to see
// (emails, reminders, attempts, moves inside the service).
func referrerEventText(e referral.Event) string {
	switch e.Type {
	case referral.EventReceived:
		return "Referral received"
	case referral.EventWaitlisted:
		return "Put on the area's waiting list"
	case referral.EventAssigned:
		return "Assigned to an employment specialist"
	case referral.EventContacted:
		return "The employment specialist reached the patient"
	case referral.EventMet:
		return "First meeting: support started"
	case referral.EventJobStarted:
		return "The patient started work"
	case referral.EventClosed:
		return "Closed. Reason: " + closeReasonLabel(e.Detail)
	case referral.EventWithdrawn:
		return "Withdrawn. Reason: " + withdrawReasonLabel(e.Detail)
	}
	return ""
}

func withdrawReasonLabel(reason string) string {
	switch reason {
	case referral.WithdrawRevoked:
		return "Circumstances have changed"
	case referral.WithdrawEnteredInError:
		return "Sent in error"
	}
	return reason
}

func withdrawReasonHint(reason string) string {
	switch reason {
	case referral.WithdrawRevoked:
		return "For example, the patient no longer wants employment support."
	case referral.WithdrawEnteredInError:
		return "Sent by mistake, for the wrong patient, or not made by you. The patient's personal details will be removed."
	}
	return ""
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// postcodeArea is the outward code of a postcode ("S35" of "S35 0AB"): where the patient lives,
// without the street.
func postcodeArea(pc string) string {
	outward, _, _ := strings.Cut(strings.TrimSpace(pc), " ")
	return outward
}
