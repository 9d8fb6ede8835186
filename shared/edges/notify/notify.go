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
	"github.com/ipspc/referrals/shared/domain/notification"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/email"
)

// Notice is one email to one recipient (notification.Notice).
type Notice = notification.Notice

// Store keeps referrals' notification records.
type Store interface {
	// Load reads a referral and the notices already sent for it, in one consistent read.
	Load(ctx context.Context, referralID string) (referral.Referral, map[Notice]bool, error)
	// Claim takes the right to send the notice for the referral. claimed is false when it was
	// sent already; ErrClaimHeld means another sender holds an unexpired claim (retry later).
	Claim(ctx context.Context, referralID string, notice Notice, claimant string, now time.Time) (claimed bool, err error)
	// Confirm marks the notice sent and appends the audit event, atomically.
	Confirm(ctx context.Context, referralID string, notice Notice, claimant, messageID string, event referral.Event) error
	// Release gives a claim back after a send that SES refused: nothing went out, retry promptly.
	Release(ctx context.Context, referralID string, notice Notice, claimant string) error
	// Hold keeps a claim after a send whose outcome is unknown (SES may still deliver it): no
	// sender may claim the notice again for the store's lease, at least UnknownOutcomeHold. It
	// also makes r due to the sweep (DueFinder) once the lease ends, until the notice is sent or
	// forgotten, so an email SES never took is sent then.
	Hold(ctx context.Context, r referral.Referral, notice Notice, claimant string, now time.Time) error
	// Forget stops a held notice the referral no longer owes from making it due; it stays unsent.
	Forget(ctx context.Context, referralID string, notice Notice) error
	// ClearOutcomeCheck takes r, as read, off the sweep's due list when what put it there is its
	// outcome check (SPEC §11), once that is sent or no longer wanted. A due entry of another
	// kind stays; clearing what is not there is no error.
	ClearOutcomeCheck(ctx context.Context, r referral.Referral) error
}

// The claim errors and the hold live in the domain, where the store that returns them can see
// them too.
var (
	ErrClaimHeld      = notification.ErrClaimHeld
	ErrOutcomeUnknown = notification.ErrOutcomeUnknown
	ErrOutcomePending = notification.ErrOutcomePending
)

const UnknownOutcomeHold = notification.UnknownOutcomeHold

// ReferrerLinkTTL is how long the referrer's link works (SPEC §10).
const ReferrerLinkTTL = 90 * 24 * time.Hour

// People finds who to email.
type People interface {
	Specialist(ctx context.Context, areaID, specialistID string) (directory.Specialist, error)
	AreaContacts(ctx context.Context, areaID string) (directory.Area, error)
}

// Mailer sends one email. An error wrapping ErrOutcomeUnknown means it may have been sent;
// any other error means it was not.
type Mailer interface {
	Send(ctx context.Context, m email.Message) (messageID string, err error)
}

// Linker signs links: specialists' (Sign) and referrers' (Issue with RoleReferrer).
type Linker interface {
	Sign(referralID, specialistID string, expires time.Time) string
	Issue(c signedlink.Claim, expires time.Time) string
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

// Due lists the emails the referral's current state calls for: the referrer's acknowledgement
// always (but once withdrawn: the referrer withdrew through it); the area lead's waitlist email
// while it waits; the specialist's assignment while it has one; the referrer's started-support
// once a first meeting is recorded; closed once closed; withdrawn, to the specialist who had it
// (if any) and to the referrer, once withdrawn.
func Due(r referral.Referral) []Notice {
	if r.Status == referral.StatusWithdrawn {
		out := []Notice{}
		if r.SpecialistID != "" {
			out = append(out, Notice{Kind: email.Withdrawn, Audience: email.AudienceSpecialist})
		}
		return append(out, Notice{Kind: email.Withdrawn, Audience: email.AudienceReferrer})
	}
	out := []Notice{{Kind: email.Acknowledgement}}
	switch {
	case r.Status == referral.StatusWaitlisted:
		out = append(out, Notice{Kind: email.Waitlisted})
	case r.Status.Open() && r.SpecialistID != "":
		out = append(out, Notice{Kind: email.Assignment})
	}
	if lastEvent(r, referral.EventMet) != nil {
		out = append(out, Notice{Kind: email.StartedSupport, Audience: email.AudienceReferrer})
	}
	if r.Status == referral.StatusClosed {
		out = append(out, Notice{Kind: email.Closed, Audience: email.AudienceReferrer})
	}
	return out
}

// lastEvent is r's latest audit event of type typ, or nil.
func lastEvent(r referral.Referral, typ string) *referral.Event {
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Type == typ {
			return &r.Events[i]
		}
	}
	return nil
}

