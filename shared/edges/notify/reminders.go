package notify

import (
	"fmt"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/render/email"
)

// Deadline is one deadline still to meet.
type Deadline struct {
	Reminder, Overdue email.Kind
	By                calendar.Date
}

// OpenDeadlines lists the deadlines r still has to meet: contact until contact is recorded, the
// meeting until one is. A waitlisted or closed referral has none (its clock has not started, or
// has stopped).
func OpenDeadlines(r referral.Referral) []Deadline {
	var out []Deadline
	switch r.Status {
	case referral.StatusAssigned:
		out = append(out, Deadline{email.ContactReminder, email.ContactOverdue, r.ContactBy})
		fallthrough
	case referral.StatusContacted:
		out = append(out, Deadline{email.MeetingReminder, email.MeetingOverdue, r.MeetBy})
	}
	return out
}

// RemindersDue returns the reminder, escalation and outcome-check emails r calls for on day today
// (SPEC §7, §11): a reminder from the working day before a deadline until the deadline itself, if
// not yet sent; an escalation on any day after the deadline, if not yet sent (then a late reminder
// is pointless and is not sent); the outcome check from 16 weeks after the first job start while
// no outcome is recorded, if not yet sent. Each is sent at most once per referral: sent says what
// has been. A date outside the calendar's years is an error, never a guess.
func RemindersDue(r referral.Referral, sent map[email.Kind]bool, today calendar.Date, cal *calendar.Calendar) ([]email.Kind, error) {
	var due []email.Kind
	for _, d := range OpenDeadlines(r) {
		if today.After(d.By) {
			if !sent[d.Overdue] {
				due = append(due, d.Overdue)
			}
			continue
		}
		remindFrom, err := cal.PreviousWorkingDay(d.By)
		if err != nil {
			return nil, fmt.Errorf("reminder date for %s: %w", r.ID, err)
		}
		if !today.Before(remindFrom) && !sent[d.Reminder] {
			due = append(due, d.Reminder)
		}
	}
	if by, ok := outcomeCheckDue(r); ok && !today.Before(by) && !sent[email.OutcomeCheck] {
		due = append(due, email.OutcomeCheck)
	}
	return due, nil
}

// outcomeCheckDue is the day r's outcome check falls due while it waits for one (SPEC §11): in
// work, with no job outcome recorded yet.
func outcomeCheckDue(r referral.Referral) (calendar.Date, bool) {
	if r.Status != referral.StatusInWork {
		return calendar.Date{}, false
	}
	return r.OutcomeCheckDue()
}

// settled reports whether the sweep has nothing more to send for r, ever, unless its state
// changes: no deadline is open and no outcome check is to come (sent says what has been sent).
// A settled referral may leave the Due index, so the sweep's cost stays with what is due.
func settled(r referral.Referral, sent map[email.Kind]bool) bool {
	_, awaiting := outcomeCheckDue(r)
	return len(OpenDeadlines(r)) == 0 && (!awaiting || sent[email.OutcomeCheck])
}
