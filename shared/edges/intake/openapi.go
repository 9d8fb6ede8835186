package intake

import (
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/docs"
	"github.com/ipspc/referrals/shared/edges/httpedge"
)

// openAPI serves docs/openapi.yaml, so API clients and tools read the description of the very
// version they talk to.
func openAPI() (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers: httpedge.SecurityHeaders(map[string]string{
			"Content-Type":  "application/yaml",
			"Cache-Control": "public, max-age=300",
		}),
		Body: docs.OpenAPI,
	}, httpedge.Line{Outcome: "openapi"}
}
