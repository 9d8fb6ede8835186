package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
)

// The area lead's pages (SPEC §10): the worklist opened from the lead's signed link, and the
// pages that answer a reassign or a transfer. Patients appear by reference, given name and
// initial only. Like the specialist's pages, opening the link only shows; each action is a POST.

// PostcodeField and SpecialistField are the form fields of the transfer and reassign forms.
const (
	SpecialistField = "specialist"
	PostcodeField   = "postcode"
)

// ReportPath is the path of an area's programme return (SPEC §12).
func ReportPath(areaID string) string { return "/areas/" + areaID + "/report" }

// ReportURL is the area's return for from..to (YYYY-MM) with the lead's token; format "csv" asks
// for the CSV, "" for the page.
func ReportURL(areaID, token, from, to, format string) string {
	q := url.Values{LinkTokenField: {token}, "from": {from}, "to": {to}}
	if format != "" {
		q.Set("format", format)
	}
	return ReportPath(areaID) + "?" + q.Encode()
}

// LeadActionPath is where a lead's action on a referral is posted: "reassign" or "transfer".
func LeadActionPath(areaID, referralID, action string) string {
	return "/areas/" + areaID + "/referrals/" + referralID + "/" + action
}

// WorklistPage is the lead's worklist of one area.
type WorklistPage struct {
	Worklist worklist.Worklist
	Token    string // the lead's token, posted back by each form
	// ReportLink is the area's programme return (ReportURL); none shown when empty.
	ReportLink string
}

type worklistView struct {
	layout
	AreaName    string
	Token       string
	ReportLink  string
	Waitlist    []worklistRow
	Overdue     []worklistRow
	Specialists []specialistRow
	Open        []openRow
}

type worklistRow struct {
	Reference, Person, Specialist, What string
	Days, Attempts                      int
}

type specialistRow struct {
	Name               string
	Caseload, Capacity int
	Active, Bouncing   bool
}

type openRow struct {
	Reference, Person, StatusLabel, StatusColour, Specialist string
	ReassignAction, TransferAction                           string
	CanReassign, CanTransfer                                 bool
	Choices                                                  []choice
}

// RenderWorklist writes the worklist page.
func RenderWorklist(w io.Writer, p WorklistPage) error {
	wl := p.Worklist
	names := map[string]string{}
	for _, s := range wl.Specialists {
		names[s.ID] = s.Name
	}
	name := func(id string) string {
		switch {
		case id == "":
			return "Nobody yet"
		case names[id] != "":
			return names[id]
		}
		return id
	}
	v := worklistView{layout: layout{Title: "Worklist for " + wl.AreaName}, AreaName: wl.AreaName, Token: p.Token, ReportLink: p.ReportLink}
	for _, x := range wl.Waitlist {
		v.Waitlist = append(v.Waitlist, worklistRow{Reference: x.ReferralID, Person: x.Person.Name(), Days: x.DaysWaiting})
	}
	for _, x := range wl.Overdue {
		v.Overdue = append(v.Overdue, worklistRow{Reference: x.ReferralID, Person: x.Person.Name(), Specialist: name(x.SpecialistID),
			What: overdueText(x.What), Attempts: x.Attempts})
	}
	for _, s := range wl.Specialists {
		v.Specialists = append(v.Specialists, specialistRow{Name: s.Name, Caseload: s.Caseload, Capacity: s.Capacity, Active: s.Active, Bouncing: s.Bouncing})
	}
	for _, o := range wl.Open {
		label, colour := statusTag(o.Status)
		row := openRow{Reference: o.ReferralID, Person: o.Person.Name(), StatusLabel: label, StatusColour: colour,
			Specialist: name(o.SpecialistID), CanReassign: o.CanReassign, CanTransfer: o.CanTransfer,
			ReassignAction: LeadActionPath(wl.AreaID, o.ReferralID, "reassign"),
			TransferAction: LeadActionPath(wl.AreaID, o.ReferralID, "transfer")}
		for _, s := range o.ReassignTo {
			row.Choices = append(row.Choices, choice{Value: s.ID, Label: s.Name})
		}
		v.Open = append(v.Open, row)
	}
	return writePage(w, "worklist.html", v.layout, v.write)
}

