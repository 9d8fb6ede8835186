package lead

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/edges/httpedge"
)

// HTTPHandler is the shape of an HTTP API Lambda handler.
type HTTPHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Dispatch sends the lead's routes (/areas/…) to lead and everything else to other, so the lead's
// pages share the actions function rather than need a function of their own.
func Dispatch(lead, other HTTPHandler) HTTPHandler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if strings.HasPrefix(httpedge.Path(req), "/areas/") {
			return lead(ctx, req)
		}
		return other(ctx, req)
	}
}
