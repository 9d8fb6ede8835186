// Package notify decides which emails a referral's state calls for and sends each kind at most
// once (SPEC §7): a notification record is claimed with a condition before sending and confirmed
// after, so a retried stream batch or an overlapping run never sends twice, and a failed send
// releases its claim so the retry sends it.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/render/email"
)

// Store keeps referrals' notification records.
type Store interface {
	// Load reads a referral and the email kinds already sent for it, in one consistent read.
	Load(ctx context.Context, referralID string) (referral.Referral, map[email.Kind]bool, error)
	// Claim takes the right to send kind for the referral. claimed is false when it was sent
	// already; ErrClaimHeld means another sender holds an unexpired claim (retry later).
	Claim(ctx context.Context, referralID string, kind email.Kind, claimant string, now time.Time) (claimed bool, err error)
	// Confirm marks kind sent and appends the audit event, atomically.
	Confirm(ctx context.Context, referralID string, kind email.Kind, claimant, messageID string, event referral.Event) error
	// Release gives a claim back after a failed send.
	Release(ctx context.Context, referralID string, kind email.Kind, claimant string) error
}

// ErrClaimHeld is returned by Claim while another sender's claim is unexpired.
var ErrClaimHeld = errors.New("notification claimed by another sender")

// People finds who to email.
type People interface {
	Specialist(ctx context.Context, areaID, specialistID string) (directory.Specialist, error)
	AreaContacts(ctx context.Context, areaID string) (directory.Area, error)
}

// Mailer sends one email.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (messageID string, err error)
}

// Linker signs specialist links.
type Linker interface {
	Sign(referralID, specialistID string, expires time.Time) string
}

// Notifier sends a referral's emails.
type Notifier struct {
	Store   Store
	People  People
	Mailer  Mailer
	Links   Linker
	BaseURL string        // the public URL of the HTTP API, without a trailing slash
	LinkTTL time.Duration // how long a specialist's link works
	Now     func() time.Time
	// Claimant names this sender in claims (the Lambda request id does well).
	Claimant func(ctx context.Context) string
	// Via names the trigger in audit events: "stream" (NotifierFunction) or "schedule".
	Via string
	// SendTimeout bounds one SES call, so a hung endpoint fails the record instead of the whole
	// invocation. It must stay well under the store's claim lease.
	SendTimeout time.Duration
}

// Due lists the emails the referral's current state calls for on intake and assignment:
// the referrer's acknowledgement always; the area lead's waitlist email while it waits; the
// specialist's assignment once it has one.
func Due(r referral.Referral) []email.Kind {
	kinds := []email.Kind{email.Acknowledgement}
	switch {
	case r.Status == referral.StatusWaitlisted:
		kinds = append(kinds, email.Waitlisted)
	case r.Status.Open() && r.SpecialistID != "":
		kinds = append(kinds, email.Assignment)
	}
	return kinds
}

