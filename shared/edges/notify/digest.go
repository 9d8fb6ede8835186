package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/render/email"
)

// DigestStore is what the weekly digest reads and claims (dynamo.Worklists).
type DigestStore interface {
	Snapshot(ctx context.Context, areaID, areaName string) (worklist.Snapshot, error)
	ClaimDigest(ctx context.Context, areaID, week string, now time.Time) (bool, error)
	ReleaseDigest(ctx context.Context, areaID, week string) error
}

// ReceivedCounter counts an area's referrals received on the days from (inclusive) to to
// (exclusive), from the returns table's received facts (dynamo.Returns).
type ReceivedCounter interface {
	ReceivedBetween(ctx context.Context, areaID string, from, to calendar.Date) (int, error)
}

// AreaLister lists the directory's areas (dynamo.Directory).
type AreaLister interface {
	Areas(ctx context.Context) ([]directory.Area, error)
}

// DigestMailer sends a rendered lead digest.
type DigestMailer interface {
	SendDigest(ctx context.Context, d email.Digest) (messageID string, err error)
}

// Digests sends each area lead the weekly digest (SPEC §11) from a run of the reminders schedule.
// It lives here rather than with the lead's pages (shared/edges/lead) so that the reminders
// function links no page code (issue 14).
type Digests struct {
	Areas AreaLister
	Store DigestStore
	// Received counts last week's referrals (the returns table: no index on the referrals).
	Received ReceivedCounter
	Links    worklist.Issuer
	Mailer   DigestMailer
	BaseURL  string // PUBLIC_BASE_URL: the worklist link is absolute
}

// Run sends the digests due at now, the scheduled event's time: nothing outside Monday 08:00 to
// Friday, and at most one per area and ISO week whatever the runs. An area's digest is claimed
// before it is sent and the claim released if sending fails, so the next run tries again. It
// returns how many were sent; one area's failure does not stop the others.
func (d *Digests) Run(ctx context.Context, now time.Time) (sent int, err error) {
	week, due := worklist.DigestWeek(now)
	if !due {
		return 0, nil
	}
	areas, err := d.Areas.Areas(ctx)
	if err != nil {
		return 0, fmt.Errorf("lead digest: %w", err)
	}
	var errs []error
	for _, a := range areas {
		if worklist.Binding(a.Lead.Email) == "" {
			continue // no lead to send to: `directory import` warns about it
		}
		ok, err := d.Store.ClaimDigest(ctx, a.ID, week, now)
		if err != nil || !ok {
			errs = append(errs, err)
			continue
		}
		if err := d.send(ctx, a, now); err != nil {
			errs = append(errs, fmt.Errorf("lead digest of %s: %w", a.ID, err))
			if rerr := d.Store.ReleaseDigest(ctx, a.ID, week); rerr != nil {
				errs = append(errs, rerr)
			}
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func (d *Digests) send(ctx context.Context, a directory.Area, now time.Time) error {
	snap, err := d.Store.Snapshot(ctx, a.ID, a.Name)
	if err != nil {
		return err
	}
	from, to := worklist.LastWeek(now)
	received, err := d.Received.ReceivedBetween(ctx, a.ID, calendar.DateOf(from), calendar.DateOf(to))
	if err != nil {
		return err
	}
	counts := worklist.DigestOf(worklist.Build(snap, now), received)
	token, _, err := worklist.IssueLink(d.Links, a.ID, a.Lead.Email, now)
	if err != nil {
		return err
	}
	_, err = d.Mailer.SendDigest(ctx, email.Digest{
		To: []string{strings.TrimSpace(a.Lead.Email)}, RecipientName: a.Lead.Name, AreaName: a.Name,
		Waitlisted: counts.Waitlisted, OldestWaitDays: counts.OldestWaitDays, Overdue: counts.Overdue,
		ReceivedLastWeek: counts.ReceivedLastWeek, Bouncing: counts.Bouncing,
		Link: strings.TrimRight(d.BaseURL, "/") + worklist.LinkURL(a.ID, token),
	})
	return err
}
