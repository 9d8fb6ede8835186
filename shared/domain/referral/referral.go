// Package referral is the domain of IPSPC Referrals: what a referral is, how a submission is
// validated, how deadlines and routing are decided, and the ports the adapters implement.
// It imports no infrastructure.
package referral

import "time"

// Patient is the person referred. Field names are the JSON paths of SPEC §4.
type Patient struct {
	GivenName        string `json:"givenName"`
	FamilyName       string `json:"familyName"`
	DateOfBirth      string `json:"dateOfBirth"`
	NHSNumber        string `json:"nhsNumber"`
	Postcode         string `json:"postcode"`
	Phone            string `json:"phone,omitempty"`
	Email            string `json:"email,omitempty"`
	PreferredContact string `json:"preferredContact,omitempty"`
}

// Referrer is the GP or other primary-care clinician making the referral.
type Referrer struct {
	Name         string `json:"name"`
	PracticeCode string `json:"practiceCode"`
	Email        string `json:"email"`
	Phone        string `json:"phone,omitempty"`
}

// Submission is what a referrer sends, through the JSON API or the form. Before Validate it holds
// the raw values; after, the normalised ones (NHS number as 10 digits, postcode as "OUTWARD INWARD").
type Submission struct {
	Patient          Patient  `json:"patient"`
	Referrer         Referrer `json:"referrer"`
	EmploymentStatus string   `json:"employmentStatus"`
	HealthConditions []string `json:"healthConditions,omitempty"`
	Consent          bool     `json:"consent"`
	Notes            string   `json:"notes,omitempty"`
}

// Status is where a referral is in its life.
type Status string

const (
	StatusWaitlisted Status = "waitlisted"
	StatusAssigned   Status = "assigned"
	StatusContacted  Status = "contacted"
	StatusEngaged    Status = "engaged"
	StatusInWork     Status = "in-work"
	StatusClosed     Status = "closed"
	StatusWithdrawn  Status = "withdrawn"
)

// Statuses lists every status of SPEC §9, in the order a referral usually goes through them.
var Statuses = []Status{StatusWaitlisted, StatusAssigned, StatusContacted, StatusEngaged, StatusInWork, StatusClosed, StatusWithdrawn}

// Open reports whether a referral in this status still counts towards a specialist's caseload
// (or, when waitlisted, towards the area's queue).
func (s Status) Open() bool { return s != StatusClosed && s != StatusWithdrawn && s != "" }

// Terminal reports whether nothing more can happen to a referral in this status.
func (s Status) Terminal() bool { return s == StatusClosed || s == StatusWithdrawn }

// Employment statuses and health conditions accepted (SPEC §4).
var (
	EmploymentStatuses    = []string{"unemployed", "employed-off-sick", "employed-at-risk"}
	HealthConditions      = []string{"mental-health", "musculoskeletal", "neurological", "long-term-condition", "other"}
	ContactMethods        = []string{"phone", "email"}
	CloseReasons          = []string{"engaged-elsewhere", "declined", "unreachable", "moved-away", "job-started", "support-complete", "other"}
	ContactAttemptMethods = []string{"phone", "email", "letter", "text"}
	WithdrawReasons       = []string{WithdrawRevoked, WithdrawEnteredInError}
)

// Withdraw reasons (SPEC §9, after the NHS Booking and Referral Standard).
const (
	WithdrawRevoked        = "revoked"          // circumstances changed
	WithdrawEnteredInError = "entered-in-error" // sent by mistake, wrong patient, or not made by this referrer
)

// Receipt is what the referrer is told once a referral is stored: the body of a 201.
type Receipt struct {
	ReferralID string    `json:"referralId"`
	Status     Status    `json:"status"`
	Area       string    `json:"area"`
	ReceivedAt time.Time `json:"receivedAt"`
	ContactBy  string    `json:"contactBy"`
	MeetBy     string    `json:"meetBy"`
}
