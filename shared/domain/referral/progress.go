package referral

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Action is something a specialist records through the signed link in their email (SPEC §4).
type Action string

const (
	ActionContact Action = "contact" // the patient has been contacted
	ActionMeeting Action = "meeting" // the first meeting has taken place
	ActionClose   Action = "close"   // the referral is closed, with a reason
	ActionAttempt Action = "attempt" // a contact attempt, with its method (SPEC §9)
	// SPEC §9's outcomes, each with its fields.
	ActionEmployerContact Action = "employer-contact" // an employer contacted for the patient (date)
	ActionJobStart        Action = "job-start"        // a job started (startDate, hoursPerWeek, selfEmployed)
	ActionOutcome         Action = "outcome"          // whether the job was sustained (sustained)
)

// Actions lists the actions in the order a referral usually goes through them.
var Actions = []Action{ActionAttempt, ActionContact, ActionMeeting, ActionEmployerContact, ActionJobStart, ActionOutcome, ActionClose}

// The form fields of the outcome actions (SPEC §4), which field errors name.
const (
	DateField         = "date"
	StartDateField    = "startDate"
	HoursPerWeekField = "hoursPerWeek"
	SelfEmployedField = "selfEmployed"
	SustainedField    = "sustained"
)

// ViaSignedLink is the channel recorded on events made through a specialist's signed link.
const ViaSignedLink = "signed-link"

// ReasonField is the field a missing or unknown close reason is reported on.
const ReasonField = "reason"

// MethodField is the field a missing or unknown contact-attempt method is reported on.
const MethodField = "method"

// ErrChanged is returned by a ProgressStore when the referral is no longer in the status, or with
// the specialist, it had when it was read: someone else changed it in between. Progress reads it
// again and decides afresh.
var ErrChanged = errors.New("referral changed since it was read")

// ProgressStore is what recording progress needs of storage. Each write is conditional on the
// referral still having the Status and SpecialistID of r as read (Close: any open status and the
// same specialist), and appends e to its events; when the condition fails it returns ErrChanged
// and writes nothing.
//
//   - RecordContact: status contacted, contactedAt = e.At, the next deadline becomes meetBy.
//   - RecordMeeting: status engaged, metAt = e.At (contactedAt too if unset), no deadline left.
//   - Close: status closed, closedAt = e.At, closeReason = e.Detail, no deadline left, and the
//     capacity the patient's open case holds is released when it was their last open referral
//     in the area.
//
// Get returns a not-found *Error when there is no such referral.
type ProgressStore interface {
	Get(ctx context.Context, id string) (Referral, error)
	RecordContact(ctx context.Context, r Referral, t Transition) error
	RecordMeeting(ctx context.Context, r Referral, t Transition) error
	// RecordAttempt appends e (a contact attempt) and changes nothing else.
	RecordAttempt(ctx context.Context, r Referral, t Transition) error
	// RecordEmployerContact, RecordJobStart and RecordOutcome store t's event and status, on the
	// further condition that r's history is as read (so a repeat racing the first is refused and
	// re-read, then found already recorded). The outcome check is due while
	// t.Referral.OutcomeCheckDue says so.
	RecordEmployerContact(ctx context.Context, r Referral, t Transition) error
	RecordJobStart(ctx context.Context, r Referral, t Transition) error
	RecordOutcome(ctx context.Context, r Referral, t Transition) error
	Close(ctx context.Context, r Referral, t Transition) error
}

// Drainer assigns an area's waitlisted referrals to freed capacity (SPEC §5).
type Drainer interface {
	Drain(ctx context.Context, areaID string) error
}

// DrainFunc adapts a function to Drainer.
type DrainFunc func(ctx context.Context, areaID string) error

// Drain calls f.
func (f DrainFunc) Drain(ctx context.Context, areaID string) error { return f(ctx, areaID) }

// Progress records what specialists do with their referrals, and shows them the referral.
// Callers have already checked the signed link: SpecialistID is who it was issued to.
type Progress struct {
	Store ProgressStore
	// Drain, if set, is called after every close, so freed capacity goes to the area's waitlist.
	Drain Drainer
	Now   func() time.Time
}

// ActionRequest is one action posted through a signed link.
type ActionRequest struct {
	ReferralID   string
	SpecialistID string
	Action       Action
	Reason       string // close only: one of CloseReasons
	Method       string // attempt only: one of ContactAttemptMethods
	Date         string // employer-contact: YYYY-MM-DD, empty for today
	StartDate    string // job-start: YYYY-MM-DD
	HoursPerWeek string // job-start: a whole number from 1 to 80, as typed
	SelfEmployed string // job-start: yes or no
	Sustained    string // outcome: yes or no
}

// Recorded is the result of an action.
type Recorded struct {
	// Referral is the referral as it now is. It is also set when the action failed with a field
	// error, so the page can be shown again with the error.
	Referral Referral
	// AlreadyRecorded is true when the action had already been recorded: nothing was written.
	AlreadyRecorded bool
	// DrainErr is a failure to drain the waitlist after a close. The close itself is done, so it is
	// for the log, not for the specialist.
	DrainErr error
}

