package worklist

import (
	"context"
	"fmt"

	"github.com/ipspc/referrals/shared/domain/referral"
)

// Why a lead's reassign or transfer was refused, with nothing changed (SPEC §10).
type RefusalReason string

const (
	RefusedNoRoom    RefusalReason = "no-room"     // the chosen specialist's caseload is at capacity
	RefusedInactive  RefusalReason = "inactive"    // the chosen specialist takes no new referrals
	RefusedOtherArea RefusalReason = "other-area"  // the chosen specialist works in another area
	RefusedUnknown   RefusalReason = "unknown"     // no such specialist
	RefusedOutOfArea RefusalReason = "out-of-area" // the new postcode is in no area
	RefusedStatus    RefusalReason = "status"      // the referral's status allows no such event (SPEC §9)
)

// Refused is the typed refusal of a reassign or transfer. Specialist names the specialist chosen
// (for the page); Status is the referral's status when the status was the reason.
type Refused struct {
	Reason     RefusalReason
	Specialist string
	Status     referral.Status
}

func (r *Refused) Error() string { return fmt.Sprintf("refused: %s", r.Reason) }

// Moved is what a reassign or transfer did: the referral as stored, the name of the specialist
// who has it now (empty when waitlisted) and, for a transfer, the new area's name.
type Moved struct {
	Referral   referral.Referral
	Specialist string
	AreaName   string
}

// Mover carries out the lead's events through the referral's transition function and the store's
// transaction (the lifecycle issue). by is the lead, as the audit event records them.
type Mover interface {
	Reassign(ctx context.Context, areaID, referralID, specialistID, by string) (Moved, error)
	Transfer(ctx context.Context, areaID, referralID, postcode, by string) (Moved, error)
}
