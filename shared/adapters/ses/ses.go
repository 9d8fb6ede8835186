// Package ses sends the service's emails through Amazon SES v2.
package ses

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ipspc/referrals/shared/domain/notification"
)

// SESAPI is the one SES v2 call the Sender makes.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

var _ SESAPI = (*sesv2.Client)(nil)

// Sender sends rendered emails through SES v2.
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

// Send sends e, rendered by the caller (email.Outbox), returning SES's message id. Errors name
// the kind and what it is about (e.About), never patient data; one wrapping
// notification.ErrOutcomeUnknown means SES may still deliver it.
func (s *Sender) Send(ctx context.Context, e notification.Email) (string, error) {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination: &types.Destination{
			ToAddresses: slices.Clone(e.To),
			CcAddresses: slices.Clone(e.Cc),
		},
		Content: &types.EmailContent{
			Simple: &types.Message{
				Subject: &types.Content{Data: aws.String(e.Subject), Charset: aws.String(charset)},
				Body: &types.Body{
					Text: &types.Content{Data: aws.String(e.Text), Charset: aws.String(charset)},
					Html: &types.Content{Data: aws.String(e.HTML), Charset: aws.String(charset)},
				},
			},
		},
		// Tags reach SES event destinations (bounces, complaints): the kind only, no patient data.
		EmailTags: []types.MessageTag{{Name: aws.String("kind"), Value: aws.String(string(e.Kind))}},
	}
	if s.configurationSet != "" {
		in.ConfigurationSetName = aws.String(s.configurationSet)
	}
	var wrote atomic.Int64 // when the request last went out whole (Unix ns); 0: never
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(time.Now().UnixNano())
		}
	}})
	out, err := s.client.SendEmail(ctx, in)
	if err != nil {
		err = fmt.Errorf("send %s email for %s: %w", e.Kind, e.About, err)
		if outcomeUnknown(err, wrote.Load()) {
			return "", fmt.Errorf("%w: %w", notification.ErrOutcomeUnknown, err)
		}
		return "", err
	}
	if out == nil {
		return "", nil
	}
	return aws.ToString(out.MessageId), nil
}

// heldFor is how long SES must have held a request that went out before a cut connection
// counts as "it may have been sent". A connection closed at once (an endpoint that is down, a
// load balancer refusing it) did not get the request processed; one held this long might have.
const heldFor = time.Second

// outcomeUnknown reports whether a failed SendEmail may still deliver the email: the request went
// out whole and no answer came back, because the call timed out or the connection was cut after
// SES had held it. An answer from SES (any error response), or a request that never went out,
// means it was not sent.
func outcomeUnknown(err error, wroteAt int64) bool {
	var answered *smithyhttp.ResponseError
	var apiErr smithy.APIError
	// The SDK wraps every failure in a ResponseError; only one with a status is an answer.
	if errors.As(err, &answered) && answered.HTTPStatusCode() != 0 || errors.As(err, &apiErr) || wroteAt == 0 {
		return false
	}
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return time.Since(time.Unix(0, wroteAt)) >= heldFor
}

// Retryer is the SES client's retryer (functions set sesv2.Options.Retryer to it): the SDK's
// standard one, retrying only what certainly did not send, a connection never made or SES's
// own "too many requests". Its default also retries timeouts and cut connections, after which
// SES may deliver the first attempt as well as the retry (issue 11: up to 4 copies of one email).
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(preSend)}
	})
}

// preSend reports errors known to have happened before SES took the request.
func preSend(err error) aws.Ternary {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "TooManyRequestsException", "Throttling", "ThrottlingException":
			return aws.TrueTernary
		}
		return aws.FalseTernary
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) && opErr.Op == "dial" || errors.As(err, &dnsErr) {
		return aws.TrueTernary
	}
	return aws.FalseTernary
}

// NoResend is the option every SES client of the service is made with:
// sesv2.NewFromConfig(cfg, ses.NoResend). It sets Retryer.
func NoResend(o *sesv2.Options) { o.Retryer = Retryer() }