func (v worklistView) write(m *markup) {
	m.wrap("\n          <h1 class=\"nhsuk-heading-l\">\n            <span class=\"nhsuk-caption-l\">Area lead</span>\n            Worklist for ", v.AreaName, "\n          </h1>\n\n          <h2 id=\"waitlist\">Waiting list</h2>")
	if len(v.Waitlist) > 0 {
		m.tableStart("nhsuk-u-visually-hidden", "Referrals waiting for a specialist, oldest first", true, "Referral", "Patient", "Days waiting")
		for _, r := range v.Waitlist {
			m.rowStart()
			m.cell(r.Reference)
			m.cell(r.Person)
			m.numCell(r.Days)
			m.rowEnd()
		}
		m.tableEnd()
	} else {
		m.raw("\n          <p>Nobody is waiting.</p>")
	}
	m.raw("\n\n          <h2 id=\"overdue\">Overdue</h2>")
	if len(v.Overdue) > 0 {
		m.tableStart("nhsuk-u-visually-hidden", "Referrals with a deadline passed", true, "Referral", "Specialist", "Overdue", "Contact attempts")
		for _, r := range v.Overdue {
			m.rowStart()
			m.wrap(cellIndent+`<td class="nhsuk-table__cell">`, r.Reference, "<br>")
			m.wrap("", r.Person, "</td>")
			m.cell(r.Specialist)
			m.cell(r.What)
			m.numCell(r.Attempts)
			m.rowEnd()
		}
		m.tableEnd()
	} else {
		m.raw("\n          <p>Nothing is overdue.</p>")
	}
	m.raw("\n\n          <h2 id=\"specialists\">Specialists</h2>")
	m.tableStart("nhsuk-u-visually-hidden", "Specialists in the area", false, "Specialist", "Caseload", "Status")
	for _, s := range v.Specialists {
		m.rowStart()
		m.cell(s.Name)
		m.raw(cellIndent, `<td class="nhsuk-table__cell">`)
		m.num(s.Caseload)
		m.raw(" of ")
		m.num(s.Capacity)
		m.raw("</td>\n                <td class=\"nhsuk-table__cell\">")
		if s.Active {
			m.raw(`<strong class="nhsuk-tag nhsuk-tag--green">Taking referrals</strong>`)
		} else {
			m.raw(`<strong class="nhsuk-tag nhsuk-tag--grey">Not taking referrals</strong>`)
		}
		m.when(s.Bouncing, ` <strong class="nhsuk-tag nhsuk-tag--red">Emails bouncing</strong>`)
		m.raw("</td>")
		m.rowEnd()
	}
	m.raw("\n            </tbody>\n          </table>\n\n          <h2 id=\"open\">Open referrals</h2>")
	m.when(len(v.Open) == 0, "\n          <p>There are no open referrals.</p>")
	for _, o := range v.Open {
		m.wrap("\n          <div class=\"nhsuk-card\">\n            <div class=\"nhsuk-card__content\">\n              <h3 class=\"nhsuk-card__heading\">", o.Reference, ": ")
		m.wrap("", o.Person, "</h3>\n              <p><strong class=\"nhsuk-tag nhsuk-tag--")
		m.wrap("", o.StatusColour, `">`)
		m.wrap("", o.StatusLabel, "</strong> Specialist: ")
		m.wrap("", o.Specialist, "</p>")
		leadForm := func(action string) {
			m.raw("\n              <form method=\"post\" action=\"")
			m.url(action)
			m.wrap("\" novalidate>\n                <input type=\"hidden\" name=\"token\" value=\"", v.Token, "\">\n                <div class=\"nhsuk-form-group\">\n                  <label class=\"nhsuk-label\" for=\"")
		}
		leadButton := func(label string) {
			m.raw("\n                </div>\n                <button class=\"nhsuk-button nhsuk-button--secondary\" data-module=\"nhsuk-button\" type=\"submit\">", label, " ")
			m.wrap("", o.Reference, "</button>\n              </form>")
		}
		switch {
		case o.CanReassign && len(o.Choices) > 0:
			leadForm(o.ReassignAction)
			m.wrap("reassign-", o.Reference, `">Reassign `)
			m.wrap("", o.Reference, " to</label>\n                  <select class=\"nhsuk-select\" id=\"reassign-")
			m.wrap("", o.Reference, `" name="specialist">`)
			for _, c := range o.Choices {
				m.wrap("\n                    <option value=\"", c.Value, `">`)
				m.wrap("", c.Label, "</option>")
			}
			m.raw("\n                  </select>")
			leadButton("Reassign")
		case o.CanReassign:
			m.raw("\n              <p>No other specialist in the area has space to take it.</p>")
		}
		if o.CanTransfer {
			leadForm(o.TransferAction)
			m.wrap("transfer-", o.Reference, `">Patient's new postcode for `)
			m.wrap("", o.Reference, "</label>\n                  <div class=\"nhsuk-hint\" id=\"transfer-")
			m.wrap("", o.Reference, "-hint\">To move the referral to the area of the patient's new address</div>\n                  <input class=\"nhsuk-input nhsuk-input--width-10\" id=\"transfer-")
			m.wrap("", o.Reference, `" name="postcode" type="text" autocomplete="postal-code" aria-describedby="transfer-`)
			m.wrap("", o.Reference, `-hint">`)
			leadButton("Transfer")
		}
		m.raw("\n            </div>\n          </div>")
	}
	if v.ReportLink != "" {
		m.raw("\n\n          <h2 id=\"report\">Programme return</h2>\n          <p><a href=\"")
		m.url(v.ReportLink)
		m.raw("\">Programme return for the last 12 months</a>: counts by month, with a CSV download.</p>")
	}
	m.raw("\n")
}

