package lead

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestDispatch(t *testing.T) {
	answer := func(status int) HTTPHandler {
		return func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			return events.APIGatewayV2HTTPResponse{StatusCode: status}, nil
		}
	}
	h := Dispatch(answer(1), answer(2))
	for _, tc := range []struct {
		raw, path string
		want      int
	}{
		{"/areas/norfolk/worklist", "", 1},
		{"", "/areas/norfolk/referrals/R-7K3M9QX2/reassign", 1},
		{"/referrals/R-7K3M9QX2", "", 2},
		{"/areasx", "", 2},
	} {
		req := events.APIGatewayV2HTTPRequest{RawPath: tc.raw}
		req.RequestContext.HTTP.Path = tc.path
		if res, _ := h(context.Background(), req); res.StatusCode != tc.want {
			t.Errorf("%q%q went to %d, want %d", tc.raw, tc.path, res.StatusCode, tc.want)
		}
	}
}
