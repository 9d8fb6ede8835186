package actions

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/edges/httpedge"
	"github.com/ipspc/referrals/shared/lib/signedlink"
	"github.com/ipspc/referrals/shared/render/web"
)

// referrerRoutes are the referrer's routes under /referrals/{id}/, with the one method each takes.
var referrerRoutes = map[string]string{"status": http.MethodGet, "withdraw": http.MethodPost}

// MetricEnteredInError counts withdrawals as entered-in-error: each removed a patient's data.
const MetricEnteredInError = "ReferralsEnteredInError"

// referrer serves the referrer's routes. Checks, in this order: the method (405); an id not shaped
// like a reference (404); a form that cannot be read (POST); a referral that does not exist (404,
// the same page as a malformed id); a token that is not a referrer token for this referral and the
// referrer email stored on it (403, expired or not). The binding needs the stored email, so the
// referral is read before the token is checked; reading never changes it.
func (h *Handler) referrer(ctx context.Context, req events.APIGatewayV2HTTPRequest, id, action, want string) (events.APIGatewayV2HTTPResponse, httpedge.Line) {
	line := httpedge.Line{Action: action}
	if req.RequestContext.HTTP.Method != want {
		line.Outcome = "method-not-allowed"
		return methodNotAllowed(want), line
	}
	if !referral.ValidID(id) {
		line.Outcome = "not-found"
		return notFound(), line
	}
	line.ReferralID = id
	post := want == http.MethodPost
	token, form, res, outcome := h.readRequest(req, post)
	if outcome != "" {
		line.Outcome = outcome
		return res, line
	}
	if h.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Budget)
		defer cancel()
	}
	r, err := h.Referrers.View(ctx, id)
	if err != nil {
		return h.fail(err, referral.Referral{}, "", "", nil, line)
	}
	if _, _, err := h.ReferrerLinks.Check(signedlink.RoleReferrer, id, strings.ToLower(r.Referrer.Email), token, h.Now()); err != nil {
		return refused(err, line, "To change anything about this referral, contact the employment specialist or the area's team.")
	}

	if !post {
		line.Outcome, line.ReferralStatus = "shown", r.Status
		return h.statusPage(ctx, http.StatusOK, r, token, nil, ""), line
	}
	reason := form.Get(referral.ReasonField)
	out, err := h.Referrers.Withdraw(ctx, id, reason)
	if err != nil {
		if fields, ok := shownAgain(err, out.Referral); ok {
			// The page again, with what is wrong: the reason to choose, or the status in plain
			// words and whom to contact instead.
			code := referral.ErrorCode(err)
			line.Outcome, line.ReferralStatus = strings.ReplaceAll(string(code), "_", "-"), out.Referral.Status
			return h.statusPage(ctx, httpedge.Status(code), out.Referral, token, fields, reason), line
		}
		return h.fail(err, referral.Referral{}, "", "", nil, line)
	}
	line.Outcome, line.ReferralStatus, line.DrainErr = "recorded", out.Referral.Status, out.DrainErr
	if out.AlreadyRecorded {
		line.Outcome = "already-recorded"
	}
	if out.Erased && h.Metrics != nil {
		h.Metrics.Count(MetricEnteredInError, 1, nil)
	}
	return httpedge.Page(http.StatusOK, func(b *strings.Builder) error {
		return web.RenderWithdrawn(b, web.WithdrawnPage{Referral: out.Referral, AlreadyRecorded: out.AlreadyRecorded, Token: token})
	}), line
}

// statusPage renders the referrer's page. The area's name is for people; when it cannot be read
// the page still shows, with the area's id.
func (h *Handler) statusPage(ctx context.Context, status int, r referral.Referral, token string, errs []referral.FieldError, reason string) events.APIGatewayV2HTTPResponse {
	area := r.Area
	if h.Areas != nil {
		if name, _, err := h.Areas.Area(ctx, r.Area); err == nil && name != "" {
			area = name
		}
	}
	return httpedge.Page(status, func(b *strings.Builder) error {
		return web.RenderReferrerStatus(b, web.StatusPage{Referral: r, AreaName: area, Token: token, Errors: errs, Reason: reason})
	})
}
