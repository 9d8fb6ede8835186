// Package lead is the HTTP edge of the area lead's pages (SPEC §10):
//
//	GET  /areas/{area}/worklist?token=…             the area's worklist
//	POST /areas/{area}/referrals/{id}/reassign      reassign  (form fields: token, specialist)
//	POST /areas/{area}/referrals/{id}/transfer      transfer  (form fields: token, postcode)
//	GET  /areas/{area}/report?token=…&from=YYYY-MM&to=YYYY-MM[&format=csv]   the programme return
//
// Checks, in this order: an area id that is not a slug, or an area not in the directory, is 404;
// a token that is not this area's lead link for its current lead (another area's, a specialist's
// or referrer's, tampered, expired) is 403. GET never writes.
//
// The POSTs are carried out by a worklist.Mover (the referral's transition function and the
// store's transaction: worklist.Moves); without one they answer 503 and change nothing.
package lead

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/edges/httpedge"
	"github.com/ipspc/referrals/shared/lib/postcode"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/web"
)

// MaxBody is the largest form accepted: a token and a postcode or specialist id.
const MaxBody = 8 << 10

// Store is what the handler reads (dynamo.Worklists).
type Store interface {
	Area(ctx context.Context, areaID string) (name string, lead directory.Person, err error)
	Snapshot(ctx context.Context, areaID, areaName string) (worklist.Snapshot, error)
}

// Handler serves the lead's routes.
type Handler struct {
	Links worklist.Checker
	Store Store
	Moves worklist.Mover // worklist.Moves; nil: POSTs answer 503
	// Returns is the returns table (dynamo.Returns); nil: the report answers 503.
	Returns returns.Ledger
	Log     *slog.Logger
	Now     func() time.Time
	// Budget caps the time a request may spend on DynamoDB.
	Budget time.Duration
}

