package notify

import (
	"errors"
	"slices"
	"testing"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/render/email"
)

func date(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRemindersDue(t *testing.T) {
	t.Parallel()
	cal := calendar.Embedded()
	tests := []struct {
		name      string
		status    referral.Status
		contactBy string
		meetBy    string
		today     string
		sent      []email.Kind
		want      []email.Kind
	}{
		{name: "two working days before: nothing", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-11-23"},
		{name: "working day before contact: reminder", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-11-24",
			want: []email.Kind{email.ContactReminder}},
		{name: "reminder already sent", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-11-24",
			sent: []email.Kind{email.ContactReminder}},
		{name: "deadline day, reminder missed earlier: late reminder", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-11-25",
			want: []email.Kind{email.ContactReminder}},
		{name: "day after deadline: escalation, no late reminder", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-11-26",
			want: []email.Kind{email.ContactOverdue}},
		{name: "escalation only once", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-11-30",
			sent: []email.Kind{email.ContactReminder, email.ContactOverdue}},
		{name: "contact recorded: no contact emails, meeting reminder in time", status: referral.StatusContacted, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-04",
			want: []email.Kind{email.MeetingReminder}},
		{name: "monday deadline: reminder on friday", status: referral.StatusContacted, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-04",
			want: []email.Kind{email.MeetingReminder}},
		{name: "monday deadline: nothing on thursday", status: referral.StatusContacted, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-03"},
		{name: "never contacted: contact escalation and meeting reminder together", status: referral.StatusAssigned, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-04",
			sent: []email.Kind{email.ContactReminder, email.ContactOverdue}, want: []email.Kind{email.MeetingReminder}},
		{name: "meeting overdue", status: referral.StatusContacted, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-08",
			want: []email.Kind{email.MeetingOverdue}},
		{name: "met: nothing", status: referral.StatusEngaged, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-20"},
		{name: "closed: nothing", status: referral.StatusClosed, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-20"},
		{name: "waitlisted: clock not started", status: referral.StatusWaitlisted, contactBy: "2026-11-25", meetBy: "2026-12-07", today: "2026-12-20"},
		// Received Wed 2026-12-23: contact by Tue 29th (25th, 28th bank holidays); the working day
		// before is Thursday 24th, not Monday 28th.
		{name: "christmas: reminder on 24th", status: referral.StatusAssigned, contactBy: "2026-12-29", meetBy: "2027-01-08", today: "2026-12-24",
			want: []email.Kind{email.ContactReminder}},
		{name: "christmas: nothing on 23rd", status: referral.StatusAssigned, contactBy: "2026-12-29", meetBy: "2027-01-08", today: "2026-12-23"},
		{name: "christmas: bank holiday catch-up is still a reminder", status: referral.StatusAssigned, contactBy: "2026-12-29", meetBy: "2027-01-08", today: "2026-12-28",
			want: []email.Kind{email.ContactReminder}},
		// Meeting Mon 2027-01-04 after New Year's Day (Fri 1st): reminder on Thu 31 December.
		{name: "new year: reminder on 31 December", status: referral.StatusContacted, contactBy: "2026-12-22", meetBy: "2027-01-04", today: "2026-12-31",
			want: []email.Kind{email.MeetingReminder}},
		{name: "new year: nothing on 30 December", status: referral.StatusContacted, contactBy: "2026-12-22", meetBy: "2027-01-04", today: "2026-12-30"},
		{name: "weekend run after a friday deadline: escalation", status: referral.StatusAssigned, contactBy: "2026-11-27", meetBy: "2026-12-09", today: "2026-11-28",
			want: []email.Kind{email.ContactOverdue}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := referral.Referral{ID: "R-7K3M9QX2", Status: tt.status, ContactBy: date(t, tt.contactBy), MeetBy: date(t, tt.meetBy)}
			sent := map[email.Kind]bool{}
			for _, k := range tt.sent {
				sent[k] = true
			}
			got, err := RemindersDue(r, sent, date(t, tt.today), cal)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("RemindersDue = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRemindersDueOutsideTheCalendarFails(t *testing.T) {
	t.Parallel()
	r := referral.Referral{ID: "R-7K3M9QX2", Status: referral.StatusAssigned, ContactBy: date(t, "2031-01-06"), MeetBy: date(t, "2031-01-20")}
	_, err := RemindersDue(r, nil, date(t, "2031-01-03"), calendar.Embedded())
	if !errors.Is(err, calendar.ErrOutOfRange) {
		t.Fatalf("err = %v, want calendar.ErrOutOfRange: never guess a working day", err)
	}
}

// The emailed event's Detail is the email kind's name; the Due index stops looking for an outcome
// check once an event with referral.OutcomeCheckNotice is on the referral.
func TestOutcomeCheckNoticeIsTheEmailKind(t *testing.T) {
	if string(email.OutcomeCheck) != referral.OutcomeCheckNotice || eventType(email.OutcomeCheck) != referral.EventEmailed {
		t.Errorf("email kind %q (event %s), domain notice %q", email.OutcomeCheck, eventType(email.OutcomeCheck), referral.OutcomeCheckNotice)
	}
}
