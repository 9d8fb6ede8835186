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
	At   time.Time `json:"at" dynamodbav:"at"`
	Type string    `json:"type" dynamodbav:"type"` // received, assigned, waitlisted, emailed, reminded, escalated, contacted, met, closed
	By   string    `json:"by" dynamodbav:"by"`     // a specialist id, or "system"
	Via  string    `json:"via" dynamodbav:"via"`   // api, form, stream, schedule, signed-link, directory
	// Detail is a short machine-readable qualifier (an email kind, a close reason, "re-referral").
	Detail string `json:"detail,omitempty" dynamodbav:"detail,omitempty"`
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

// Idempotency is a claim on an idempotency key: while it is unexpired, the same key with the same
// request hash gets the stored receipt back, and with another hash gets a conflict.
type Idempotency struct {
	Key         string
	RequestHash string
	ExpiresAt   time.Time
	Receipt     Receipt // filled in by the store when the referral is recorded
}

// ErrKeyTaken is returned by a Store when the idempotency key is already claimed and unexpired.
var ErrKeyTaken = errors.New("idempotency key already used")

// Store records referrals. Record routes r (SPEC §5) and stores it, its audit events, the caseload
// change and the idempotency claim atomically; it returns r as stored (status, specialist,
// re-referral flag filled in). Claimed returns the unexpired claim on key, or a not-found error.
type Store interface {
	Record(ctx context.Context, r Referral, claim *Idempotency) (Referral, error)
	Claimed(ctx context.Context, key string, now time.Time) (Idempotency, error)
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
		ID: in.NewID(), Submission: sub, Area: area, ReceivedAt: now.UTC().Truncate(time.Second),
		ContactBy: contactBy, MeetBy: meetBy,
		Events: []Event{{At: now.UTC(), Type: EventReceived, By: System, Via: req.Via}},
	}
	var claim *Idempotency
	if req.IdempotencyKey != "" {
		claim = &Idempotency{Key: req.IdempotencyKey, RequestHash: RequestHash(sub), ExpiresAt: now.Add(in.Policy.IdempotencyWindow)}
	}
	stored, err := in.Store.Record(ctx, r, claim)
	switch {
	case errors.Is(err, ErrKeyTaken):
		return in.replay(ctx, *claim, now)
	case err != nil:
		return Outcome{}, unavailable("record referral", err)
	}
	return Outcome{Referral: stored, Receipt: stored.Receipt()}, nil
}

func (in *Intake) replay(ctx context.Context, claim Idempotency, now time.Time) (Outcome, error) {
	prior, err := in.Store.Claimed(ctx, claim.Key, now)
	if err != nil {
		return Outcome{}, unavailable("read idempotency claim", err)
	}
	if prior.RequestHash != claim.RequestHash {
		return Outcome{}, &Error{Code: CodeConflict, Message: "This idempotency key was already used for a different referral. Use a new key for a new referral"}
	}
	return Outcome{Receipt: prior.Receipt, Replayed: true}, nil
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
func RequestHash(s Submission) string {
	b, _ := json.Marshal(s) // a struct of strings, bools and slices always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
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
