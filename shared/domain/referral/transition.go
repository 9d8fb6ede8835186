package referral

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// Actor is who causes an event (SPEC §9): a specialist, the referrer or the area lead through
// their signed link, or the system (intake, stream, schedule).
type Actor string

const (
	ActorSpecialist Actor = "specialist"
	ActorReferrer   Actor = "referrer"
	ActorLead       Actor = "lead"
	ActorSystem     Actor = "system"
)

// Kind names an event of SPEC §9's table (plus intake's routing and the waitlist's assignment).
type Kind string

const (
	KindReceive         Kind = "receive"          // intake routes a new referral
	KindAssign          Kind = "assign"           // the waitlist drain gives it to a specialist with room
	KindAttempt         Kind = "attempt"          // a contact attempt
	KindContact         Kind = "contact"          // the patient was reached
	KindMeeting         Kind = "meeting"          // the first meeting was held
	KindEmployerContact Kind = "employer-contact" // an employer was contacted for the patient
	KindJobStart        Kind = "job-start"        // the patient started a job
	KindOutcome         Kind = "outcome"          // whether the job was sustained
	KindClose           Kind = "close"            // support ended, with a reason
	KindWithdraw        Kind = "withdraw"         // the referrer withdrew it
	KindReassign        Kind = "reassign"         // the lead moved it to another specialist
	KindTransfer        Kind = "transfer"         // the lead moved it to another area
)

// Kinds lists every event kind, in table order.
var Kinds = []Kind{KindReceive, KindAssign, KindAttempt, KindContact, KindMeeting, KindEmployerContact,
	KindJobStart, KindOutcome, KindClose, KindWithdraw, KindReassign, KindTransfer}

// causedBy is SPEC §9's "by" column.
var causedBy = map[Kind]Actor{
	KindReceive: ActorSystem, KindAssign: ActorSystem, KindAttempt: ActorSpecialist, KindContact: ActorSpecialist,
	KindMeeting: ActorSpecialist, KindEmployerContact: ActorSpecialist, KindJobStart: ActorSpecialist,
	KindOutcome: ActorSpecialist, KindClose: ActorSpecialist, KindWithdraw: ActorReferrer,
	KindReassign: ActorLead, KindTransfer: ActorLead,
}

// Command is one event asked of a referral. Only the fields its Kind uses are read.
type Command struct {
	Kind  Kind
	Actor Actor
	By    string // recorded as the audit event's By: a specialist id, "referrer", a lead, or System
	Via   string // api, form, signed-link, stream, schedule

	Method       string // attempt: one of ContactAttemptMethods
	Reason       string // close: CloseReasons; withdraw: WithdrawReasons
	Date         string // employer contact: YYYY-MM-DD
	StartDate    string // job start: YYYY-MM-DD
	HoursPerWeek int    // job start: 1–80
	SelfEmployed string // job start: yes or no
	Sustained    string // outcome: yes or no
	Specialist   string // reassign: the new specialist's id
	Area         string // transfer: the new area (the edge routes the new postcode)
	Postcode     string // transfer: the patient's new normalised postcode

	// Candidates are the specialists of the area the referral goes to (receive, assign, transfer)
	// or of its area (reassign), with their caseloads as read.
	Candidates []Candidate
	// ReReferral is set when the patient already has an open case in the area (receive): the
	// referral then joins it, with OpenCase's specialist or on the waitlist, and takes no capacity
	// (SPEC §5).
	ReReferral bool
	// OpenCase is the specialist holding the patient's open case in the area, if any: a new or
	// waitlisted referral goes to them and takes no capacity.
	OpenCase string
	// SharesOpenCase is true when another open referral of the patient in the area shares this
	// one's caseload unit: ending this one then frees nothing.
	SharesOpenCase bool
	// Deadlines computes contactBy and meetBy for an assignment at the command's time.
	Deadlines DeadlinesFunc
}

