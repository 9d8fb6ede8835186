package intake

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/docs"
)

// TestHandleServesOpenAPI checks GET /openapi.yaml answers the embedded docs/openapi.yaml as YAML,
// and that only reading methods reach it.
func TestHandleServesOpenAPI(t *testing.T) {
	tests := []struct {
		method      string
		status      int
		contentType string
		body        string // "" = not checked
	}{
		{http.MethodGet, http.StatusOK, "application/yaml", docs.OpenAPI},
		{http.MethodHead, http.StatusOK, "application/yaml", docs.OpenAPI},
		{http.MethodPost, http.StatusNotFound, "application/json", ""},
	}
	if !strings.HasPrefix(docs.OpenAPI, "openapi: 3.1") {
		t.Fatalf("docs.OpenAPI does not start with an OpenAPI 3.1 header: %.40q", docs.OpenAPI)
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			h := &Handler{Intake: &fakeIntake{submit: accepted}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			res, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
				RawPath:        "/openapi.yaml",
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: tt.method, Path: "/openapi.yaml"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || res.Headers["Content-Type"] != tt.contentType {
				t.Fatalf("status %d, Content-Type %q; want %d, %q", res.StatusCode, res.Headers["Content-Type"], tt.status, tt.contentType)
			}
			if tt.body != "" && res.Body != tt.body {
				t.Errorf("body is not docs/openapi.yaml (%d bytes, want %d)", len(res.Body), len(tt.body))
			}
		})
	}
}
