// Package intake is the HTTP edge of the intake function: it serves the referral form and its
// assets, decodes JSON and form submissions, and maps domain outcomes to HTTP responses.
package intake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/httpedge"
	"github.com/ipspc/referrals/shared/lib/postcode"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/web"
)

// MaxBody is the largest request body accepted (SPEC §4): 64 KiB.
const MaxBody = 64 << 10

// FormTokenTTL is how long a form token is taken after it was issued (SPEC §4): the idempotency
// window, so a replay within it still finds the original.
const FormTokenTTL = 24 * time.Hour

// formTokenMessage is the page-level message of a form post whose token is missing, expired or
// not the service's: the person can only check the answers and send again.
const formTokenMessage = "The form could not be sent. It may have been open for more than a day. Check your answers and send the form again"

// Submitter is what the handler needs of the domain.
type Submitter interface {
	Submit(ctx context.Context, req referral.Request) (referral.Outcome, error)
}

// Counter records metrics (embedded metric format in production): Emit writes several of one
// unit under the same dimensions as one record.
type Counter interface {
	Count(name string, value float64, dimensions map[string]string)
	Emit(values map[string]float64, unit string, dimensions map[string]string)
}

// Handler serves the intake routes of the HTTP API.
type Handler struct {
	Intake  Submitter
	Log     *slog.Logger
	Metrics Counter
	// Budget caps the time a request may spend on DynamoDB, so a hung dependency becomes a 503
	// rather than a Lambda timeout (and a 502 from API Gateway).
	Budget time.Duration
	// FormTokens issues the form's hidden token and checks it on a form post (signedlink RoleForm,
	// the holder a random nonce): only a token this service issued in the last FormTokenTTL is
	// taken, so nobody can post the form without loading it or burn someone else's key.
	FormTokens *signedlink.Signer
	// Now is the clock for form tokens (nil: time.Now).
	Now func() time.Time
	// AreaNames gives the human names of areas for the confirmation page (nil: show the id).
	AreaNames interface {
		Get(ctx context.Context) (map[string]string, error)
	}
	// Ready, when set, is waited for before the routes that need the secrets (the form and
	// POST /referrals): main reads them outside the cold start and sets FormTokens and the
	// intake's keys before Ready's Wait returns nil. An error answers 503 with Retry-After, and
	// the next request tries again (shared/lib/startup).
	Ready interface {
		Wait(ctx context.Context) error
	}
}

// Handle is the Lambda handler. It always returns a response and a nil error.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpedge.Serve(ctx, h.Log, req, h.route)
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	method, p := req.RequestContext.HTTP.Method, req.RawPath
	form := p == "/" && (method == http.MethodGet || method == http.MethodHead)
	if submit := p == "/referrals" && method == http.MethodPost; (form || submit) && h.Ready != nil {
		if err := h.Ready.Wait(ctx); err != nil {
			h.Log.ErrorContext(ctx, "start-up read failed", slog.String("error", err.Error()))
			// No token on this page: FormTokens is not set until Ready succeeds.
			html := form || strings.HasPrefix(httpedge.Header(req, "content-type"), "application/x-www-form-urlencoded")
			return h.fail(html, referral.Errorf(referral.CodeUnavailable, "The service is starting. Try again in a few seconds"), web.FormPage{}),
				httpedge.Line{Outcome: "not-ready"}
		}
	}
	switch {
	case form:
		return h.form(web.FormPage{Token: h.newToken()}, http.StatusOK), httpedge.Line{Outcome: "form"}
	case strings.HasPrefix(p, "/assets/") && (method == http.MethodGet || method == http.MethodHead):
		return asset(strings.TrimPrefix(p, "/assets/"))
	case p == "/openapi.yaml" && (method == http.MethodGet || method == http.MethodHead):
		return openAPI()
	case p == "/referrals" && method == http.MethodPost:
		return h.submit(ctx, req)
	case p == "/" || p == "/referrals":
		res := jsonError(http.StatusMethodNotAllowed, "", "Method not allowed")
		res.Headers["Allow"] = map[string]string{"/": "GET, HEAD", "/referrals": "POST"}[p]
		return res, httpedge.Line{Outcome: "method-not-allowed"}
	default:
		return jsonError(http.StatusNotFound, "", "Not found"), httpedge.Line{Outcome: "not-found"}
	}
}