// attempts counts r's recorded contact attempts.
func attempts(r referral.Referral) int {
	n := 0
	for _, e := range r.Events {
		if e.Type == referral.EventAttempted {
			n++
		}
	}
	return n
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
	n = n.oneReferral()
	var errs, unknown []error
	for _, notice := range Due(r) {
		if sent[notice] {
			continue
		}
		copyOf, err := n.LeadCopy(ctx, r, notice, sent)
		if err == nil && copyOf != nil {
			err = n.Send(ctx, r, *copyOf)
		}
		switch {
		case errors.Is(err, ErrOutcomeUnknown):
			unknown = append(unknown, err)
		case err != nil: // the original waits for its copy, so a retry sends both
			errs = append(errs, err)
			continue
		}
		switch err := n.Send(ctx, r, notice); {
		case errors.Is(err, ErrOutcomeUnknown):
			unknown = append(unknown, err)
		case err != nil:
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	// Only unknown outcomes: they are held, and retrying the record could not send them anyway.
	return errors.Join(unknown...)
}

// LeadCopy returns the area lead's copy of a notice meant for r's specialist when it is due: the
// specialist's current address is bouncing and no copy was sent (sent holds the notices already
// sent). Overdue kinds copy the lead anyway. The copy goes before the original, so the original
// is never sent without it: a copy is only ever of an email being sent now.
func (n *Notifier) LeadCopy(ctx context.Context, r referral.Referral, notice Notice, sent map[Notice]bool) (*Notice, error) {
	c := Notice{Kind: notice.Kind, Audience: email.AudienceLead}
	switch {
	case sent[c] || r.SpecialistID == "":
		return nil, nil
	case notice.Audience == "" && (notice.Kind == email.Assignment || notice.Kind == email.ContactReminder || notice.Kind == email.MeetingReminder),
		notice.Kind == email.Withdrawn && notice.Audience == email.AudienceSpecialist:
	default:
		return nil, nil
	}
	s, err := n.People.Specialist(ctx, r.Area, r.SpecialistID)
	if err != nil {
		return nil, fmt.Errorf("%s email for %s: specialist %s: %w", notice, r.ID, r.SpecialistID, err)
	}
	if !s.Bouncing {
		return nil, nil
	}
	return &c, nil
}

// oneReferral is n for the emails about one referral: they share its area and specialist, so
// each is read from the directory once for all of them.
func (n *Notifier) oneReferral() *Notifier {
	c := *n
	c.People = &peopleOnce{People: n.People}
	return &c
}

// peopleOnce memoises the directory reads made for one referral's emails; failures are not kept.
type peopleOnce struct {
	People
	areas       map[string]directory.Area
	specialists map[[2]string]directory.Specialist
}

func (p *peopleOnce) AreaContacts(ctx context.Context, areaID string) (directory.Area, error) {
	if a, ok := p.areas[areaID]; ok {
		return a, nil
	}
	a, err := p.People.AreaContacts(ctx, areaID)
	if err == nil {
		if p.areas == nil {
			p.areas = map[string]directory.Area{}
		}
		p.areas[areaID] = a
	}
	return a, err
}

func (p *peopleOnce) Specialist(ctx context.Context, areaID, specialistID string) (directory.Specialist, error) {
	k := [2]string{areaID, specialistID}
	if s, ok := p.specialists[k]; ok {
		return s, nil
	}
	s, err := p.People.Specialist(ctx, areaID, specialistID)
	if err == nil {
		if p.specialists == nil {
			p.specialists = map[[2]string]directory.Specialist{}
		}
		p.specialists[k] = s
	}
	return s, err
}

// Send sends one notice about r, at most once: claim, send, confirm. A send SES refused releases
// the claim and returns the error so the caller retries; a send whose outcome is unknown keeps
// the claim (Hold), so nobody sends it again while SES may still deliver it, and returns an
// error wrapping ErrOutcomeUnknown.
func (n *Notifier) Send(ctx context.Context, r referral.Referral, notice Notice) error {
	now := n.Now()
	claimant := n.claimant(ctx)
	claimed, err := n.Store.Claim(ctx, r.ID, notice, claimant, now)
	if err != nil {
		return fmt.Errorf("%s email for %s: %w", notice, r.ID, err)
	}
	if !claimed {
		return nil // sent already
	}
	kind := notice.Kind
	msg, err := n.message(ctx, r, notice, now)
	if err == nil {
		var id string
		if id, err = n.send(ctx, msg); err == nil {
			event := referral.Event{At: now.UTC(), Type: eventType(kind), By: referral.System, Via: n.Via, Detail: string(msg.Kind)}
			if err := n.Store.Confirm(ctx, r.ID, notice, claimant, id, event); err != nil {
				// Sent but not confirmed: the claim expires and a retry could send again. Report
				// it; duplicates are better than a lost email, and this needs DynamoDB to fail
				// between two calls.
				return fmt.Errorf("%s email for %s sent (%s) but not recorded: %w", notice, r.ID, id, err)
			}
			return nil
		}
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		if herr := n.Store.Hold(context.WithoutCancel(ctx), r, notice, claimant, n.Now()); herr != nil {
			// The claim still blocks others until its lease ends, but nothing would bring the
			// notice back after it: a failure, not a held outcome, so the stream retries the
			// record (its retries find the claim until the lease ends, then send) and the sweep
			// alarms.
			return fmt.Errorf("%s email for %s: outcome unknown (%v), and the hold was not recorded: %w", notice, r.ID, err, herr)
		}
		return fmt.Errorf("%s email for %s (not sent again for %s): %w", notice, r.ID, UnknownOutcomeHold, err)
	}
	if rerr := n.Store.Release(context.WithoutCancel(ctx), r.ID, notice, claimant); rerr != nil {
		err = errors.Join(err, fmt.Errorf("release claim: %w", rerr))
	}
	return fmt.Errorf("%s email for %s: %w", notice, r.ID, err)
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
func (n *Notifier) message(ctx context.Context, r referral.Referral, notice Notice, now time.Time) (email.Message, error) {
	kind := notice.Kind
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
	toReferrer := func() { m.To, m.RecipientName = []string{r.Referrer.Email}, r.Referrer.Name }
	switch {
	case notice.Audience == email.AudienceLead: // the lead's copy of a bouncing specialist's email
		if r.SpecialistID == "" {
			return m, fmt.Errorf("%s email for %s: no specialist assigned", notice, r.ID)
		}
		s, err := n.People.Specialist(ctx, r.Area, r.SpecialistID)
		if err != nil {
			return m, fmt.Errorf("specialist %s: %w", r.SpecialistID, err)
		}
		m.Kind, m.CopyOf, m.SpecialistName, m.PreferredContact = email.BouncingCopy, kind, s.Name, ""
		switch kind { // the deadlines the specialist's email gave, and never their link
		case email.ContactReminder:
			m.MeetBy = calendar.Date{}
		case email.MeetingReminder:
			m.ContactBy = calendar.Date{}
		case email.Withdrawn:
			m.ContactBy, m.MeetBy = calendar.Date{}, calendar.Date{}
		}
		if m.To, m.RecipientName, m.Link, err = n.toLead(r.Area, area, now); err != nil {
			return m, err
		}
	case kind == email.Acknowledgement:
		toReferrer()
		m.Link = n.BaseURL + "/referrals/" + r.ID + "/status?token=" + n.Links.Issue(signedlink.Claim{
			Role: signedlink.RoleReferrer, Subject: r.ID, Binding: strings.ToLower(r.Referrer.Email),
		}, now.Add(ReferrerLinkTTL))
	case kind == email.StartedSupport || kind == email.Closed || notice.Audience == email.AudienceReferrer:
		// Updates to the referrer carry no deadlines, no contact method and no link.
		toReferrer()
		m.PreferredContact, m.ContactBy, m.MeetBy = "", calendar.Date{}, calendar.Date{}
		m.Audience = notice.Audience
		if kind == email.Closed {
			if e := lastEvent(r, referral.EventClosed); e != nil {
				m.Reason = e.Detail
			}
		}
		if kind == email.Withdrawn {
			m.Reason = withdrawReason(r)
		} else {
			m.Audience = "" // one recipient: the email does not say who
		}
	case kind == email.Withdrawn: // to the specialist who had it: "do not contact", so no contact details
		if r.SpecialistID == "" {
			return m, fmt.Errorf("%s email for %s: no specialist to tell", notice, r.ID)
		}
		s, err := n.People.Specialist(ctx, r.Area, r.SpecialistID)
		if err != nil {
			return m, fmt.Errorf("specialist %s: %w", r.SpecialistID, err)
		}
		m.To, m.RecipientName = []string{s.Email}, s.Name
		m.PreferredContact, m.ContactBy, m.MeetBy = "", calendar.Date{}, calendar.Date{}
		m.Audience, m.Reason = email.AudienceSpecialist, withdrawReason(r)
	case kind == email.Waitlisted:
		if m.To, m.RecipientName, m.Link, err = n.toLead(r.Area, area, now); err != nil {
			return m, err
		}
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
			m.Attempts = attempts(r)
			break
		}
		if kind == email.OutcomeCheck { // about the job: no deadlines, no contact method
			m.PreferredContact, m.ContactBy, m.MeetBy = "", calendar.Date{}, calendar.Date{}
			if jobs := r.Jobs(); len(jobs) > 0 {
				m.JobStart = jobs[0].Start // the first job: the one the check is about
			}
		}
		m.Link = n.BaseURL + "/referrals/" + r.ID + "?token=" + n.Links.Sign(r.ID, r.SpecialistID, now.Add(n.LinkTTL))
	}
	return m, nil
}

// toLead addresses an email to the area's lead, with the lead's own worklist link (SPEC §10),
// bound to the area and this lead.
func (n *Notifier) toLead(areaID string, area directory.Area, now time.Time) (to []string, name, link string, err error) {
	if area.Lead.Email == "" {
		return nil, "", "", fmt.Errorf("area %s has no lead to email", areaID)
	}
	token, _, err := worklist.IssueLink(n.Links, areaID, area.Lead.Email, now)
	if err != nil {
		return nil, "", "", fmt.Errorf("area %s lead link: %w", areaID, err)
	}
	return []string{area.Lead.Email}, area.Lead.Name, n.BaseURL + worklist.LinkURL(areaID, token), nil
}

// withdrawReason is the reason of r's withdraw event.
func withdrawReason(r referral.Referral) string {
	if e := lastEvent(r, referral.EventWithdrawn); e != nil {
		return e.Detail
	}
	return ""
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