// Caseload is a transition's effect on specialists' caseloads: one unit released by Release, one
// taken by Take (each empty for none). The store conditions Take on the caseload staying below
// capacity.
type Caseload struct {
	Release string
	Take    string
}

// Transition is what one accepted event does: the referral as it now is, the one audit event it
// appends, its caseload effect, and whether the deadlines were set afresh. AlreadyRecorded means
// the event had already happened: nothing changes and Event is zero.
type Transition struct {
	From             Status
	Referral         Referral
	Event            Event
	Caseload         Caseload
	DeadlinesChanged bool
	// FreesCapacity is true when the area's waitlist should be drained afterwards.
	FreesCapacity   bool
	AlreadyRecorded bool
	// Erased is true when the event removed the patient's personal data (a withdraw as
	// entered-in-error): Referral holds what is left, and the store keeps nothing more.
	Erased bool
}

// ErrNoRoom is the refusal of an assignment from the waitlist when no specialist has room.
var ErrNoRoom = Errorf(CodeConflict, "No specialist in this area has room")

// Words says a status in plain words for referrers and specialists.
func (s Status) Words() string {
	switch s {
	case StatusWaitlisted:
		return "waiting for an employment specialist to have room"
	case StatusAssigned:
		return "with an employment specialist, who has not yet reached the patient"
	case StatusContacted:
		return "the employment specialist has reached the patient"
	case StatusEngaged:
		return "the patient has met the employment specialist and support has started"
	case StatusInWork:
		return "the patient has started work and in-work support continues"
	case StatusClosed:
		return "closed"
	case StatusWithdrawn:
		return "withdrawn"
	}
	return "not yet received"
}

// holdsUnit reports whether a referral in status s counts towards its specialist's caseload.
func (s Status) holdsUnit() bool { return s.Open() && s != StatusWaitlisted }

// Reassignable reports whether a lead may reassign a referral in status s (SPEC §9's table);
// Apply decides by it, and the lead's worklist offers the action by it.
func (s Status) Reassignable() bool { return s.holdsUnit() }

// Transferable reports whether a lead may transfer a referral in status s to another area
// (SPEC §9's table); Apply decides by it, and the lead's worklist offers the action by it.
func (s Status) Transferable() bool {
	return s == StatusWaitlisted || s == StatusAssigned || s == StatusContacted
}

