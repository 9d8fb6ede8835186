// Package notification is the service's vocabulary for emails (SPEC §7), shared by the edge that
// decides and renders them, the store that records each one sent and the adapter that sends it:
// what an email is about (Kind), who it is for (Audience), one email to one recipient (Notice),
// the errors of claiming and sending one at most once, and an email ready to send (Email).
package notification

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kind is what an email is about (SPEC §7). Its value names the golden files and is the SES tag.
type Kind string

const (
	Assignment      Kind = "assignment"       // to the specialist: a referral was assigned to them
	Acknowledgement Kind = "acknowledgement"  // to the referrer: the referral was received
	Waitlisted      Kind = "waitlisted"       // to the area lead: no specialist has space
	ContactReminder Kind = "contact-reminder" // to the specialist: contact is due on the next working day
	MeetingReminder Kind = "meeting-reminder" // to the specialist: a meeting is due on the next working day
	ContactOverdue  Kind = "contact-overdue"  // to the specialist, cc the area lead: contact is overdue
	MeetingOverdue  Kind = "meeting-overdue"  // to the specialist, cc the area lead: a meeting is overdue
	// SPEC §11.
	StartedSupport Kind = "started-support" // to the referrer: the first meeting was recorded
	Closed         Kind = "closed"          // to the referrer: support ended, with the reason
	Withdrawn      Kind = "withdrawn"       // to the specialist ("do not contact") and the referrer (confirmation)
	OutcomeCheck   Kind = "outcome-check"   // to the specialist: 16 weeks after the first job start, was the job sustained?
	// BouncingCopy is the area lead's copy of an email meant for a specialist whose address is
	// bouncing (SPEC §10 issue 12): what it was about, without the specialist's link.
	BouncingCopy Kind = "bouncing-copy"
)

// LeadDigest is the area lead's weekly digest (SPEC §11). It is not one of Kinds: it is about an
// area, not a referral, and is never recorded as a Notice.
const LeadDigest Kind = "lead-digest"

// Kinds lists every kind about a referral.
var Kinds = []Kind{Assignment, Acknowledgement, Waitlisted, ContactReminder, MeetingReminder, ContactOverdue, MeetingOverdue,
	StartedSupport, Closed, Withdrawn, OutcomeCheck, BouncingCopy}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Audience is who an email is for. A kind sent to more than one person (withdrawn) says which
// one this message is for; the others have a single audience.
type Audience string

const (
	AudienceReferrer   Audience = "referrer"
	AudienceSpecialist Audience = "specialist"
	// AudienceLead is the area lead receiving a BouncingCopy of a specialist's email.
	AudienceLead Audience = "lead"
)

// Notice is one email to one recipient: each is sent at most once per referral (SPEC §7, "once
// per referral, kind and recipient"). Audience is empty for the kinds that have one recipient
// only (the first release's kinds, whose records carry no audience); a kind that goes to two
// people (withdrawn) names who.
type Notice struct {
	Kind     Kind
	Audience Audience
}

func (n Notice) String() string {
	if n.Audience == "" {
		return string(n.Kind)
	}
	return string(n.Kind) + " to " + string(n.Audience)
}

// ErrClaimHeld is returned by a store's Claim while another sender's claim is unexpired.
var ErrClaimHeld = errors.New("notification claimed by another sender")

// ErrOutcomeUnknown is wrapped by a sender's error when the email may have been sent: a timeout,
// or a connection lost after the request went out. Sending again could deliver it twice.
var ErrOutcomeUnknown = errors.New("email outcome unknown")

// ErrOutcomePending is returned by Claim while a notice is held after an unknown outcome. Nothing
// can be done about it until the hold ends, so it is no reason to retry a stream record.
var ErrOutcomePending = fmt.Errorf("notification held after an unknown outcome: %w", ErrOutcomeUnknown)

// UnknownOutcomeHold is the shortest time a notice whose send had an unknown outcome stays
// claimed (SPEC §7): long enough for SES to have delivered it if it was going to.
const UnknownOutcomeHold = 15 * time.Minute

// Email is an email rendered and ready to send: the sender adds nothing but the envelope.
type Email struct {
	Kind Kind
	// About names what it is about in errors ("referral R-7K3M9QX2", "area \"Slough\""): never
	// patient data.
	About               string
	To, Cc              []string
	Subject, Text, HTML string
}