// Referral sends every due email of the referral that has not been sent yet.
func (n *Notifier) Referral(ctx context.Context, referralID string) error {
	r, sent, err := n.Store.Load(ctx, referralID)
	if err != nil {
		if referral.ErrorCode(err) == referral.CodeNotFound {
			return nil // deleted by retention: nothing to tell anyone
		}
		return err
	}
	var errs []error
	for _, kind := range Due(r) {
		if sent[kind] {
			continue
		}
		if err := n.Send(ctx, r, kind); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Send sends one kind of email about r, at most once: claim, send, confirm; a failed send
// releases the claim and returns the error so the caller retries.
func (n *Notifier) Send(ctx context.Context, r referral.Referral, kind email.Kind) error {
	now := n.Now()
	claimant := n.claimant(ctx)
	claimed, err := n.Store.Claim(ctx, r.ID, kind, claimant, now)
	if err != nil {
		return fmt.Errorf("%s email for %s: %w", kind, r.ID, err)
	}
	if !claimed {
		return nil // sent already
	}
	msg, err := n.message(ctx, r, kind, now)
	if err == nil {
		var id string
		if id, err = n.send(ctx, msg); err == nil {
			event := referral.Event{At: now.UTC(), Type: eventType(kind), By: referral.System, Via: n.Via, Detail: string(kind)}
			if err := n.Store.Confirm(ctx, r.ID, kind, claimant, id, event); err != nil {
				// Sent but not confirmed: the claim expires and a retry could send again. Report
				// it; duplicates are better than a lost email, and this needs DynamoDB to fail
				// between two calls.
				return fmt.Errorf("%s email for %s sent (%s) but not recorded: %w", kind, r.ID, id, err)
			}
			return nil
		}
	}
	if rerr := n.Store.Release(context.WithoutCancel(ctx), r.ID, kind, claimant); rerr != nil {
		err = errors.Join(err, fmt.Errorf("release claim: %w", rerr))
	}
	return fmt.Errorf("%s email for %s: %w", kind, r.ID, err)
}

func (n *Notifier) send(ctx context.Context, m email.Message) (string, error) {
	timeout := n.SendTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return n.Mailer.Send(ctx, m)
}

func eventType(kind email.Kind) string {
	switch kind {
	case email.ContactReminder, email.MeetingReminder:
		return referral.EventReminded
	case email.ContactOverdue, email.MeetingOverdue:
		return referral.EventEscalated
	default:
		return referral.EventEmailed
	}
}

func (n *Notifier) claimant(ctx context.Context) string {
	if n.Claimant != nil {
		if c := n.Claimant(ctx); c != "" {
			return c
		}
	}
	return referral.NewID() // unique enough to tell two senders apart
}

// message builds the email for kind: recipients from the directory, and only the patient data
// SPEC §7 allows (email.Message has no field for anything else).
func (n *Notifier) message(ctx context.Context, r referral.Referral, kind email.Kind, now time.Time) (email.Message, error) {
	area, err := n.People.AreaContacts(ctx, r.Area)
	if err != nil {
		return email.Message{}, fmt.Errorf("area %s: %w", r.Area, err)
	}
	m := email.Message{
		Kind:             kind,
		ReferralID:       r.ID,
		PatientGivenName: r.Patient.GivenName,
		PatientInitial:   initial(r.Patient.FamilyName),
		AreaName:         area.Name,
		PreferredContact: r.Patient.PreferredContact,
		Status:           email.StatusAssigned,
		ReReferral:       r.ReReferral,
	}
	if r.Status == referral.StatusWaitlisted {
		m.Status = email.StatusWaitlisted
	}
	if r.SpecialistID != "" {
		m.ContactBy, m.MeetBy = r.ContactBy, r.MeetBy
	}
	switch kind {
	case email.Acknowledgement:
		m.To, m.RecipientName = []string{r.Referrer.Email}, r.Referrer.Name
	case email.Waitlisted:
		if area.Lead.Email == "" {
			return m, fmt.Errorf("area %s has no lead to tell about a waitlisted referral", r.Area)
		}
		m.To, m.RecipientName = []string{area.Lead.Email}, area.Lead.Name
	default: // to the specialist
		if r.SpecialistID == "" {
			return m, fmt.Errorf("%s email for %s: no specialist assigned", kind, r.ID)
		}
		s, err := n.People.Specialist(ctx, r.Area, r.SpecialistID)
		if err != nil {
			return m, fmt.Errorf("specialist %s: %w", r.SpecialistID, err)
		}
		m.To, m.RecipientName, m.SpecialistName = []string{s.Email}, s.Name, s.Name
		if kind == email.ContactOverdue || kind == email.MeetingOverdue {
			// Escalations copy the lead, so they carry no link: a link acts as the specialist.
			if area.Lead.Email == "" {
				return m, fmt.Errorf("area %s has no lead to copy on an escalation", r.Area)
			}
			m.Cc = []string{area.Lead.Email}
			break
		}
		m.Link = n.BaseURL + "/referrals/" + r.ID + "?token=" + n.Links.Sign(r.ID, r.SpecialistID, now.Add(n.LinkTTL))
	}
	return m, nil
}

// initial is the family-name initial: the first letter, upper-cased ("'t Hooft" gives "T"). The
// first character may be no letter, and emails refuse an initial that is not one.
func initial(family string) string {
	for _, r := range family {
		if unicode.IsLetter(r) {
			return strings.ToUpper(string(r))
		}
	}
	return ""
}