func (h *Handler) submit(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	media, _, err := mime.ParseMediaType(httpedge.Header(req, "content-type"))
	if err != nil {
		media = ""
	}
	html := media == "application/x-www-form-urlencoded"
	if media != "application/json" && !html {
		return jsonError(http.StatusUnsupportedMediaType, "", "Send the referral as application/json or as the web form (application/x-www-form-urlencoded)"),
			httpedge.Line{Outcome: "unsupported-media-type"}
	}
	body, err := requestBody(req)
	if err != nil {
		return h.fail(html, referral.Errorf(referral.CodeInvalid, "The request body could not be read"), web.FormPage{Token: h.newToken()}), httpedge.Line{Outcome: "bad-body"}
	}
	if len(body) > MaxBody {
		e := referral.Errorf(referral.CodeTooLarge, "The referral is too large: the limit is 64 KiB. Shorten the notes and try again")
		return h.fail(html, e, web.FormPage{Token: h.newToken()}), httpedge.Line{Outcome: "too-large"}
	}

	var sub referral.Submission
	var key string
	var decodeErrors []referral.FieldError // wrong types, reported with the rule errors
	if html {
		values, err := url.ParseQuery(string(body))
		if err == nil && !formUTF8(body, values) {
			e := &referral.Error{Code: referral.CodeInvalid, Message: "The form could not be read", Fields: []referral.FieldError{{Field: "", Message: notUTF8}}}
			return h.fail(html, e, web.FormPage{Token: h.newToken()}), httpedge.Line{Outcome: "invalid"}
		}
		if err != nil {
			e := &referral.Error{Code: referral.CodeInvalid, Message: "The form could not be read", Fields: []referral.FieldError{{Field: "", Message: "The form could not be read. Try again"}}}
			return h.fail(html, e, web.FormPage{Token: h.newToken()}), httpedge.Line{Outcome: "invalid"}
		}
		var honeypot string
		sub, key, honeypot = DecodeForm(values)
		if honeypot != "" {
			e := &referral.Error{Code: referral.CodeInvalid, Message: "The form could not be sent", Fields: []referral.FieldError{{Field: HoneypotField, Message: "Leave the 'Leave this blank' field empty"}}}
			return h.fail(html, e, web.FormPage{Values: sub, Token: h.newToken()}), httpedge.Line{Outcome: "honeypot"}
		}
		if !h.formTokenValid(key) {
			e := referral.Errorf(referral.CodeInvalid, formTokenMessage)
			return h.fail(html, e, web.FormPage{Values: sub, Token: h.newToken()}), httpedge.Line{Outcome: "form-token"}
		}
	} else {
		key = httpedge.Header(req, "idempotency-key")
		if sub, err = DecodeJSON(body); err != nil {
			decodeErrors = referral.FieldErrors(err)
			if bodyMalformed(decodeErrors) {
				return h.fail(html, err, web.FormPage{}), httpedge.Line{Outcome: "malformed"}
			}
		}
	}
	if err := checkKey(key); err != nil {
		return h.fail(html, err, web.FormPage{Values: sub, Token: h.newToken()}), httpedge.Line{Outcome: "invalid"}
	}

	if h.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Budget)
		defer cancel()
	}
	via := "api"
	if html {
		via = "form"
	}
	out, err := h.Intake.Submit(ctx, referral.Request{Submission: sub, IdempotencyKey: key, Via: via, DecodeErrors: decodeErrors})
	if err != nil {
		line := httpedge.Line{Outcome: string(referral.ErrorCode(err))}
		if referral.ErrorCode(err) == referral.CodeOutOfArea {
			h.countOutOfArea(sub.Patient.Postcode)
		}
		if code := referral.ErrorCode(err); code == referral.CodeUnavailable || code == referral.CodeInternal {
			line.Err = err
		}
		return h.fail(html, err, web.FormPage{Values: sub, Token: h.newToken()}), line
	}
	line := httpedge.Line{Outcome: string(out.Receipt.Status), ReferralID: out.Receipt.ReferralID, Area: out.Receipt.Area}
	if out.Replayed {
		line.Outcome = "replayed"
	} else {
		h.countAccepted(out.Receipt)
	}
	return h.created(ctx, html, out.Receipt), line
}

// countAccepted feeds the dashboard: referrals received, assigned and waitlisted per area.
func (h *Handler) countAccepted(r referral.Receipt) {
	if h.Metrics == nil {
		return
	}
	kind := "Assignments"
	if r.Status == referral.StatusWaitlisted {
		kind = "Waitlisted"
	}
	// One record for both: one log line per referral rather than two, on the hot path and in
	// CloudWatch Logs' ingestion.
	h.Metrics.Emit(map[string]float64{"ReferralsReceived": 1, kind: 1}, "Count", map[string]string{"Area": r.Area})
}

// countOutOfArea counts a referral from outside every area by postcode area letters only
// (SPEC §4): a fixed set of values, never the district, so no typed postcode mints a new metric.
func (h *Handler) countOutOfArea(raw string) {
	if h.Metrics == nil {
		return
	}
	area := postcode.OtherArea
	if pc, err := postcode.Parse(raw); err == nil {
		area = pc.Area()
	}
	h.Metrics.Count("OutOfAreaReferrals", 1, map[string]string{"PostcodeArea": area})
}

func (h *Handler) created(ctx context.Context, html bool, receipt referral.Receipt) events.APIGatewayV2HTTPResponse {
	var res events.APIGatewayV2HTTPResponse
	if html {
		var buf bytes.Buffer
		if err := web.RenderConfirmation(&buf, web.ConfirmationPage{Receipt: receipt, AreaName: h.areaName(ctx, receipt.Area)}); err != nil {
			return jsonError(http.StatusInternalServerError, "", "Something went wrong")
		}
		res = htmlResponse(http.StatusCreated, buf.String())
	} else {
		res = jsonResponse(http.StatusCreated, receipt)
	}
	res.Headers["Location"] = "/referrals/" + receipt.ReferralID
	return res
}