// maxProgressAttempts bounds the re-reads when concurrent changes keep beating an action's write.
const maxProgressAttempts = 4

// View returns the referral for the specialist the link was issued to: a not-found *Error when
// it does not exist, a forbidden one when it is not (or no longer) theirs. It never writes.
func (p *Progress) View(ctx context.Context, id, specialistID string) (Referral, error) {
	r, err := p.Store.Get(ctx, id)
	if err != nil {
		return Referral{}, unavailable("read referral", err)
	}
	if err := owns(r, specialistID); err != nil {
		return Referral{}, err
	}
	return r, nil
}

// Record applies an action. Repeating an action answers AlreadyRecorded, not an error (mail
// systems and double clicks repeat requests). Errors are *Error, checked in this order: not found;
// forbidden (the referral is not the specialist's); conflict (contact or meeting on a referral
// closed without them); invalid (a close, still possible, without a known reason); unavailable.
func (p *Progress) Record(ctx context.Context, req ActionRequest) (Recorded, error) {
	if !slices.Contains(Actions, req.Action) {
		return Recorded{}, Errorf(CodeNotFound, "Page not found")
	}
	var lastErr error
	for range maxProgressAttempts {
		r, err := p.View(ctx, req.ReferralID, req.SpecialistID)
		if err != nil {
			return Recorded{}, err
		}
		t, err := Apply(r, req.command(), p.Now())
		if err != nil {
			return Recorded{Referral: r}, err
		}
		if t.AlreadyRecorded {
			// A repeated close is already recorded whatever reason it carries.
			return Recorded{Referral: r, AlreadyRecorded: true}, nil
		}
		switch req.Action {
		case ActionContact:
			err = p.Store.RecordContact(ctx, r, t)
		case ActionMeeting:
			err = p.Store.RecordMeeting(ctx, r, t)
		case ActionAttempt:
			err = p.Store.RecordAttempt(ctx, r, t)
		case ActionEmployerContact:
			err = p.Store.RecordEmployerContact(ctx, r, t)
		case ActionJobStart:
			err = p.Store.RecordJobStart(ctx, r, t)
		case ActionOutcome:
			err = p.Store.RecordOutcome(ctx, r, t)
		case ActionClose:
			err = p.Store.Close(ctx, r, t)
		}
		if errors.Is(err, ErrChanged) {
			lastErr = err
			continue // someone else changed it: read again and decide afresh
		}
		if err != nil {
			return Recorded{}, unavailable(string(req.Action)+" "+r.ID, err)
		}
		out := Recorded{Referral: t.Referral}
		r = t.Referral
		if req.Action == ActionClose && p.Drain != nil {
			if err := p.Drain.Drain(ctx, r.Area); err != nil {
				out.DrainErr = fmt.Errorf("drain waitlist of %s after closing %s: %w", r.Area, r.ID, err)
			}
		}
		return out, nil
	}
	return Recorded{}, unavailable(string(req.Action)+" "+req.ReferralID,
		fmt.Errorf("gave up after %d attempts: %w", maxProgressAttempts, lastErr))
}

// owns checks the referral is assigned to specialistID now. A waitlisted referral belongs to
// nobody, so no link opens it.
func owns(r Referral, specialistID string) error {
	if r.SpecialistID == "" || r.SpecialistID != specialistID {
		return Errorf(CodeForbidden, "This referral is not assigned to you")
	}
	return nil
}

var kindOf = map[Action]Kind{ActionAttempt: KindAttempt, ActionContact: KindContact, ActionMeeting: KindMeeting, ActionClose: KindClose,
	ActionEmployerContact: KindEmployerContact, ActionJobStart: KindJobStart, ActionOutcome: KindOutcome}

// command is the transition function's command for req.
func (req ActionRequest) command() Command {
	c := Command{Kind: kindOf[req.Action], Actor: ActorSpecialist, By: req.SpecialistID, Via: ViaSignedLink, Reason: req.Reason, Method: req.Method,
		Date: req.Date, StartDate: req.StartDate, SelfEmployed: req.SelfEmployed, Sustained: req.Sustained}
	// Anything but a whole number (empty, "x", "7.5") is 0, which the 1–80 rule refuses by name.
	if n, err := strconv.Atoi(strings.TrimSpace(req.HoursPerWeek)); err == nil {
		c.HoursPerWeek = n
	}
	return c
}

// FirstEvent returns the earliest event of the given type in r's history: when contact was
// recorded (EventContacted), the first meeting (EventMet), and so on.
func (r Referral) FirstEvent(eventType string) (Event, bool) {
	for _, e := range r.Events {
		if e.Type == eventType {
			return e, true
		}
	}
	return Event{}, false
}

// LastEvent returns the latest event of the given type in r's history: the close that holds
// (EventClosed) and its reason, for instance.
func (r Referral) LastEvent(eventType string) (Event, bool) {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Type == eventType {
			return r.Events[i], true
		}
	}
	return Event{}, false
}
