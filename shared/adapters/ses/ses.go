// Package ses sends the service's emails through Amazon SES v2.
package ses

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/ipspc/referrals/shared/render/email"
)

// SESAPI is the one SES v2 call the Sender makes.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ SESAPI = (*sesv2.Client)(nil)

// Sender sends email.Messages through SES v2.
type Sender struct {
	client           SESAPI
	from             string
	configurationSet string
}

// NewSender returns a Sender that sends from the address from (SENDER_ADDRESS) through client,
// in configurationSet when it is not empty (the local emulator has none).
func NewSender(client SESAPI, from, configurationSet string) *Sender {
	return &Sender{client: client, from: from, configurationSet: configurationSet}
}

const charset = "UTF-8"

// Send renders m and sends it, returning SES's message id. Errors name the kind and referral id,
// never patient data; a message that cannot be rendered wraps ErrInvalidMessage (do not retry).
func (s *Sender) Send(ctx context.Context, m email.Message) (messageID string, err error) {
	r, err := email.Render(m)
	if err != nil {
		return "", fmt.Errorf("send %q email for referral %s: %w", m.Kind, reference(m.ReferralID), err)
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination: &types.Destination{
			ToAddresses: slices.Clone(m.To),
			CcAddresses: slices.Clone(m.Cc),
		},
		Content: &types.EmailContent{
			Simple: &types.Message{
				Subject: &types.Content{Data: aws.String(r.Subject), Charset: aws.String(charset)},
				Body: &types.Body{
					Text: &types.Content{Data: aws.String(r.Text), Charset: aws.String(charset)},
					Html: &types.Content{Data: aws.String(r.HTML), Charset: aws.String(charset)},
				},
			},
		},
		// Tags reach SES event destinations (bounces, complaints): the kind only, no patient data.
		EmailTags: []types.MessageTag{{Name: aws.String("kind"), Value: aws.String(string(m.Kind))}},
	}
	if s.configurationSet != "" {
		in.ConfigurationSetName = aws.String(s.configurationSet)
	}
	out, err := s.client.SendEmail(ctx, in)
	if err != nil {
		return "", fmt.Errorf("send %s email for referral %s: %w", m.Kind, m.ReferralID, err)
	}
	if out == nil {
		return "", nil
	}
	return aws.ToString(out.MessageId), nil
}

// reference returns a referral id fit for an error message: as it is when well formed, quoted
// (so no control character reaches a log line) when not.
func reference(id string) string {
	for _, r := range id {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') || len(id) > 32 {
			return fmt.Sprintf("%q", id)
		}
	}
	return id
}
