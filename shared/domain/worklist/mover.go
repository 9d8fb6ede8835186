package worklist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/calendar"
)

// MoveStore is what a lead's move needs of storage.
//
// Move stores t (a reassign or transfer of before, as Apply decided it) in one transaction: the
// referral conditioned on its status, specialist and area as read; the caseload released and the
// one taken (under its capacity and active condition); the patient's open case moved with it.
// It returns referral.ErrChanged when the referral or its open case changed since they were
// read, and referral.ErrNoRoom when the specialist taking the unit no longer has room; in both
// cases nothing was written. shares is true when another open referral of the patient in the
// area shares before's caseload unit.
type MoveStore interface {
	Get(ctx context.Context, referralID string) (referral.Referral, error)
	Specialists(ctx context.Context, areaID string) ([]Specialist, error)
	// SpecialistArea finds the area of a specialist not in the lead's area (refusals only).
	SpecialistArea(ctx context.Context, specialistID string) (areaID string, found bool, err error)
	// OpenCase reads the patient's open case in an area: its specialist (empty while it waits)
	// and how many open referrals share it.
	OpenCase(ctx context.Context, areaID string, patient referral.PatientKey) (specialist string, referrals int, found bool, err error)
	Move(ctx context.Context, before referral.Referral, t referral.Transition) error
}

// AreaNamer names an area for the lead's confirmation page.
type AreaNamer interface {
	AreaName(ctx context.Context, areaID string) (string, error)
}

// Moves is the Mover on the referral's transition function: it reads, asks Apply, stores the
// result in one transaction and drains the waitlist of the area that freed a unit.
type Moves struct {
	Store    MoveStore
	Areas    referral.AreaFinder
	Names    AreaNamer
	Drain    referral.Drainer
	Calendar *calendar.Calendar
	Policy   referral.Policy
	Now      func() time.Time
	// Attempts bounds the re-reads when the referral or a caseload changes under a move.
	Attempts int
}

var _ Mover = (*Moves)(nil)

// viaLead is the audit event's channel: the lead's signed link.
const viaLead = "signed-link"

// Reassign moves an open referral of areaID to specialistID in the same area (SPEC §9, §10).
func (m *Moves) Reassign(ctx context.Context, areaID, referralID, specialistID, by string) (Moved, error) {
	return m.retry(ctx, func() (Moved, error) {
		r, err := m.read(ctx, areaID, referralID)
		if err != nil {
			return Moved{}, err
		}
		if !r.Status.Reassignable() {
			return Moved{}, &Refused{Reason: RefusedStatus, Status: r.Status}
		}
		specs, err := m.Store.Specialists(ctx, areaID)
		if err != nil {
			return Moved{}, err
		}
		i := slices.IndexFunc(specs, func(s Specialist) bool { return s.ID == specialistID })
		if i < 0 {
			return Moved{}, m.notHere(ctx, areaID, specialistID)
		}
		to := specs[i]
		switch {
		case to.ID == r.SpecialistID:
			return Moved{Referral: r, Specialist: to.Name}, nil // already theirs: nothing to do
		case !to.Active:
			return Moved{}, &Refused{Reason: RefusedInactive, Specialist: to.Name}
		case !to.HasRoom():
			return Moved{}, &Refused{Reason: RefusedNoRoom, Specialist: to.Name}
		}
		_, sharing, _, err := m.Store.OpenCase(ctx, r.Area, r.PatientKey)
		if err != nil {
			return Moved{}, err
		}
		if sharing > 1 {
			// Another open referral of the patient shares this caseload unit: moving one alone
			// would split the patient between two specialists (docs/decisions.md).
			return Moved{}, &Refused{Reason: RefusedStatus, Status: r.Status}
		}
		t, err := referral.Apply(r, referral.Command{
			Kind: referral.KindReassign, Actor: referral.ActorLead, By: by, Via: viaLead,
			Specialist: to.ID, Candidates: candidates(specs),
		}, m.Now())
		if err != nil {
			return Moved{}, refusal(err, r, to.Name)
		}
		if err := m.Store.Move(ctx, r, t); errors.Is(err, referral.ErrNoRoom) {
			return Moved{}, &Refused{Reason: RefusedNoRoom, Specialist: to.Name}
		} else if err != nil {
			return Moved{}, err
		}
		m.drain(ctx, t, areaID)
		return Moved{Referral: t.Referral, Specialist: to.Name}, nil
	})
}

