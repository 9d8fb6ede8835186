package ses

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// Calls is the SES v2 client cut down to SendEmail, bound as a method value; functions pass
// Bind(client) to NewSender. Handing the *sesv2.Client itself to an interface would keep all of
// its 354 operations in a binary that links html/template (see dynamo.Calls for why).
type Calls struct {
	sendEmail func(context.Context, *sesv2.SendEmailInput, ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// Bind binds SendEmail to client. It takes the concrete client on purpose: see Calls.
func Bind(client *sesv2.Client) Calls { return Calls{sendEmail: client.SendEmail} }

var _ SESAPI = Calls{}

func (c Calls) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, opts ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return c.sendEmail(ctx, in, opts...)
}
