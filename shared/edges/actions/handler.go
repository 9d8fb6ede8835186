// Package actions is the HTTP edge of the actions function: the pages a specialist opens through
// the signed link in their email, and the buttons on them that record contact, the first meeting
// and a close (SPEC §4 "Specialist pages").
//
// Routes (API Gateway HTTP API, payload 2.0):
//
//	GET  /referrals/{id}?token=…   the referral, in full, with forms for what can be recorded next
//	POST /referrals/{id}/contact   record contact      (form fields: token)
//	POST /referrals/{id}/meeting   record the meeting  (form fields: token)
//	POST /referrals/{id}/close     close               (form fields: token, reason)
//	POST /referrals/{id}/attempt   a contact attempt   (form fields: token, method)
//	POST /referrals/{id}/employer-contact  an employer contact (form fields: token, date)
//	POST /referrals/{id}/job-start  a job start  (form fields: token, startDate, hoursPerWeek, selfEmployed)
//	POST /referrals/{id}/outcome    a job outcome (form fields: token, sustained)
//
// A date (YYYY-MM-DD) comes as the one field SPEC §4 names, or as the page's NHS.UK date input
// (date-day, date-month, date-year): see web.FormDate. An employer contact without a date is today's.
//
// and the referrer's (SPEC §10 "Referrer"), behind the acknowledgement's referrer link, whose
// token is bound to the referral and the stored referrer email (see referrer.go):
//
//	GET  /referrals/{id}/status?token=…   the status, the dates, and the withdraw form
//	POST /referrals/{id}/withdraw         withdraw  (form fields: token, reason)
//
// Checks, in this order: an id not shaped like a reference is 404; a token that does not verify
// for that id (missing, malformed, tampered, expired) is 403; a referral that does not exist is
// 404 with the same page as a malformed id; a referral not assigned to the token's specialist now
// (reassigned, waitlisted) is 403.
//
// GET never writes. A successful POST answers 200 with a page saying what was recorded and a
// link back to the referral; a repeated POST answers 200 "already recorded". There is no
// redirect after POST: with no session, the page after a redirect could not say what happened,
// and reloading the confirmation only repeats the action, which is harmless.
package actions

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/httpedge"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/web"
)

// MaxBody is the largest form accepted: a token and a reason are well under 1 KiB.
const MaxBody = 8 << 10

// Verifier checks a signed-link token for a referral (signedlink.Signer).
type Verifier interface {
	Verify(referralID, token string, now time.Time) (specialistID string, expires time.Time, err error)
}

// Service is what the handler needs of the domain (referral.Progress).
type Service interface {
	View(ctx context.Context, id, specialistID string) (referral.Referral, error)
	Record(ctx context.Context, req referral.ActionRequest) (referral.Recorded, error)
}

// Checker checks a signed-link token of any role (signedlink.Signer).
type Checker interface {
	Check(role signedlink.Role, subject, binding, token string, now time.Time) (holder string, expires time.Time, err error)
}

// ReferrerService is what the referrer's routes need of the domain (referral.Referrers).
type ReferrerService interface {
	View(ctx context.Context, id string) (referral.Referral, error)
	Withdraw(ctx context.Context, id, reason string) (referral.Withdrawn, error)
}

// AreaNames reads an area's name for the referrer's page (dynamo.Worklists).
type AreaNames interface {
	Area(ctx context.Context, areaID string) (name string, lead directory.Person, err error)
}

// Counter emits a metric (metrics.Writer).
type Counter interface {
	Count(name string, value float64, dimensions map[string]string)
}

var (
	_ Verifier        = (*signedlink.Signer)(nil)
	_ Service         = (*referral.Progress)(nil)
	_ Checker         = (*signedlink.Signer)(nil)
	_ ReferrerService = (*referral.Referrers)(nil)
)

