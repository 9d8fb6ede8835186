package email

import (
	"context"
	"fmt"

	"github.com/ipspc/referrals/shared/domain/notification"
)

// Transport sends an email already rendered, returning its message id. An error wrapping
// notification.ErrOutcomeUnknown means it may have been sent; any other, that it was not.
type Transport interface {
	Send(ctx context.Context, e notification.Email) (messageID string, err error)
}

// Outbox renders messages and hands them to its Transport (the SES adapter): the edges' Mailer.
// A message that cannot be rendered never reaches the Transport; its error wraps
// ErrInvalidMessage (do not retry). Errors name the kind and the referral or area, never
// patient data.
type Outbox struct {
	Transport Transport
}

// Send renders m and sends it.
func (o Outbox) Send(ctx context.Context, m Message) (messageID string, err error) {
	r, err := Render(m)
	if err != nil {
		return "", fmt.Errorf("send %q email for referral %s: %w", m.Kind, reference(m.ReferralID), err)
	}
	return o.Transport.Send(ctx, notification.Email{Kind: m.Kind, About: "referral " + m.ReferralID,
		To: m.To, Cc: m.Cc, Subject: r.Subject, Text: r.Text, HTML: r.HTML})
}

// SendDigest renders the lead's weekly digest and sends it. Errors name the area, never counts
// or the link.
func (o Outbox) SendDigest(ctx context.Context, d Digest) (messageID string, err error) {
	about := "area " + reference(d.AreaName)
	r, err := RenderDigest(d)
	if err != nil {
		return "", fmt.Errorf("send %s email for %s: %w", LeadDigest, about, err)
	}
	return o.Transport.Send(ctx, notification.Email{Kind: LeadDigest, About: about,
		To: d.To, Subject: r.Subject, Text: r.Text, HTML: r.HTML})
}

// reference returns a referral id or area name fit for an error message: as it is when well
// formed, quoted (so no control character reaches a log line) when not.
func reference(id string) string {
	for _, r := range id {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') || len(id) > 32 {
			return fmt.Sprintf("%q", id)
		}
	}
	return id
}