// Apply is the referral's one transition function (SPEC §9). It never writes: the caller stores
// the Transition conditioned on r as read. Refusals are *Error: forbidden (wrong actor), conflict
// (not allowed from r's status; the message names it in plain words), invalid (a field, named).
func Apply(r Referral, c Command, now time.Time) (Transition, error) {
	want, ok := causedBy[c.Kind]
	if !ok {
		return Transition{}, Errorf(CodeNotFound, "Page not found")
	}
	if c.Actor != want {
		return Transition{}, Errorf(CodeForbidden, "This link cannot be used for that")
	}
	t := Transition{From: r.Status, Referral: r}
	t.Referral.Events = slices.Clip(r.Events)
	e := Event{At: now.UTC(), By: c.By, Via: c.Via}
	if e.By == "" {
		e.By = string(c.Actor)
	}
	next := &t.Referral
	already := func() (Transition, error) {
		return Transition{From: r.Status, Referral: r, AlreadyRecorded: true}, nil
	}
	refuse := func() (Transition, error) { return Transition{}, notAllowed(r.Status, c.Kind) }
	happened := func(types ...string) bool {
		for _, ty := range types {
			if _, ok := r.FirstEvent(ty); ok {
				return true
			}
		}
		return false
	}

	switch c.Kind {
	case KindReceive:
		if r.Status != "" {
			return already()
		}
		if c.ReReferral || c.OpenCase != "" {
			next.Status, next.SpecialistID, next.ReReferral = StatusAssigned, c.OpenCase, true
			e.Type, e.Detail = EventAssigned, "re-referral"
			if c.OpenCase == "" {
				next.Status, e.Type = StatusWaitlisted, EventWaitlisted
			}
			break
		}
		if err := assignTo(&t, &e, c, now); errors.Is(err, ErrNoRoom) {
			next.Status, next.SpecialistID = StatusWaitlisted, ""
			e.Type = EventWaitlisted
		} else if err != nil {
			return Transition{}, err
		}
	case KindAssign:
		if r.Status != StatusWaitlisted {
			if r.Status == StatusAssigned || r.Status.holdsUnit() {
				return already()
			}
			return refuse()
		}
		if err := assignTo(&t, &e, c, now); err != nil {
			return Transition{}, err
		}
	case KindAttempt:
		if r.Status != StatusAssigned {
			return refuse()
		}
		if !slices.Contains(ContactAttemptMethods, c.Method) {
			return Transition{}, fieldError(MethodField, "Select how you tried to contact the patient")
		}
		e.Type, e.Detail = EventAttempted, c.Method
	case KindContact:
		switch {
		case r.Status == StatusAssigned:
			next.Status, e.Type = StatusContacted, EventContacted
		case r.Status == StatusContacted || r.Status == StatusEngaged || r.Status == StatusInWork:
			return already()
		case r.Status.Terminal() && happened(EventContacted, EventMet):
			return already()
		default:
			return refuse()
		}
	case KindMeeting:
		switch {
		case r.Status == StatusAssigned || r.Status == StatusContacted:
			next.Status, e.Type = StatusEngaged, EventMet
		case r.Status == StatusEngaged || r.Status == StatusInWork:
			return already()
		case r.Status.Terminal() && happened(EventMet):
			return already()
		default:
			return refuse()
		}
	case KindEmployerContact:
		if c.Date == "" {
			c.Date = calendar.DateOf(now).String() // SPEC §4: the date defaults to today
		}
		// The same date again is the same contact repeated (a double click, a resent form).
		if r.hasEvent(EventEmployerContact, c.Date) {
			return already()
		}
		if r.Status != StatusEngaged && r.Status != StatusInWork {
			return refuse()
		}
		if err := pastDate(r, DateField, c.Date, now, "the date you contacted the employer"); err != nil {
			return Transition{}, err
		}
		e.Type, e.Detail = EventEmployerContact, c.Date
	case KindJobStart:
		detail := JobDetail(c.StartDate, c.HoursPerWeek, c.SelfEmployed)
		// The same job again (same start, hours and self-employment) is a repeat; any other job
		// start is a new job, in-work → in-work.
		if r.hasEvent(EventJobStarted, detail) {
			return already()
		}
		if r.Status != StatusEngaged && r.Status != StatusInWork {
			return refuse()
		}
		if err := jobStart(r, c, now); err != nil {
			return Transition{}, err
		}
		// The first job's outcome is then due for a check (Referral.OutcomeCheckDue).
		next.Status, e.Type, e.Detail = StatusInWork, EventJobStarted, detail
	case KindOutcome:
		// One outcome per job: an outcome after the latest job start already answers for it,
		// whatever this one says (as a repeated close is recorded whatever its reason).
		if r.OutcomeRecorded() {
			return already()
		}
		if r.Status != StatusInWork {
			if !happened(EventJobStarted) && r.Status.Open() {
				return Transition{}, Errorf(CodeConflict, "No job start has been recorded for this referral, so there is no job outcome to record yet. Record the job start first: the referral is %s", r.Status.Words())
			}
			return refuse()
		}
		if c.Sustained != "yes" && c.Sustained != "no" {
			return Transition{}, fieldError(SustainedField, "Select whether the patient is still in the job")
		}
		e.Type, e.Detail = EventOutcome, map[string]string{"yes": "sustained", "no": "not-sustained"}[c.Sustained]
	case KindClose, KindWithdraw:
		end := endings[c.Kind]
		switch {
		case end.from(r.Status):
		case r.Status == end.to:
			return already()
		default:
			return refuse()
		}
		if !slices.Contains(end.reasons, c.Reason) {
			return Transition{}, fieldError(ReasonField, end.missing)
		}
		// A withdrawn referral keeps its specialist: they are the one told not to contact the patient.
		next.Status, e.Type, e.Detail = end.to, end.event, c.Reason
		if c.Kind == KindWithdraw && c.Reason == WithdrawEnteredInError {
			// The patient key is a pseudonym of the NHS number: it goes with it.
			next.Submission, next.PatientKey, t.Erased = next.Submission.Minimised(), "", true
		}
		release(&t, c)
	case KindReassign:
		if !r.Status.Reassignable() {
			return refuse()
		}
		if c.Specialist == r.SpecialistID {
			return already()
		}
		to, ok := candidate(c.Candidates, c.Specialist)
		if !ok || !to.Active || to.Caseload >= to.Capacity {
			return Transition{}, fieldError("specialist", "Select a specialist in this area who has room")
		}
		t.Caseload = Caseload{Release: r.SpecialistID, Take: to.ID}
		next.SpecialistID, e.Type, e.Detail = to.ID, EventReassigned, "from="+r.SpecialistID+";to="+to.ID
		t.FreesCapacity = true
	case KindTransfer:
		if !r.Status.Transferable() {
			return refuse()
		}
		if c.Area == "" {
			return Transition{}, fieldError("postcode", "Enter the patient's new postcode in an IPSPC area")
		}
		if c.Area == r.Area && (c.Postcode == "" || c.Postcode == r.Patient.Postcode) {
			return already()
		}
		from := r.Area
		if r.Status.holdsUnit() {
			release(&t, c)
		}
		// Routed as at intake: a patient with an open case in the new area joins it (its
		// specialist or its waitlist place), taking no capacity (SPEC §5).
		next.Area, next.ReReferral = c.Area, c.ReReferral
		if c.Postcode != "" {
			next.Patient.Postcode = c.Postcode
		}
		held := t.Caseload.Release
		if c.ReReferral && c.OpenCase == "" {
			next.Status, next.SpecialistID = StatusWaitlisted, ""
		} else if err := assignTo(&t, &e, c, now); errors.Is(err, ErrNoRoom) {
			next.Status, next.SpecialistID = StatusWaitlisted, ""
		} else if err != nil {
			return Transition{}, err
		}
		t.Caseload.Release = held
		t.FreesCapacity = held != "" || from != c.Area
		// The returns (SPEC §12) read who held it before from specialist= (empty if waitlisted).
		e.Type, e.Detail = EventTransferred, "from="+from+";to="+c.Area+";specialist="+r.SpecialistID
	}
	t.Referral.Events = append(t.Referral.Events, e)
	t.Event = e
	return t, nil
}