// Transfer routes a referral of areaID to the area of its new postcode, as at intake (SPEC §9,
// §10): assigned there or waitlisted, deadlines from today; the old area's unit is freed and its
// waitlist drained.
func (m *Moves) Transfer(ctx context.Context, areaID, referralID, postcode, by string) (Moved, error) {
	return m.retry(ctx, func() (Moved, error) {
		r, err := m.read(ctx, areaID, referralID)
		if err != nil {
			return Moved{}, err
		}
		if !r.Status.Transferable() {
			return Moved{}, &Refused{Reason: RefusedStatus, Status: r.Status}
		}
		to, ok, err := m.Areas.AreaFor(ctx, postcode)
		if err != nil {
			return Moved{}, err
		}
		if !ok {
			return Moved{}, &Refused{Reason: RefusedOutOfArea}
		}
		if to == areaID {
			// Same area: the patient's address changes nothing about who supports them. The
			// referral keeps its place; the lead is told it is still in this area.
			name, err := m.Names.AreaName(ctx, to)
			return Moved{Referral: r, AreaName: name}, err
		}
		specs, err := m.Store.Specialists(ctx, to)
		if err != nil {
			return Moved{}, err
		}
		_, sharing, _, err := m.Store.OpenCase(ctx, r.Area, r.PatientKey)
		if err != nil {
			return Moved{}, err
		}
		// The patient may already have an open case in the new area: the referral joins it.
		there, _, joins, err := m.Store.OpenCase(ctx, to, r.PatientKey)
		if err != nil {
			return Moved{}, err
		}
		now := m.Now()
		t, err := referral.Apply(r, referral.Command{
			Kind: referral.KindTransfer, Actor: referral.ActorLead, By: by, Via: viaLead,
			Area: to, Postcode: postcode, Candidates: candidates(specs), SharesOpenCase: sharing > 1,
			ReReferral: joins, OpenCase: there,
			Deadlines: func(at time.Time) (calendar.Date, calendar.Date, error) {
				return referral.Deadlines(m.Calendar, at, m.Policy)
			},
		}, now)
		if err != nil {
			return Moved{}, refusal(err, r, "")
		}
		if err := m.Store.Move(ctx, r, t); err != nil {
			return Moved{}, err // ErrNoRoom or ErrChanged: someone filled or changed it; retry re-decides
		}
		m.drain(ctx, t, areaID)
		moved := Moved{Referral: t.Referral}
		if i := slices.IndexFunc(specs, func(s Specialist) bool { return s.ID == t.Referral.SpecialistID }); i >= 0 {
			moved.Specialist = specs[i].Name
		}
		moved.AreaName, err = m.Names.AreaName(ctx, to)
		return moved, err
	})
}

// read loads the referral; one of another area is not found (the lead sees only their own).
func (m *Moves) read(ctx context.Context, areaID, referralID string) (referral.Referral, error) {
	r, err := m.Store.Get(ctx, referralID)
	if err != nil {
		return r, err
	}
	if r.Area != areaID {
		return referral.Referral{}, referral.Errorf(referral.CodeNotFound, "Page not found")
	}
	return r, nil
}

// notHere is the refusal for a specialist not in the lead's area.
func (m *Moves) notHere(ctx context.Context, areaID, specialistID string) error {
	home, found, err := m.Store.SpecialistArea(ctx, specialistID)
	switch {
	case err != nil:
		return err
	case found && home != areaID:
		return &Refused{Reason: RefusedOtherArea, Specialist: specialistID}
	}
	return &Refused{Reason: RefusedUnknown, Specialist: specialistID}
}

// drain gives the unit a move freed to the oldest waitlisted referral of the area it left. The
// move stands whatever the drain does: a failed drain is retried by the next close or the
// reminders run, as after a close.
func (m *Moves) drain(ctx context.Context, t referral.Transition, areaID string) {
	if t.FreesCapacity && m.Drain != nil {
		_ = m.Drain.Drain(context.WithoutCancel(ctx), areaID)
	}
}

// retry re-reads and decides afresh when the referral changed under a move, or (transfer) the
// specialist picked filled up meanwhile.
func (m *Moves) retry(ctx context.Context, once func() (Moved, error)) (Moved, error) {
	attempts := max(m.Attempts, 1)
	var err error
	for range attempts {
		var moved Moved
		moved, err = once()
		if !errors.Is(err, referral.ErrChanged) && !errors.Is(err, referral.ErrNoRoom) {
			return moved, err
		}
		if cerr := ctx.Err(); cerr != nil {
			return Moved{}, cerr
		}
	}
	return Moved{}, fmt.Errorf("move gave up after %d attempts: %w", attempts, err)
}

// refusal turns Apply's refusal into the lead's page: a status conflict names the status.
func refusal(err error, r referral.Referral, specialist string) error {
	switch referral.ErrorCode(err) {
	case referral.CodeConflict:
		return &Refused{Reason: RefusedStatus, Status: r.Status}
	case referral.CodeInvalid:
		return &Refused{Reason: RefusedNoRoom, Specialist: specialist}
	}
	return err
}

func candidates(specs []Specialist) []referral.Candidate {
	out := make([]referral.Candidate, 0, len(specs))
	for _, s := range specs {
		out = append(out, referral.Candidate{ID: s.ID, Capacity: s.Capacity, Caseload: s.Caseload, Active: s.Active})
	}
	return out
}