// Handler serves the specialist routes of the HTTP API.
type Handler struct {
	Links    Verifier
	Progress Service
	Log      *slog.Logger
	Now      func() time.Time
	// The referrer's routes: their links, the withdraw, the area's name, the metric of
	// entered-in-error withdrawals. Without Referrers those routes are 404.
	ReferrerLinks Checker
	Referrers     ReferrerService
	Areas         AreaNames
	Metrics       Counter
	// Budget caps the time a request may spend on DynamoDB, so a hung dependency becomes a 503
	// rather than a Lambda timeout.
	Budget time.Duration
}

// Handle is the Lambda handler. It always returns a response and a nil error.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpedge.Serve(ctx, h.Log, req, h.route)
}

func (h *Handler) route(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	method, p := req.RequestContext.HTTP.Method, httpedge.Path(req)
	rest, ok := strings.CutPrefix(p, "/referrals/")
	if !ok {
		return notFound(), httpedge.Line{Outcome: "not-found"}
	}
	id, action, isAction := strings.Cut(rest, "/")
	if method, ok := referrerRoutes[action]; ok && h.Referrers != nil {
		return h.referrer(ctx, req, id, action, method)
	}
	var line httpedge.Line
	switch {
	case !isAction && method != http.MethodGet:
		return methodNotAllowed(http.MethodGet), httpedge.Line{Outcome: "method-not-allowed"}
	case isAction && !slices.Contains(referral.Actions, referral.Action(action)):
		return notFound(), httpedge.Line{Outcome: "not-found"}
	case isAction && method != http.MethodPost:
		return methodNotAllowed(http.MethodPost), httpedge.Line{Outcome: "method-not-allowed", Action: action}
	}
	line.Action = action
	if !referral.ValidID(id) {
		line.Outcome = "not-found"
		return notFound(), line
	}
	line.ReferralID = id

	token, form, res, outcome := h.readRequest(req, isAction)
	if outcome != "" {
		line.Outcome = outcome
		return res, line
	}
	specialist, _, err := h.Links.Verify(id, token, h.Now())
	if err != nil {
		return refused(err, line, "Use the link in the most recent email about this referral. If you need a new link, contact your area lead.")
	}

	if h.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Budget)
		defer cancel()
	}
	if !isAction {
		r, err := h.Progress.View(ctx, id, specialist)
		if err != nil {
			return h.fail(err, referral.Referral{}, token, specialist, nil, line)
		}
		line.Outcome, line.ReferralStatus = "shown", r.Status
		return httpedge.Page(http.StatusOK, func(b *strings.Builder) error {
			return web.RenderReferral(b, web.ReferralPage{Referral: r, Token: token, Viewer: specialist, Today: calendar.DateOf(h.Now())})
		}), line
	}

	out, err := h.Progress.Record(ctx, referral.ActionRequest{ReferralID: id, SpecialistID: specialist, Action: referral.Action(action),
		Reason: form.Get(referral.ReasonField), Method: form.Get(referral.MethodField),
		Date: web.FormDate(form, referral.DateField), StartDate: web.FormDate(form, referral.StartDateField),
		HoursPerWeek: form.Get(referral.HoursPerWeekField), SelfEmployed: form.Get(referral.SelfEmployedField), Sustained: form.Get(referral.SustainedField)})
	if err != nil {
		return h.fail(err, out.Referral, token, specialist, form, line)
	}
	line.Outcome, line.ReferralStatus, line.DrainErr = "recorded", out.Referral.Status, out.DrainErr
	if out.AlreadyRecorded {
		line.Outcome = "already-recorded"
	}
	return httpedge.Page(http.StatusOK, func(b *strings.Builder) error {
		return web.RenderActionRecorded(b, web.ActionPage{Referral: out.Referral, Action: referral.Action(action), AlreadyRecorded: out.AlreadyRecorded, Token: token})
	}), line
}