// slug compiles at first use, as the directory's does: init time is every function's cold start.
var slug = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`) })

// validSlug is the directory's rule for area and specialist ids: a lower-case slug of at most 64.
func validSlug(s string) bool { return len(s) <= 64 && slug().MatchString(s) }

// route is a parsed request path.
type route struct {
	area, referralID, action string // action is "" for the worklist and the report
	report                   bool
}

func parsePath(p string) (route, bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "areas" && (parts[2] == "worklist" || parts[2] == "report"):
		return route{area: parts[1], report: parts[2] == "report"}, validSlug(parts[1])
	case len(parts) == 5 && parts[0] == "areas" && parts[2] == "referrals" && (parts[4] == "reassign" || parts[4] == "transfer"):
		return route{area: parts[1], referralID: parts[3], action: parts[4]},
			validSlug(parts[1]) && referral.ValidID(parts[3])
	}
	return route{}, false
}

// Handle is the Lambda handler. It always returns a response and a nil error.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpedge.Serve(ctx, h.Log, req, func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
		res, outcome, rt, err := h.serve(ctx, req)
		return res, httpedge.Line{Outcome: outcome, Area: rt.area, ReferralID: rt.referralID, Err: err}
	})
}

func (h *Handler) serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, string, route, error) {
	rt, ok := parsePath(httpedge.Path(req))
	if !ok {
		return httpedge.ErrorPage(http.StatusNotFound, "", ""), "not-found", route{}, nil
	}
	post := rt.action != ""
	switch method := req.RequestContext.HTTP.Method; {
	case post && method != http.MethodPost:
		return withAllow(httpedge.ErrorPage(http.StatusMethodNotAllowed, "", ""), http.MethodPost), "method-not-allowed", rt, nil
	case !post && method != http.MethodGet:
		return withAllow(httpedge.ErrorPage(http.StatusMethodNotAllowed, "", ""), http.MethodGet), "method-not-allowed", rt, nil
	}
	form, res, outcome := readForm(req, post)
	if outcome != "" {
		return res, outcome, rt, nil
	}
	token := form.Get(web.LinkTokenField)
	if h.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Budget)
		defer cancel()
	}
	areaName, lead, err := h.Store.Area(ctx, rt.area)
	if err != nil {
		return h.storeFailed(err, rt)
	}
	now := h.Now()
	if err := worklist.CheckLink(h.Links, rt.area, lead.Email, token, now); err != nil {
		if errors.Is(err, signedlink.ErrExpired) {
			return httpedge.ErrorPage(http.StatusForbidden, "This link has expired",
				"Use the link in this week's summary email, or the most recent email about a waiting referral."), "expired-link", rt, nil
		}
		return httpedge.ErrorPage(http.StatusForbidden, "You cannot use this link",
			"This link is not for this area, or it was sent to someone who is no longer the area lead."), "invalid-link", rt, nil
	}
	if post {
		return h.move(ctx, rt, form, token)
	}
	if rt.report {
		return h.report(ctx, rt, form, areaName, token)
	}
	snap, err := h.Store.Snapshot(ctx, rt.area, areaName)
	if err != nil {
		return h.storeFailed(err, rt)
	}
	// The report link covers the last 12 months, this one included.
	to := returns.Month(now)
	from := to
	for range 11 {
		from = returns.PreviousMonth(from)
	}
	return httpedge.Page(http.StatusOK, func(b *strings.Builder) error {
		return web.RenderWorklist(b, web.WorklistPage{Worklist: worklist.Build(snap, now), Token: token,
			ReportLink: web.ReportURL(rt.area, token, from, to, "")})
	}), "shown", rt, nil
}

// move carries out a reassign or transfer and answers with its page.
func (h *Handler) move(ctx context.Context, rt route, form url.Values, token string) (events.APIGatewayV2HTTPResponse, string, route, error) {
	result := web.LeadResultPage{AreaID: rt.area, Token: token, ReferralID: rt.referralID}
	by := "lead:" + rt.area // the audit event's actor: the area's lead, without their address
	var moved worklist.Moved
	var err error
	switch rt.action {
	case "reassign":
		specialist := strings.TrimSpace(form.Get(web.SpecialistField))
		if !validSlug(specialist) {
			result.Outcome = web.LeadNoSpecialist
			return resultPage(result), string(result.Outcome), rt, nil
		}
		if h.Moves == nil {
			return unavailable(), "not-wired", rt, nil
		}
		result.Outcome = web.LeadReassigned
		moved, err = h.Moves.Reassign(ctx, rt.area, rt.referralID, specialist, by)
	case "transfer":
		pc, perr := postcode.Parse(form.Get(web.PostcodeField))
		if perr != nil {
			result.Outcome = web.LeadBadPostcode
			return resultPage(result), string(result.Outcome), rt, nil
		}
		if h.Moves == nil {
			return unavailable(), "not-wired", rt, nil
		}
		result.Outcome = web.LeadTransferred
		moved, err = h.Moves.Transfer(ctx, rt.area, rt.referralID, pc.String(), by)
	}
	var refused *worklist.Refused
	switch {
	case errors.As(err, &refused):
		result.Outcome, result.Specialist, result.Status = refusalOutcome[refused.Reason], refused.Specialist, refused.Status
		return resultPage(result), string(result.Outcome), rt, nil
	case err != nil:
		return h.storeFailed(err, rt)
	}
	result.Specialist, result.NewArea = moved.Specialist, moved.AreaName
	result.Waitlisted = moved.Referral.Status == referral.StatusWaitlisted
	return resultPage(result), string(result.Outcome), rt, nil
}

var refusalOutcome = map[worklist.RefusalReason]web.LeadOutcome{
	worklist.RefusedNoRoom:    web.LeadNoRoom,
	worklist.RefusedInactive:  web.LeadInactive,
	worklist.RefusedOtherArea: web.LeadOtherArea,
	worklist.RefusedUnknown:   web.LeadNoSpecialist,
	worklist.RefusedOutOfArea: web.LeadOutOfArea,
	worklist.RefusedStatus:    web.LeadStatusConflict,
}

// storeFailed answers a store error: not found is 404 (the same page as a malformed path), the
// rest 503 with the cause logged.
func (h *Handler) storeFailed(err error, rt route) (events.APIGatewayV2HTTPResponse, string, route, error) {
	if referral.ErrorCode(err) == referral.CodeNotFound {
		return httpedge.ErrorPage(http.StatusNotFound, "", ""), "not-found", rt, nil
	}
	return unavailable(), "unavailable", rt, err
}

func unavailable() events.APIGatewayV2HTTPResponse {
	res := httpedge.ErrorPage(http.StatusServiceUnavailable, "Sorry, the service is unavailable",
		"Try again in a few minutes. Nothing has been changed.")
	res.Headers["Retry-After"] = "5"
	return res
}

// readForm returns the query string for GET, and for POST the form (its token taking precedence
// over the query string's).
func readForm(req events.APIGatewayV2HTTPRequest, post bool) (url.Values, events.APIGatewayV2HTTPResponse, string) {
	q, _ := url.ParseQuery(req.RawQueryString) // a malformed query is just a missing token
	if t := req.QueryStringParameters[web.LinkTokenField]; t != "" {
		q.Set(web.LinkTokenField, t)
	}
	if !post {
		return q, events.APIGatewayV2HTTPResponse{}, ""
	}
	form, status, outcome := httpedge.ReadForm(req, MaxBody)
	if outcome != "" {
		return nil, httpedge.ErrorPage(status, "Sorry, we could not read that", "Use the forms on your worklist. Nothing has been changed."), outcome
	}
	if form.Get(web.LinkTokenField) == "" {
		form.Set(web.LinkTokenField, q.Get(web.LinkTokenField))
	}
	return form, events.APIGatewayV2HTTPResponse{}, ""
}

func withAllow(res events.APIGatewayV2HTTPResponse, allow string) events.APIGatewayV2HTTPResponse {
	res.Headers["Allow"] = allow
	return res
}

func resultPage(p web.LeadResultPage) events.APIGatewayV2HTTPResponse {
	return httpedge.Page(p.HTTPStatus(), func(b *strings.Builder) error { return web.RenderLeadResult(b, p) })
}
