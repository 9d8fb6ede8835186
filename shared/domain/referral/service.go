package referral

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/lib/calendar"
)

// Referral is a stored referral: the validated submission plus what the service decided.
type Referral struct {
	ID string
	Submission
	Area         string
	Status       Status
	SpecialistID string // empty while waitlisted
	// ReReferral is set when the patient already had an open referral in the area: it goes to the
	// same specialist and uses no extra capacity (SPEC §5).
	ReReferral bool
	// PatientKey keys the patient's open case (a keyed hash of the NHS number, set at intake).
	PatientKey PatientKey
	ReceivedAt time.Time
	ContactBy  calendar.Date
	MeetBy     calendar.Date
	Events     []Event
}

// Receipt is what the referrer is told about r.
func (r Referral) Receipt() Receipt {
	return Receipt{
		ReferralID: r.ID,
		Status:     r.Status,
		Area:       r.Area,
		ReceivedAt: r.ReceivedAt.UTC(),
		ContactBy:  r.ContactBy.String(),
		MeetBy:     r.MeetBy.String(),
	}
}

// Event is one entry of a referral's append-only audit history. It carries no patient data.
type Event struct {
	At   time.Time `json:"at"`
	Type string    `json:"type"` // received, assigned, waitlisted, emailed, reminded, escalated, contacted, met, closed
	By   string    `json:"by"`   // a specialist id, or "system"
	Via  string    `json:"via"`  // api, form, stream, schedule, signed-link, directory
	// Detail is a short machine-readable qualifier (an email kind, a close reason, "re-referral").
	Detail string `json:"detail,omitempty"`
}

// Audit event types (SPEC §8).
const (
	EventReceived   = "received"
	EventAssigned   = "assigned"
	EventWaitlisted = "waitlisted"
	EventEmailed    = "emailed"
	EventReminded   = "reminded"
	EventEscalated  = "escalated"
	EventContacted  = "contacted"
	EventMet        = "met"
	EventClosed     = "closed"
	// Added with SPEC §9's later events. Their Detail formats are fixed: returns (SPEC §12) read them.
	EventAttempted       = "attempted"        // Detail: the method ("phone", "email", "letter", "text")
	EventWithdrawn       = "withdrawn"        // Detail: the reason ("revoked", "entered-in-error")
	EventEmployerContact = "employer-contact" // Detail: the date of the contact, "YYYY-MM-DD"
	EventJobStarted      = "job-started"      // Detail: "start=YYYY-MM-DD;hours=N;self-employed=yes|no"
	EventOutcome         = "outcome"          // Detail: "sustained" or "not-sustained"
	EventReassigned      = "reassigned"       // Detail: "from=<specialist id>;to=<specialist id>"; By: the lead
	EventTransferred     = "transferred"      // Detail: "from=<area id>;to=<area id>;specialist=<id or empty>"; By: the lead
)

// System is the actor recorded for changes nobody made by hand.
const System = "system"

// Idempotency is an idempotency key's claim, stored on the referral the key created: the
// referral's id is derived from the key, so storing the referral is claiming the key.
type Idempotency struct {
	Tag         string  // Keyer.KeyTag of the key: tells the key's referral from an id collision
	RequestHash string  // RequestHash of the submission
	Receipt     Receipt // the receipt first given, filled in by the store when it records
}

// IDTaken is returned by Store.Record when a referral with r's id is already stored. Held is that
// referral's idempotency claim (nil when it was created without a key): the caller decides whether
// it is a replay, a conflict, or an id to move on from.
type IDTaken struct{ Held *Idempotency }

func (e *IDTaken) Error() string { return "referral id already taken" }

// Store records referrals. Record routes r (SPEC §5) and stores it, its audit events, the caseload
// change and the idempotency claim (kept on the referral) atomically, on the condition that r.ID is
// new (else *IDTaken); it returns r as stored (status, specialist, re-referral flag filled in).
type Store interface {
	Record(ctx context.Context, r Referral, claim *Idempotency) (Referral, error)
}

// AreaFinder maps a normalised postcode to an area id (SPEC §5 longest-prefix match).
type AreaFinder interface {
	AreaFor(ctx context.Context, postcode string) (areaID string, ok bool, err error)
}

// Policy is the service's configuration (the template's parameters).
type Policy struct {
	Rules              Rules
	ContactWorkingDays int
	MeetingWorkingDays int
	IdempotencyWindow  time.Duration
}

// DefaultPolicy is SPEC §4 and §6's defaults.
func DefaultPolicy() Policy {
	return Policy{Rules: DefaultRules(), ContactWorkingDays: 2, MeetingWorkingDays: 10, IdempotencyWindow: 24 * time.Hour}
}

// Intake takes submissions: validate, find the area, compute deadlines, record.
type Intake struct {
	Areas    AreaFinder
	Keys     *Keyer // patient keys and key-derived referral ids
	Store    Store
	Calendar *calendar.Calendar
	Policy   Policy
	Now      func() time.Time
	NewID    func() string
}

// Request is one submission with its optional idempotency key and the channel it came through.
type Request struct {
	Submission     Submission
	IdempotencyKey string
	Via            string // "api" or "form"
	// DecodeErrors are fields that had the wrong type in the request (e.g. "consent": "yes").
	// They are reported together with the rule errors of the other fields, in one response.
	DecodeErrors []FieldError
}

// Outcome is the result of a submission. Replayed is true when the receipt is a stored one being
// returned for a repeated idempotency key: nothing new was stored.
type Outcome struct {
	Referral Referral // zero on replay
	Receipt  Receipt
	Replayed bool
}