func overdueText(what []string) string {
	var parts []string
	for _, k := range what {
		switch k {
		case worklist.OverdueContact:
			parts = append(parts, "First contact")
		case worklist.OverdueMeeting:
			parts = append(parts, "First meeting")
		default:
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, " and ")
}

// LeadOutcome is what became of a lead's reassign or transfer.
type LeadOutcome string

const (
	LeadReassigned     LeadOutcome = "reassigned"
	LeadTransferred    LeadOutcome = "transferred"
	LeadNoRoom         LeadOutcome = "no-room"         // the chosen specialist's caseload is full: 409
	LeadInactive       LeadOutcome = "inactive"        // the chosen specialist takes no new referrals: 409
	LeadOtherArea      LeadOutcome = "other-area"      // the chosen specialist works in another area: 409
	LeadNoSpecialist   LeadOutcome = "no-specialist"   // none chosen, or not in the directory: 400
	LeadBadPostcode    LeadOutcome = "bad-postcode"    // not a postcode: 400
	LeadOutOfArea      LeadOutcome = "out-of-area"     // a postcode in no IPSPC area: 422
	LeadStatusConflict LeadOutcome = "status-conflict" // the referral's status allows no such action: 409
)

// LeadResultPage answers a lead's reassign or transfer. Nothing in it is patient data beyond the
// reference: the postcode typed is not shown back.
type LeadResultPage struct {
	AreaID     string
	Token      string
	ReferralID string
	Outcome    LeadOutcome
	// Specialist names the specialist chosen (reassign), or now holding it (transfer).
	Specialist string
	// NewArea names the area a transfer went to; Waitlisted says it waits there.
	NewArea    string
	Waitlisted bool
	// Status is the referral's status, for LeadStatusConflict.
	Status referral.Status
}

// HTTPStatus is the status a page of this outcome is sent with.
func (p LeadResultPage) HTTPStatus() int {
	switch p.Outcome {
	case LeadReassigned, LeadTransferred:
		return http.StatusOK
	case LeadNoRoom, LeadInactive, LeadOtherArea, LeadStatusConflict:
		return http.StatusConflict
	case LeadOutOfArea:
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

type leadResultView struct {
	layout
	Success   bool
	Heading   string
	Reference string
	Lines     []string
	BackURL   string
}

// RenderLeadResult writes the page for a lead's reassign or transfer.
func RenderLeadResult(w io.Writer, p LeadResultPage) error {
	v := leadResultView{Reference: p.ReferralID, BackURL: worklist.LinkURL(p.AreaID, p.Token)}
	nothing := "Nothing has been changed."
	switch p.Outcome {
	case LeadReassigned:
		v.Success, v.Heading = true, "Referral reassigned"
		v.Lines = []string{p.Specialist + " has the referral now and has been emailed about it.",
			"The previous specialist's links to this referral no longer work."}
	case LeadTransferred:
		v.Success, v.Heading = true, "Referral transferred to "+p.NewArea
		v.Lines = []string{p.Specialist + " in " + p.NewArea + " has the referral now and has been emailed about it. Its deadlines count from today."}
		if p.Waitlisted {
			v.Lines = []string{"Nobody in " + p.NewArea + " has space, so the referral is on their waiting list. The area lead there has been told."}
		}
	case LeadNoRoom:
		v.Heading = p.Specialist + " has no space"
		v.Lines = []string{p.Specialist + "'s caseload is full, so they cannot take this referral. " + nothing,
			"Choose a specialist with space, or raise their capacity first."}
	case LeadInactive:
		v.Heading = p.Specialist + " is not taking referrals"
		v.Lines = []string{p.Specialist + " is marked as not taking new referrals. " + nothing, "Choose another specialist."}
	case LeadOtherArea:
		v.Heading = p.Specialist + " works in another area"
		v.Lines = []string{"You can only reassign a referral to a specialist in your area. " + nothing,
			"To move the patient to another area, transfer the referral with their new postcode."}
	case LeadNoSpecialist:
		v.Heading = "Choose a specialist"
		v.Lines = []string{"Choose the specialist to reassign the referral to from the list. " + nothing}
	case LeadBadPostcode:
		v.Heading = "Enter a real postcode"
		v.Lines = []string{"Enter the patient's new postcode, like S1 2HH. " + nothing}
	case LeadOutOfArea:
		v.Heading = "This postcode is not in an IPSPC area"
		v.Lines = []string{"The referral cannot be transferred there. " + nothing,
			"Check the postcode. If the patient has moved out of every IPSPC area, close the referral and tell the referrer about local employment support."}
	case LeadStatusConflict:
		label, _ := statusTag(p.Status)
		v.Heading = "You cannot do that to this referral now"
		v.Lines = []string{"The referral's status is: " + label + ". " + nothing}
	}
	v.Title = v.Heading
	v.HasErrors = false
	return writePage(w, "lead-result.html", v.layout, func(m *markup) {
		if v.Success {
			m.referencePanel(v.Heading, v.Reference)
		} else {
			m.wrap("\n          <h1 class=\"nhsuk-heading-l\">\n            <span class=\"nhsuk-caption-l\">Referral ", v.Reference, "</span>\n            ")
			m.wrap("", v.Heading, "\n          </h1>")
		}
		m.paragraphs(v.Lines)
		m.raw("\n          <p><a href=\"")
		m.url(v.BackURL)
		m.raw("\">Go back to the worklist</a></p>\n")
	})
}
