package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/render/email"
)

// DueFinder finds the referrals a sweep must look at.
type DueFinder interface {
	// DueBy calls fn with the id of every referral whose next deadline is on or before day. Its
	// cost grows with the referrals that are due, not with all stored referrals.
	DueBy(ctx context.Context, day calendar.Date, fn func(referralID string) error) error
	// WaitlistCounts returns how many referrals wait in each area.
	WaitlistCounts(ctx context.Context) (map[string]int, error)
}

// Counter records a metric (embedded metric format in production).
type Counter interface {
	Count(name string, value float64, dimensions map[string]string)
}

// Sweep is one run of the reminders schedule (SPEC §6, §7).
type Sweep struct {
	Due      DueFinder
	Notifier *Notifier
	Calendar *calendar.Calendar
	Metrics  Counter
	Log      *slog.Logger
	// ResendAfter is how old an assignment must be before the sweep sends its assignment or
	// acknowledgement email itself: a safety net for stream records that exhausted their
	// retries, late enough never to race the notifier.
	ResendAfter time.Duration
	// Digests sends the area leads' weekly digests (Digests); nil sends none.
	Digests interface {
		Run(ctx context.Context, now time.Time) (sent int, err error)
	}
}

// Summary counts what a run did. It holds no patient data.
type Summary struct {
	Due           int            `json:"due"`
	Reminders     int            `json:"reminders"`
	Escalations   int            `json:"escalations"`
	Resent        int            `json:"resent"`
	Held          int            `json:"held"` // claimed by an overlapping run
	Failed        int            `json:"failed"`
	Overdue       int            `json:"overdue"`
	OverdueByArea map[string]int `json:"overdueByArea,omitempty"`
	Waitlisted    int            `json:"waitlisted"`
	DigestsSent   int            `json:"digestsSent"`
	LeadCopies    int            `json:"leadCopies"` // of emails to specialists whose address bounces
	OutcomeChecks int            `json:"outcomeChecks"`
	Settled       int            `json:"settled"` // nothing more to send: any outcome-check Due entry removed
}

// Run sweeps as of now, the scheduled event's time. Failing to send one email does not stop the
// others; the run then returns an error so the failure is alarmed and the schedule retries (the
// notification records keep retries from sending anything twice). A date beyond the calendar's
// years stops the run at once: it never guesses a working day.
func (s *Sweep) Run(ctx context.Context, now time.Time) (Summary, error) {
	sum := Summary{OverdueByArea: map[string]int{}}
	today := calendar.DateOf(now)
	_, last := s.Calendar.Covers()
	s.Metrics.Count("CalendarYearsLeft", float64(last-today.Year), nil)
	horizon, err := s.Calendar.NextWorkingDay(today)
	if err != nil {
		s.Metrics.Count("CalendarErrors", 1, nil)
		return sum, fmt.Errorf("reminders sweep: %w", err)
	}
	err = s.Due.DueBy(ctx, horizon, func(id string) error {
		sum.Due++
		return s.referral(ctx, id, now, today, &sum)
	})
	if errors.Is(err, calendar.ErrOutOfRange) {
		s.Metrics.Count("CalendarErrors", 1, nil)
	}
	if err != nil {
		return sum, fmt.Errorf("reminders sweep: %w", err)
	}
	waiting, err := s.Due.WaitlistCounts(ctx)
	if err != nil {
		return sum, fmt.Errorf("reminders sweep: waitlist: %w", err)
	}
	for area, n := range waiting {
		sum.Waitlisted += n
		s.Metrics.Count("WaitlistedReferrals", float64(n), map[string]string{"Area": area})
	}
	var digestErr error
	if s.Digests != nil {
		sum.DigestsSent, digestErr = s.Digests.Run(ctx, now)
		if digestErr != nil {
			// Its errors name areas and kinds, never patient data.
			s.Log.ErrorContext(ctx, "lead digests failed", slog.String("error", digestErr.Error()))
		}
	}
	for area, n := range sum.OverdueByArea {
		s.Metrics.Count("OverdueReferrals", float64(n), map[string]string{"Area": area})
	}
	s.Metrics.Count("OverdueReferrals", float64(sum.Overdue), nil)
	s.Metrics.Count("WaitlistedReferrals", float64(sum.Waitlisted), nil)
	s.Metrics.Count("RemindersSent", float64(sum.Reminders), nil)
	s.Metrics.Count("EscalationsSent", float64(sum.Escalations), nil)
	s.Metrics.Count("DigestsSent", float64(sum.DigestsSent), nil)
	s.Metrics.Count("OutcomeChecksSent", float64(sum.OutcomeChecks), nil)
	s.Log.InfoContext(ctx, "reminders sweep", slog.String("today", today.String()), slog.Any("summary", sum))
	if sum.Failed > 0 {
		return sum, fmt.Errorf("reminders sweep: %d emails failed (they are retried by the next run)", sum.Failed)
	}
	if digestErr != nil {
		return sum, fmt.Errorf("reminders sweep: %w", digestErr)
	}
	return sum, nil
}