// Submit validates and records a referral. Errors are *Error with a code for the edge, except
// infrastructure failures, which are wrapped and classed as unavailable.
func (in *Intake) Submit(ctx context.Context, req Request) (Outcome, error) {
	now := in.Now()
	sub, err := Validate(req.Submission, now, in.Policy.Rules)
	if len(req.DecodeErrors) > 0 {
		return Outcome{}, withDecodeErrors(req.DecodeErrors, err)
	}
	if err != nil {
		return Outcome{}, err
	}
	area, ok, err := in.Areas.AreaFor(ctx, sub.Patient.Postcode)
	if err != nil {
		return Outcome{}, unavailable("find area", err)
	}
	if !ok {
		return Outcome{}, &Error{Code: CodeOutOfArea, Message: "This postcode is not in an area that IPSPC serves yet",
			Fields: []FieldError{{Field: "patient.postcode", Message: "The patient's postcode is not in an IPSPC area. Check the postcode, or refer them to their local employment support service"}}}
	}
	contactBy, meetBy, err := Deadlines(in.Calendar, now, in.Policy)
	if err != nil {
		return Outcome{}, fmt.Errorf("deadlines: %w", err)
	}
	r := Referral{
		Submission: sub, Area: area, PatientKey: in.Keys.PatientKey(sub.Patient.NHSNumber),
		ReceivedAt: now.UTC().Truncate(time.Second), ContactBy: contactBy, MeetBy: meetBy,
		Events: []Event{{At: now.UTC(), Type: EventReceived, By: System, Via: req.Via}},
	}
	if req.IdempotencyKey == "" {
		return in.record(ctx, r, nil, func(int) string { return in.NewID() })
	}
	claim := &Idempotency{Tag: in.Keys.KeyTag(req.IdempotencyKey), RequestHash: RequestHash(sub)}
	return in.record(ctx, r, claim, func(n int) string { return in.Keys.KeyedID(req.IdempotencyKey, n) })
}

// maxIDs bounds the ids tried for one submission. Another referral holds an id only after a
// collision in 31^8 ids, or when the same key was used more than a window ago: a handful suffice.
const maxIDs = 8

// record stores r under the ids id(0), id(1)… until one is free, deciding on each taken one: the
// key's own referral within the window is a replay (same request) or a conflict (another
// request); anything else (a collision, or the key's use of more than a window ago) moves on to the
// next id. Key-derived ids are a fixed sequence, so a replay finds its referral wherever it is.
func (in *Intake) record(ctx context.Context, r Referral, claim *Idempotency, id func(n int) string) (Outcome, error) {
	for n := range maxIDs {
		r.ID = id(n)
		stored, err := in.Store.Record(ctx, r, claim)
		var taken *IDTaken
		switch {
		case errors.As(err, &taken):
			held := taken.Held
			if claim == nil || held == nil || held.Tag != claim.Tag || !r.ReceivedAt.Before(held.Receipt.ReceivedAt.Add(in.Policy.IdempotencyWindow)) {
				continue
			}
			if held.RequestHash != claim.RequestHash {
				return Outcome{}, &Error{Code: CodeConflict, Message: "This idempotency key was already used for a different referral. Use a new key for a new referral"}
			}
			return Outcome{Receipt: held.Receipt, Replayed: true}, nil
		case err != nil:
			return Outcome{}, unavailable("record referral", err)
		}
		return Outcome{Referral: stored, Receipt: stored.Receipt()}, nil
	}
	return Outcome{}, unavailable("record referral", fmt.Errorf("no free referral id in %d tries", maxIDs))
}

// withDecodeErrors merges type errors from decoding with the rule errors of Validate, leaving out
// rule errors about a field (or the children of a field) whose type was already wrong.
func withDecodeErrors(decoded []FieldError, validation error) error {
	fields := append([]FieldError(nil), decoded...)
	for _, f := range FieldErrors(validation) {
		covered := false
		for _, d := range decoded {
			if f.Field == d.Field || strings.HasPrefix(f.Field, d.Field+".") {
				covered = true
				break
			}
		}
		if !covered {
			fields = append(fields, f)
		}
	}
	return &Error{Code: CodeInvalid, Message: invalidMessage, Fields: fields}
}

// unavailable classes an infrastructure failure as retryable unless it already carries a code.
func unavailable(what string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return fmt.Errorf("%s: %w", what, err)
	}
	safe := &Error{Code: CodeUnavailable, Message: "The service is busy. Try again in a few seconds"}
	return fmt.Errorf("%s: %w", what, &wrapped{safe: safe, cause: err})
}

// wrapped keeps an infrastructure cause in the chain (for logs) behind a user-safe *Error.
type wrapped struct {
	safe  *Error
	cause error
}

func (w *wrapped) Unwrap() []error { return []error{w.safe, w.cause} }
func (w *wrapped) Error() string   { return w.safe.Error() + ": " + w.cause.Error() }

// RequestHash identifies a normalised submission, so a replayed key can be told apart from a key
// reused for a different referral. It is a one-way digest; the submission is not recoverable.
// 128 bits are plenty to tell two requests apart, and it is stored on every keyed referral.
func RequestHash(s Submission) string {
	b, _ := json.Marshal(s) // a struct of strings, bools and slices always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Deadlines returns contactBy and meetBy for something received (or assigned) at t (SPEC §6).
func Deadlines(cal *calendar.Calendar, t time.Time, p Policy) (contactBy, meetBy calendar.Date, err error) {
	day := calendar.DateOf(t)
	if contactBy, err = cal.AddWorkingDays(day, p.ContactWorkingDays); err != nil {
		return contactBy, meetBy, err
	}
	meetBy, err = cal.AddWorkingDays(day, p.MeetingWorkingDays)
	return contactBy, meetBy, err
}
