package web

import (
	"io"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// ConfirmationPage is what the referrer sees once a referral is stored: the reference, the area
// and the deadlines. It carries no patient data.
type ConfirmationPage struct {
	Receipt  referral.Receipt
	AreaName string // the area's name for people ("South Yorkshire"); Receipt.Area is used if empty
}

type confirmationView struct {
	layout
	Reference  string
	AreaName   string
	Waitlisted bool
	ContactBy  string // YYYY-MM-DD, written out by write
	MeetBy     string
}

// RenderConfirmation writes the confirmation page. A waitlisted referral's dates are not shown:
// they are set again from the day it is assigned (SPEC §6).
func RenderConfirmation(w io.Writer, p ConfirmationPage) error {
	v := confirmationView{
		Reference:  p.Receipt.ReferralID,
		AreaName:   p.AreaName,
		Waitlisted: p.Receipt.Status == referral.StatusWaitlisted,
		ContactBy:  p.Receipt.ContactBy,
		MeetBy:     p.Receipt.MeetBy,
	}
	if v.AreaName == "" {
		v.AreaName = p.Receipt.Area
	}
	v.Title = "Referral sent"
	return writePage(w, "confirmation.html", v.layout, v.write)
}

func (v confirmationView) write(m *markup) {
	m.raw(`
          <div class="nhsuk-panel">
            <h1 class="nhsuk-panel__heading">Referral sent</h1>
            <div class="nhsuk-panel__body">
              Your reference number<br><strong>`)
	m.text(v.Reference)
	m.raw(`</strong>
            </div>
          </div>

          <dl class="nhsuk-summary-list">`)
	row := func(key, value string) {
		m.raw("\n            <div class=\"nhsuk-summary-list__row\">\n              <dt class=\"nhsuk-summary-list__key\">", key,
			"</dt>\n              <dd class=\"nhsuk-summary-list__value\">")
		m.wrap("", value, "</dd>\n            </div>")
	}
	row("Reference number", v.Reference)
	row("Area", v.AreaName)
	if v.Waitlisted {
		row("Status", "On the waiting list")
	} else {
		row("Patient contacted by", LongDate(v.ContactBy))
		row("First meeting by", LongDate(v.MeetBy))
	}
	m.raw(`
          </dl>

          <h2>What happens next</h2>`)
	if v.Waitlisted {
		m.wrap("\n          <p>All the employment specialists in ", v.AreaName, "")
		m.raw(` have full caseloads at the moment, so the referral is on the area's waiting list. The area lead has been told.</p>
          <p>The referral will go to the next employment specialist who has space. Waiting referrals are taken in the order they were received.</p>
          <p>The deadlines to contact and meet the patient will be set from the day a specialist takes the referral.</p>`)
	} else {
		m.wrap("\n          <p>The referral has gone to an employment specialist in ", v.AreaName, ".</p>\n          <p>They will contact the patient by ")
		m.wrap("", LongDate(v.ContactBy), ", using the contact method the patient prefers, and meet them by ")
		m.wrap("", LongDate(v.MeetBy), " to start looking for work together.</p>")
	}
	m.raw(`
          <p>We will send confirmation of this referral to your NHS email address.</p>
          <p>Let the patient know to expect a phone call or email from an employment specialist.</p>
          <p>Keep the reference number. Give it if you or the patient contact the service about this referral.</p>

          <p><a href="/">Refer another patient</a></p>
`)
}