// ending is how a close or a withdraw ends a referral: from which statuses, to which, with which
// audit event and reasons.
type ending struct {
	from    func(Status) bool
	to      Status
	event   string
	reasons []string
	missing string // the field error when the reason is missing or unknown
}

var endings = map[Kind]ending{
	KindClose: {from: Status.holdsUnit, to: StatusClosed, event: EventClosed, reasons: CloseReasons,
		missing: "Select why you are closing this referral"},
	KindWithdraw: {from: func(s Status) bool { return s == StatusWaitlisted || s == StatusAssigned || s == StatusContacted },
		to: StatusWithdrawn, event: EventWithdrawn, reasons: WithdrawReasons, missing: "Select why you are withdrawing this referral"},
}

// assignTo gives the referral to the least-loaded specialist with room among c.Candidates (or,
// from the waitlist or on a transfer, to the specialist of the patient's open case), with deadlines from now
// (SPEC §5, §6), or returns ErrNoRoom.
func assignTo(t *Transition, e *Event, c Command, now time.Time) error {
	r := &t.Referral
	if c.OpenCase != "" && (c.Kind == KindAssign || c.Kind == KindTransfer) {
		// The patient is already with someone: the same specialist, no extra capacity.
		r.SpecialistID = c.OpenCase
	} else {
		picked, ok := PickSpecialist(c.Candidates)
		if !ok {
			return ErrNoRoom
		}
		r.SpecialistID = picked.ID
		t.Caseload.Take = picked.ID
	}
	r.Status = StatusAssigned
	e.Type = EventAssigned
	if c.Deadlines != nil {
		contactBy, meetBy, err := c.Deadlines(now)
		if err != nil {
			return fmt.Errorf("deadlines: %w", err)
		}
		r.ContactBy, r.MeetBy = contactBy, meetBy
		t.DeadlinesChanged = true
	}
	return nil
}

