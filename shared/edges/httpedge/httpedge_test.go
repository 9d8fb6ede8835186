package httpedge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
)

func TestStatusEveryCode(t *testing.T) {
	tests := map[referral.Code]int{
		referral.CodeInvalid: 400, referral.CodeForbidden: 403, referral.CodeNotFound: 404,
		referral.CodeMethodNotAllowed: 405, referral.CodeConflict: 409, referral.CodeTooLarge: 413,
		referral.CodeUnsupported: 415, referral.CodeOutOfArea: 422, referral.CodeInternal: 500,
		referral.CodeUnavailable: 503, "made-up": 500,
	}
	for code, want := range tests {
		if got := Status(code); got != want {
			t.Errorf("Status(%s) = %d, want %d", code, got, want)
		}
	}
}

func TestServeLogsOneLineWithoutQueryOrPatientData(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	req := events.APIGatewayV2HTTPRequest{RouteKey: "GET /referrals/{id}", RawPath: "/referrals/R-1", RawQueryString: "token=SECRET",
		Headers: map[string]string{"X-Patient": "Jane"}}
	req.RequestContext.HTTP.Method = http.MethodGet
	res, err := Serve(context.Background(), log, req, func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, Line) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 503, Headers: SecurityHeaders(map[string]string{})},
			Line{Outcome: "unavailable", ReferralID: "R-1", Err: errors.New("throttled")}
	})
	if err != nil || res.StatusCode != 503 {
		t.Fatalf("Serve: %v, %d", err, res.StatusCode)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one log line, got %q", lines)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"level": "ERROR", "path": "/referrals/R-1", "referralId": "R-1", "outcome": "unavailable", "status": 503.0, "error": "throttled"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if strings.Contains(lines[0], "SECRET") || strings.Contains(lines[0], "Jane") {
		t.Errorf("log line leaks the token or a header: %s", lines[0])
	}
	if res.Headers["Referrer-Policy"] != "no-referrer" || !strings.Contains(res.Headers["Content-Security-Policy"], "frame-ancestors 'none'") {
		t.Errorf("security headers: %v", res.Headers)
	}
}

func TestHeaderIsCaseInsensitive(t *testing.T) {
	req := events.APIGatewayV2HTTPRequest{Headers: map[string]string{"content-type": "text/html"}}
	if got := Header(req, "Content-Type"); got != "text/html" {
		t.Errorf("Header = %q", got)
	}
	if got := Header(req, "Accept"); got != "" {
		t.Errorf("absent header = %q", got)
	}
}