// referral handles one due referral: re-read, decide, send, and take it off the Due index once
// nothing more is to be sent for it.
func (s *Sweep) referral(ctx context.Context, id string, now time.Time, today calendar.Date, sum *Summary) error {
	r, sent, err := s.Notifier.Store.Load(ctx, id)
	if referral.ErrorCode(err) == referral.CodeNotFound {
		return nil // deleted since the index was read
	}
	if err != nil {
		return err
	}
	done := kindsSent(sent)
	kinds, err := RemindersDue(r, done, today, s.Calendar)
	if err != nil {
		return err
	}
	for _, d := range OpenDeadlines(r) {
		if today.After(d.By) {
			sum.Overdue++
			sum.OverdueByArea[r.Area]++
			break
		}
	}
	var notices []Notice
	if now.Sub(assignedAt(r)) >= s.ResendAfter {
		for _, n := range Due(r) {
			if !sent[n] {
				notices = append(notices, n)
			}
		}
	}
	for _, k := range kinds {
		notices = append(notices, Notice{Kind: k})
	}
	s.forgetUnowed(ctx, r, sent, kinds)
	notifier := s.Notifier.oneReferral()
	for _, notice := range notices {
		copyOf, err := notifier.LeadCopy(ctx, r, notice, sent)
		if err == nil && copyOf != nil {
			err = notifier.Send(ctx, r, *copyOf)
		}
		if (copyOf != nil || err != nil) && !s.count(ctx, r.ID, Notice{Kind: notice.Kind, Audience: email.AudienceLead}, err, sum) {
			continue // the original waits for its copy: the next run sends both
		}
		err = notifier.Send(ctx, r, notice)
		s.count(ctx, r.ID, notice, err, sum)
		if err == nil && notice.Audience == "" {
			done[notice.Kind] = true // sent, now or before
		}
	}
	if settled(r, done) {
		if err := s.Notifier.Store.ClearOutcomeCheck(ctx, r); err != nil {
			// Nothing is lost: it stays due, and the next run settles it again.
			s.Log.ErrorContext(ctx, "settle failed", slog.String("referralId", r.ID), slog.String("error", err.Error()))
			return nil
		}
		sum.Settled++
	}
	return nil
}

// forgetUnowed ends the Due entries of r's held notices that r no longer owes (its state moved on
// while they were held: an assignment of a referral since withdrawn, a reminder whose deadline was
// met), so they stop bringing r to the sweep. Owed are Due(r), whether or not ResendAfter lets
// this run send them, the reminder kinds due today, and the lead's copies of those still unsent (a
// copy only ever goes with its original). A failure is logged: the entry stays, and the next run
// tries again.
func (s *Sweep) forgetUnowed(ctx context.Context, r referral.Referral, sent map[Notice]bool, reminders []email.Kind) {
	owed, copied := map[Notice]bool{}, map[email.Kind]bool{}
	for _, n := range Due(r) {
		owed[n], copied[n.Kind] = true, copied[n.Kind] || !sent[n]
	}
	for _, k := range reminders {
		owed[Notice{Kind: k}], copied[k] = true, true
	}
	for n, done := range sent {
		if done || owed[n] || (n.Audience == email.AudienceLead && copied[n.Kind]) {
			continue
		}
		if err := s.Notifier.Store.Forget(ctx, r.ID, n); err != nil {
			s.Log.ErrorContext(ctx, "forget failed", slog.String("referralId", r.ID), slog.String("kind", n.String()), slog.String("error", err.Error()))
		}
	}
}

// count adds one send's outcome to the summary, logging a failure without patient data. It
// reports whether the email went or may have gone.
func (s *Sweep) count(ctx context.Context, referralID string, notice Notice, err error, sum *Summary) bool {
	kind := notice.Kind
	switch {
	case errors.Is(err, ErrClaimHeld), errors.Is(err, ErrOutcomePending):
		sum.Held++
		return errors.Is(err, ErrOutcomeUnknown)
	case err != nil:
		sum.Failed++
		s.Log.ErrorContext(ctx, "reminder failed", slog.String("referralId", referralID), slog.String("kind", notice.String()), slog.String("error", err.Error()))
		return errors.Is(err, ErrOutcomeUnknown)
	case notice.Audience == email.AudienceLead:
		sum.LeadCopies++
	case kind == email.ContactOverdue || kind == email.MeetingOverdue:
		sum.Escalations++
	case kind == email.ContactReminder || kind == email.MeetingReminder:
		sum.Reminders++
	case kind == email.OutcomeCheck:
		sum.OutcomeChecks++
	default:
		sum.Resent++
	}
	return true
}

// kindsSent is the kinds sent to their one recipient (the kinds reminders are about).
func kindsSent(sent map[Notice]bool) map[email.Kind]bool {
	out := map[email.Kind]bool{}
	for n, ok := range sent {
		if ok && n.Audience == "" {
			out[n.Kind] = true
		}
	}
	return out
}

// assignedAt is when r was last assigned (from its audit history), or when it was received.
func assignedAt(r referral.Referral) time.Time {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Type == referral.EventAssigned {
			return r.Events[i].At
		}
	}
	return r.ReceivedAt
}
