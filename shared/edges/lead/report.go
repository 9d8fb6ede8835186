package lead

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/edges/httpedge"
	"github.com/ipspc/referrals/shared/render/web"
)

// ReportMaxMonths caps a report's range: a page (or CSV) of two years reads 24 month partitions
// per request; longer periods are the report command's (infra/cmd/report).
const ReportMaxMonths = 24

// report answers GET /areas/{area}/report: the area's return for from..to, as the page or, with
// format=csv, the CSV (SPEC §12). It only reads.
func (h *Handler) report(ctx context.Context, rt route, q url.Values, areaName, token string) (events.APIGatewayV2HTTPResponse, string, route, error) {
	from, to, format := strings.TrimSpace(q.Get("from")), strings.TrimSpace(q.Get("to")), q.Get("format")
	if msg := reportQueryError(from, to, format); msg != "" {
		return httpedge.ErrorPage(http.StatusBadRequest, "Check the months of the report", msg), "bad-request", rt, nil
	}
	if h.Returns == nil {
		return unavailable(), "not-wired", rt, nil
	}
	rows, err := returns.Read(ctx, h.Returns, []string{rt.area}, from, to)
	if err != nil {
		return h.storeFailed(err, rt)
	}
	if format == "csv" {
		var b strings.Builder
		if err := returns.WriteCSV(&b, rows); err != nil {
			return unavailable(), "unavailable", rt, err
		}
		headers := httpedge.SecurityHeaders(map[string]string{
			"Content-Type":        "text/csv; charset=utf-8",
			"Content-Disposition": fmt.Sprintf(`attachment; filename="ipspc-return-%s-%s-to-%s.csv"`, rt.area, from, to),
			"Cache-Control":       "no-store",
		})
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: headers, Body: b.String()}, "report-csv", rt, nil
	}
	name := areaName
	if name == "" {
		name = rt.area
	}
	return httpedge.Page(http.StatusOK, func(b *strings.Builder) error {
		return web.RenderReport(b, web.ReportPage{AreaName: name, From: from, To: to, Rows: rows,
			CSVLink: web.ReportURL(rt.area, token, from, to, "csv"), Action: web.ReportPath(rt.area), Token: token})
	}), "report", rt, nil
}

// reportQueryError checks the report's query and returns a message naming the bad field, or "".
func reportQueryError(from, to, format string) string {
	switch {
	case from == "":
		return "from: give the first month as YYYY-MM, for example 2026-04."
	case to == "":
		return "to: give the last month as YYYY-MM, for example 2027-03."
	case format != "" && format != "csv" && format != "html":
		return "format: leave it out for the page, or use csv."
	}
	months, err := returns.Months(from, to)
	if err != nil {
		return err.Error() + "."
	}
	if len(months) > ReportMaxMonths {
		return fmt.Sprintf("to: a report covers at most %d months; ask for a shorter period.", ReportMaxMonths)
	}
	return ""
}
