package directory

import "time"

// FailingReason says why an address was marked failing (SES told us it does not reach anyone).
type FailingReason string

const (
	ReasonBounce    FailingReason = "bounce"    // a permanent (hard) bounce
	ReasonComplaint FailingReason = "complaint" // the recipient reported the email as spam
)

// Holder is a directory entry that uses an address: a specialist, or an area's lead when
// SpecialistID is empty.
type Holder struct {
	AreaID       string
	SpecialistID string
}

// String names the holder for logs: "specialist slough/slough-1" or "lead slough".
func (h Holder) String() string {
	if h.SpecialistID == "" {
		return "lead " + h.AreaID
	}
	return "specialist " + h.AreaID + "/" + h.SpecialistID
}

// Failing is a directory address marked failing, as listed for the people who run the service.
type Failing struct {
	Holder
	Reason FailingReason
	Since  time.Time
}
