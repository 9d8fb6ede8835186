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
	ContactBy  string // YYYY-MM-DD, written out by the template
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
	return render(w, confirmationTemplate(), v)
}
