// Package httpedge is the one HTTP edge convention of the service's Lambda handlers: one table
// from domain error codes to statuses, one set of security headers, one request log line.
package httpedge

import (
	"context"
	"encoding/base64"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/render/web"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[referral.Code]int{
	referral.CodeInvalid:          http.StatusBadRequest,
	referral.CodeOutOfArea:        http.StatusUnprocessableEntity,
	referral.CodeConflict:         http.StatusConflict,
	referral.CodeTooLarge:         http.StatusRequestEntityTooLarge,
	referral.CodeUnsupported:      http.StatusUnsupportedMediaType,
	referral.CodeNotFound:         http.StatusNotFound,
	referral.CodeForbidden:        http.StatusForbidden,
	referral.CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	referral.CodeUnavailable:      http.StatusServiceUnavailable,
	referral.CodeInternal:         http.StatusInternalServerError,
}

// Status is the HTTP status for a domain error code; an unknown code is a bug: 500.
func Status(code referral.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// SecurityHeaders adds the headers every response carries: a strict CSP (the pages have no inline
// script or style), no framing, no MIME sniffing, and no Referer, since signed-link URLs hold a
// token. The pages are not for search engines either. It returns h.
func SecurityHeaders(h map[string]string) map[string]string {
	h["Content-Security-Policy"] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	h["X-Content-Type-Options"] = "nosniff"
	h["X-Frame-Options"] = "DENY"
	h["Referrer-Policy"] = "no-referrer"
	h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
	h["X-Robots-Tag"] = "noindex, nofollow"
	return h
}

// Header reads a request header case-insensitively (API Gateway lower-cases them; tests may not).
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Path is the request's path: RawPath, or the request context's when a caller left it empty.
func Path(req events.APIGatewayV2HTTPRequest) string {
	if req.RawPath != "" {
		return req.RawPath
	}
	return req.RequestContext.HTTP.Path
}

// Line is what a request's one log line says besides method, route, path and status. It never
// holds patient data or a token: set ReferralID only once it has the shape of a reference.
type Line struct {
	Outcome        string
	ReferralID     string
	Area           string
	Action         string
	ReferralStatus referral.Status
	Err            error // may quote DynamoDB; never the request
	DrainErr       error // the change is done; the waitlist waits for the next free unit
}

// Handler answers one request with its response and what to log about it.
type Handler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, Line)

// Serve runs h and writes the request's one log line. It always returns a nil error, as a Lambda
// handler for API Gateway should.
func Serve(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest, h Handler) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	res, line := h(ctx, req)
	attrs := []any{
		slog.String("method", req.RequestContext.HTTP.Method),
		slog.String("route", req.RouteKey),
		// RawPath never carries the query string, where signed-link tokens travel.
		slog.String("path", req.RawPath),
		slog.Int("status", res.StatusCode),
		slog.String("outcome", line.Outcome),
		slog.Int64("durationMs", time.Since(start).Milliseconds()),
	}
	for _, a := range []struct{ k, v string }{
		{"referralId", line.ReferralID}, {"area", line.Area}, {"action", line.Action}, {"referralStatus", string(line.ReferralStatus)},
	} {
		if a.v != "" {
			attrs = append(attrs, slog.String(a.k, a.v))
		}
	}
	if line.Err != nil {
		attrs = append(attrs, slog.String("error", line.Err.Error()))
	}
	level := slog.LevelInfo
	if line.DrainErr != nil {
		attrs = append(attrs, slog.String("drainError", line.DrainErr.Error()))
		level = slog.LevelWarn
	}
	if res.StatusCode >= 500 {
		level = slog.LevelError
	}
	log.Log(ctx, level, "request", attrs...)
	return res, nil
}

// Page renders an HTML response with the security headers. Pages carry a signed link's token
// (and the specialist's show patient details), so they are never cached. A render error cannot
// happen in a build whose web tests passed; it answers a plain 500.
func Page(status int, render func(*strings.Builder) error) events.APIGatewayV2HTTPResponse {
	var b strings.Builder
	headers := SecurityHeaders(map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
	if err := render(&b); err != nil {
		status, headers["Content-Type"] = http.StatusInternalServerError, "text/plain; charset=utf-8"
		b.Reset()
		b.WriteString("Sorry, there is a problem with the service. Try again later.")
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: headers, Body: b.String()}
}

// ErrorPage renders the NHS.UK error page; empty title and message take the page's defaults for
// the status. Neither may contain patient data.
func ErrorPage(status int, title, message string) events.APIGatewayV2HTTPResponse {
	return Page(status, func(b *strings.Builder) error {
		return web.RenderError(b, web.ErrorPage{Status: status, Title: title, Message: message})
	})
}

// ReadForm reads a POST's urlencoded form of at most maxBody bytes. When it cannot, form is nil
// and status and outcome say why (415, 400 or 413), for the caller's error page and log line.
func ReadForm(req events.APIGatewayV2HTTPRequest, maxBody int) (form url.Values, status int, outcome string) {
	media, _, err := mime.ParseMediaType(Header(req, "content-type"))
	if err != nil || media != "application/x-www-form-urlencoded" {
		return nil, http.StatusUnsupportedMediaType, "unsupported-media-type"
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, http.StatusBadRequest, "bad-body"
		}
	}
	if len(body) > maxBody {
		return nil, http.StatusRequestEntityTooLarge, "too-large"
	}
	if form, err = url.ParseQuery(string(body)); err != nil {
		return nil, http.StatusBadRequest, "bad-body"
	}
	return form, 0, ""
}
