package email

import (
	"fmt"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// Example returns a complete message of kind about a fictional patient, as the notifier would
// build it: for previews, documentation and other packages' tests.
func Example(kind Kind) (Message, error) {
	m := Message{
		Kind:             kind,
		ReferralID:       "R-7K3M9QX2",
		PatientGivenName: "Sam",
		PatientInitial:   "T",
		AreaName:         "South Yorkshire",
		PreferredContact: "phone",
		ContactBy:        calendar.Date{Year: 2026, Month: 11, Day: 25},
		MeetBy:           calendar.Date{Year: 2026, Month: 12, Day: 8},
	}
	const link = "https://referrals.example.org/referrals/R-7K3M9QX2?token=AQAAAABrK5SYc3At"
	switch kind {
	case Assignment, ContactReminder, MeetingReminder:
		m.To, m.RecipientName, m.Link = []string{"alex.morgan@example.org"}, "Alex Morgan", link
	case Acknowledgement:
		m.To, m.RecipientName, m.Status = []string{"priya.shah@nhs.net"}, "Dr Priya Shah", StatusAssigned
		m.Link = "https://referrals.example.org/referrals/R-7K3M9QX2/status?token=AgAAAABrK5SYc3At"
	case Waitlisted:
		m.To, m.RecipientName = []string{"lead.south-yorkshire@example.org"}, "Jo Lead"
		m.ContactBy, m.MeetBy = calendar.Date{}, calendar.Date{}
		m.Link = "https://referrals.example.org/areas/south-yorkshire/worklist?token=AwAAAABrK5SYbGVh"
	case ContactOverdue, MeetingOverdue:
		m.To, m.RecipientName = []string{"alex.morgan@example.org"}, "Alex Morgan"
		m.Cc, m.SpecialistName = []string{"lead.south-yorkshire@example.org"}, "Alex Morgan"
		m.Attempts = 2
	case StartedSupport, Closed, Withdrawn:
		m.To, m.RecipientName = []string{"priya.shah@nhs.net"}, "Dr Priya Shah"
		m.PreferredContact, m.ContactBy, m.MeetBy = "", calendar.Date{}, calendar.Date{}
		switch kind {
		case Closed:
			m.Reason = "unreachable"
		case Withdrawn: // the one that must say least: to the specialist
			m.To, m.RecipientName = []string{"alex.morgan@example.org"}, "Alex Morgan"
			m.Reason, m.Audience = "revoked", AudienceSpecialist
		}
	case OutcomeCheck:
		m.To, m.RecipientName, m.Link = []string{"alex.morgan@example.org"}, "Alex Morgan", link
		m.PreferredContact, m.ContactBy, m.MeetBy = "", calendar.Date{}, calendar.Date{}
		m.JobStart = calendar.Date{Year: 2026, Month: 3, Day: 2}
	case BouncingCopy: // the lead's copy of an assignment
		m.To, m.RecipientName = []string{"lead.south-yorkshire@example.org"}, "Jo Lead"
		m.SpecialistName, m.CopyOf, m.PreferredContact = "Alex Morgan", Assignment, ""
		m.Link = "https://referrals.example.org/areas/south-yorkshire/worklist?token=AwAAAABrK5SYbGVh"
	default:
		return m, fmt.Errorf("%w: no example for kind %q", ErrInvalidMessage, kind)
	}
	return m, nil
}