// readRequest finds the token: in the query string for GET; in the form, or else the query
// string, for POST. A POST must be a form no larger than MaxBody. outcome is set (with the
// response to send) when the request cannot be read.
func (h *Handler) readRequest(req events.APIGatewayV2HTTPRequest, post bool) (token string, form url.Values, res events.APIGatewayV2HTTPResponse, outcome string) {
	token = queryToken(req)
	if !post {
		return token, nil, res, ""
	}
	form, status, outcome := httpedge.ReadForm(req, MaxBody)
	if outcome != "" {
		return "", nil, httpedge.ErrorPage(status, "Sorry, we could not read that",
			"Use the buttons on the referral's page. Nothing has been recorded."), outcome
	}
	if t := form.Get(web.LinkTokenField); t != "" {
		token = t
	}
	return token, form, res, ""
}

// fail answers a domain error. A field error (close without a reason) and a conflict show the
// referral again with an error summary; everything else is an error page. Every 404 is the same
// page, whatever the cause.
func (h *Handler) fail(err error, r referral.Referral, token, specialist string, form url.Values, line httpedge.Line) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	code := referral.ErrorCode(err)
	status := httpedge.Status(code)
	line.Outcome = strings.ReplaceAll(string(code), "_", "-")
	if fields, ok := shownAgain(err, r); ok {
		line.ReferralStatus = r.Status
		return httpedge.Page(status, func(b *strings.Builder) error {
			return web.RenderReferral(b, web.ReferralPage{Referral: r, Token: token, Viewer: specialist, Errors: fields,
				Reason: form.Get(referral.ReasonField), Values: form, Today: calendar.DateOf(h.Now())})
		}), line
	}
	var safe *referral.Error
	switch {
	case status == http.StatusNotFound:
		return notFound(), line
	case status == http.StatusForbidden:
		return httpedge.ErrorPage(http.StatusForbidden, "", ""), line
	case status == http.StatusServiceUnavailable:
		line.Err = err
		res := httpedge.ErrorPage(status, "Sorry, the service is unavailable",
			"We could not check or record this just now. Try again in a few minutes: go back to the referral and check what it shows.")
		res.Headers["Retry-After"] = "5"
		return res, line
	case status >= 500 || !errors.As(err, &safe):
		line.Err, line.Outcome = err, "internal"
		return httpedge.ErrorPage(http.StatusInternalServerError, "", ""), line
	}
	return httpedge.ErrorPage(status, "", safe.Message), line
}

// shownAgain returns what to show above the page of r when err is a field error or a conflict
// about it (r was read): the fields, or the message. ok is false for every other error.
func shownAgain(err error, r referral.Referral) (fields []referral.FieldError, ok bool) {
	var safe *referral.Error
	code := referral.ErrorCode(err)
	if !errors.As(err, &safe) || code != referral.CodeInvalid && code != referral.CodeConflict || r.ID == "" {
		return nil, false
	}
	if len(safe.Fields) == 0 {
		return []referral.FieldError{{Message: safe.Message}}, true
	}
	return safe.Fields, true
}

// refused answers a token that did not check: 403, saying so when it has only expired (then with
// what to do instead), with the same page whatever else was wrong with it.
func refused(err error, line httpedge.Line, expired string) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	if errors.Is(err, signedlink.ErrExpired) {
		line.Outcome = "expired-link"
		return httpedge.ErrorPage(http.StatusForbidden, "This link has expired", expired), line
	}
	line.Outcome = "invalid-link"
	return httpedge.ErrorPage(http.StatusForbidden, "", ""), line
}

func notFound() events.APIGatewayV2HTTPResponse {
	return httpedge.ErrorPage(http.StatusNotFound, "", "")
}

func methodNotAllowed(allow string) events.APIGatewayV2HTTPResponse {
	res := httpedge.ErrorPage(http.StatusMethodNotAllowed, "Sorry, you cannot do that on this page",
		"Open the link in your email, and use the buttons on the referral's page.")
	res.Headers["Allow"] = allow
	return res
}

// queryToken reads the token from the query string.
func queryToken(req events.APIGatewayV2HTTPRequest) string {
	if t := req.QueryStringParameters[web.LinkTokenField]; t != "" {
		return t
	}
	if req.RawQueryString == "" {
		return ""
	}
	q, err := url.ParseQuery(req.RawQueryString)
	if err != nil {
		return ""
	}
	return q.Get(web.LinkTokenField)
}