// release frees the unit the referral held, unless it was waitlisted or shares the patient's open
// case with another open referral.
func release(t *Transition, c Command) {
	t.FreesCapacity = true
	if t.From.holdsUnit() && !c.SharesOpenCase && t.Referral.SpecialistID != "" {
		t.Caseload.Release = t.Referral.SpecialistID
	}
}

func candidate(cs []Candidate, id string) (Candidate, bool) {
	for _, c := range cs {
		if c.ID == id {
			return c, true
		}
	}
	return Candidate{}, false
}

// notAllowed is the conflict refusal: it says what the status is, in plain words.
func notAllowed(s Status, k Kind) *Error {
	msg := fmt.Sprintf("This cannot be done now: the referral is %s", s.Words())
	switch s {
	case StatusClosed, StatusWithdrawn:
		msg = fmt.Sprintf("This referral is %s, so its progress cannot be changed", s.Words())
	}
	if k == KindWithdraw {
		msg += ". To stop support now, contact the employment specialist"
	}
	return Errorf(CodeConflict, "%s", msg)
}

func fieldError(field, message string) *Error {
	return &Error{Code: CodeInvalid, Message: message, Fields: []FieldError{{Field: field, Message: message}}}
}

// pastDate checks a YYYY-MM-DD date (what, e.g. "the date the job started", names it in the
// messages) that is a real date, not after today and not before the day r was received, both
// days in Europe/London.
func pastDate(r Referral, field, value string, now time.Time, what string) error {
	d, err := calendar.ParseDate(value)
	received := calendar.DateOf(r.ReceivedAt)
	switch {
	case value == "":
		return fieldError(field, "Enter "+what)
	case err != nil:
		return fieldError(field, "Enter "+what+" as a real date, for example "+exampleDate(now))
	case d.After(calendar.DateOf(now)):
		return fieldError(field, capitalise(what)+" must be today or in the past")
	case !r.ReceivedAt.IsZero() && d.Before(received):
		return fieldError(field, fmt.Sprintf("%s must be on or after %d %s %d, when the referral was received",
			capitalise(what), received.Day, received.Month, received.Year))
	}
	return nil
}

// exampleDate is today as the date input's example: "24 11 2026".
func exampleDate(now time.Time) string {
	d := calendar.DateOf(now)
	return fmt.Sprintf("%d %d %d", d.Day, d.Month, d.Year)
}

func capitalise(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func jobStart(r Referral, c Command, now time.Time) error {
	var fields []FieldError
	if err := pastDate(r, StartDateField, c.StartDate, now, "the date the job started"); err != nil {
		fields = append(fields, FieldErrors(err)...)
	}
	if c.HoursPerWeek < 1 || c.HoursPerWeek > 80 {
		fields = append(fields, FieldError{Field: HoursPerWeekField, Message: "Enter the hours a week as a whole number from 1 to 80"})
	}
	if c.SelfEmployed != "yes" && c.SelfEmployed != "no" {
		fields = append(fields, FieldError{Field: SelfEmployedField, Message: "Select whether the patient is self-employed in this job"})
	}
	if len(fields) > 0 {
		return &Error{Code: CodeInvalid, Message: invalidMessage, Fields: fields}
	}
	return nil
}