func (h *Handler) areaName(ctx context.Context, id string) string {
	if h.AreaNames == nil {
		return id
	}
	if names, err := h.AreaNames.Get(ctx); err == nil && names[id] != "" {
		return names[id]
	}
	return id
}

// fail renders err for the channel it came from: JSON errors, or the form again with an error
// summary, the entered values and a fresh token.
func (h *Handler) fail(html bool, err error, page web.FormPage) events.APIGatewayV2HTTPResponse {
	code := referral.ErrorCode(err)
	status := httpedge.Status(code)
	var safe *referral.Error
	if !errors.As(err, &safe) || code == referral.CodeInternal {
		safe = referral.Errorf(referral.CodeInternal, "Something went wrong. The referral was not sent. Try again later")
		status = http.StatusInternalServerError
	}
	var res events.APIGatewayV2HTTPResponse
	if html {
		page.Errors = safe.Fields
		if len(safe.Fields) == 0 || code == referral.CodeConflict || code == referral.CodeOutOfArea {
			page.Message = safe.Message
		}
		res = h.form(page, status)
	} else {
		fields := safe.Fields
		if len(fields) == 0 {
			fields = []referral.FieldError{{Field: "", Message: safe.Message}}
		}
		res = jsonResponse(status, map[string]any{"errors": fields})
	}
	if status == http.StatusServiceUnavailable {
		res.Headers["Retry-After"] = "5"
	}
	return res
}

func (h *Handler) form(page web.FormPage, status int) events.APIGatewayV2HTTPResponse {
	page.Consent = page.Values.Consent
	var buf bytes.Buffer
	if err := web.RenderForm(&buf, page); err != nil {
		return jsonError(http.StatusInternalServerError, "", "Something went wrong")
	}
	return htmlResponse(status, buf.String())
}

// formUTF8 reports whether the form body and every decoded name and value (%FF included) is UTF-8:
// nothing is repaired to U+FFFD (SPEC §4).
func formUTF8(body []byte, values url.Values) bool {
	if !utf8.Valid(body) {
		return false
	}
	for k, vs := range values {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

// bodyMalformed reports a body-level error (field ""): the body is not a JSON object at all.
func bodyMalformed(fields []referral.FieldError) bool {
	return len(fields) == 0 || fields[0].Field == ""
}

// checkKey accepts idempotency keys of printable ASCII up to 255 characters.
func checkKey(key string) error {
	if len(key) > 255 || strings.IndexFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		return &referral.Error{Code: referral.CodeInvalid, Message: "Idempotency-Key is not valid",
			Fields: []referral.FieldError{{Field: "Idempotency-Key", Message: "Idempotency-Key must be 1 to 255 printable characters with no spaces"}}}
	}
	return nil
}

func asset(name string) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	name = path.Clean(name)
	b, err := fs.ReadFile(web.Assets(), name)
	if err != nil || strings.HasPrefix(name, ".") {
		return jsonError(http.StatusNotFound, "", "Not found"), httpedge.Line{Outcome: "not-found"}
	}
	res := events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers: httpedge.SecurityHeaders(map[string]string{
			"Content-Type": web.AssetContentType(name),
			// Assets change only with a deployment; a day's caching keeps the form fast.
			"Cache-Control": "public, max-age=86400",
		}),
	}
	if ct := web.AssetContentType(name); strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") || strings.Contains(ct, "svg") {
		res.Body = string(b)
	} else {
		res.Body, res.IsBase64Encoded = base64.StdEncoding.EncodeToString(b), true
	}
	return res, httpedge.Line{Outcome: "asset"}
}

func requestBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	return base64.StdEncoding.DecodeString(req.Body)
}

func jsonResponse(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"field":"","message":"Something went wrong"}]}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    httpedge.SecurityHeaders(map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}),
		Body:       string(b),
	}
}

func jsonError(status int, field, message string) events.APIGatewayV2HTTPResponse {
	return jsonResponse(status, map[string]any{"errors": []referral.FieldError{{Field: field, Message: message}}})
}

func htmlResponse(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers: httpedge.SecurityHeaders(map[string]string{
			"Content-Type": "text/html; charset=utf-8",
			// Pages may echo patient details back (form errors, confirmation): never cache them.
			"Cache-Control": "no-store",
		}),
		Body: body,
	}
}

// newToken issues a fresh form token: a signed RoleForm claim whose holder is a 128-bit random
// nonce, valid for FormTokenTTL. Without a signer it issues none (and no form post is taken).
func (h *Handler) newToken() string {
	if h.FormTokens == nil {
		return ""
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return h.FormTokens.Issue(signedlink.Claim{Role: signedlink.RoleForm, Holder: base64.RawURLEncoding.EncodeToString(b)}, h.now().Add(FormTokenTTL))
}

// formTokenValid reports whether token is a form token this service issued and still valid.
func (h *Handler) formTokenValid(token string) bool {
	if h.FormTokens == nil {
		return false
	}
	_, _, err := h.FormTokens.Check(signedlink.RoleForm, "", "", token, h.now())
	return err == nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
