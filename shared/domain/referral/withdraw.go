package referral

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ipspc/referrals/shared/lib/postcode"
)

// Minimised is what is kept of a submission withdrawn as entered-in-error (SPEC §9's data
// minimisation): the given name's initial, the postcode's outward code (the area stays
// explainable), the work situation, and the referrer (who withdrew it and is told so). Names,
// NHS number, date of birth, phone, email, preferred contact, health conditions and notes go.
func (s Submission) Minimised() Submission {
	out := Submission{Referrer: s.Referrer, EmploymentStatus: s.EmploymentStatus, Consent: s.Consent}
	if r, _ := utf8.DecodeRuneInString(strings.TrimSpace(s.Patient.GivenName)); r != utf8.RuneError {
		out.Patient.GivenName = string(unicode.ToUpper(r))
	}
	if pc, err := postcode.Parse(s.Patient.Postcode); err == nil {
		out.Patient.Postcode = pc.District()
	}
	return out
}

// WithdrawStore is what a referrer's withdraw needs of storage.
type WithdrawStore interface {
	// Get returns a not-found *Error when there is no such referral.
	Get(ctx context.Context, id string) (Referral, error)
	// Withdraw stores t (a withdraw of r): on condition that r is still in the status, and with
	// the specialist, it was read in, it sets the status, appends t.Event, releases the unit and
	// the open case as a close does, and, when t.Erased, keeps only t.Referral's minimised
	// submission, all in one write. When the condition fails it returns ErrChanged.
	Withdraw(ctx context.Context, r Referral, t Transition) error
}

// Referrers serves the referrer's side of a referral (SPEC §10 "Referrer"): its status page and
// the withdraw. Callers have already checked the referrer's signed link against the referral.
type Referrers struct {
	Store WithdrawStore
	// Drain, if set, is called after a withdraw, so freed capacity goes to the area's waitlist.
	Drain Drainer
	Now   func() time.Time
}

// Withdrawn is the result of a withdraw.
type Withdrawn struct {
	Recorded
	// Erased is true when this withdraw removed the patient's personal data (entered-in-error).
	Erased bool
}

// View returns the referral, or a not-found *Error. It never writes.
func (s *Referrers) View(ctx context.Context, id string) (Referral, error) {
	r, err := s.Store.Get(ctx, id)
	if err != nil {
		return Referral{}, unavailable("read referral", err)
	}
	return r, nil
}

// Withdraw withdraws the referral with reason (one of WithdrawReasons). A repeat answers
// AlreadyRecorded. Errors are *Error: not found; conflict (not allowed from its status, in plain
// words); invalid (reason missing or unknown, on field "reason"); unavailable.
func (s *Referrers) Withdraw(ctx context.Context, id, reason string) (Withdrawn, error) {
	var lastErr error
	for range maxProgressAttempts {
		r, err := s.View(ctx, id)
		if err != nil {
			return Withdrawn{}, err
		}
		t, err := Apply(r, Command{Kind: KindWithdraw, Actor: ActorReferrer, Via: ViaSignedLink, Reason: reason}, s.Now())
		if err != nil {
			return Withdrawn{Recorded: Recorded{Referral: r}}, err
		}
		if t.AlreadyRecorded {
			return Withdrawn{Recorded: Recorded{Referral: r, AlreadyRecorded: true}}, nil
		}
		err = s.Store.Withdraw(ctx, r, t)
		if errors.Is(err, ErrChanged) {
			lastErr = err
			continue // someone else changed it: read again and decide afresh
		}
		if err != nil {
			return Withdrawn{}, unavailable("withdraw "+r.ID, err)
		}
		out := Withdrawn{Recorded: Recorded{Referral: t.Referral}, Erased: t.Erased}
		if t.FreesCapacity && s.Drain != nil {
			if err := s.Drain.Drain(ctx, r.Area); err != nil {
				out.DrainErr = fmt.Errorf("drain waitlist of %s after withdrawing %s: %w", r.Area, r.ID, err)
			}
		}
		return out, nil
	}
	return Withdrawn{}, unavailable("withdraw "+id, fmt.Errorf("gave up after %d attempts: %w", maxProgressAttempts, lastErr))
}
