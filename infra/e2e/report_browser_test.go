package e2e

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ipspc/referrals/shared/domain/returns"
	"github.com/ipspc/referrals/shared/render/web"
)

// The programme return page (SPEC §12), rendered as the report route will serve it, in Chromium
// with and without JavaScript: axe finds no violations, and the charts are labelled images. It
// needs no local stack: the route is not wired yet, so the page is served from a test server with
// the same assets.
func TestReportPageInBrowser(t *testing.T) {
	rows := []returns.Row{
		{Area: "north", Month: "2026-10", Flow: map[string]int{returns.Received: 7, returns.ContactedOnTime: 5, returns.JobStarts: 2, returns.JobOutcomes: 1}, CaseloadMax: 12, WaitlistAtMonthEnd: 3, EngagedUnemployed: 4, FirstJobStartsUnemployed: 1},
		{Area: "north", Month: "2026-11", Flow: map[string]int{}, CaseloadMax: 19},
		{Area: "north", Month: "2026-12", Flow: map[string]int{returns.Received: 9, returns.ContactedOnTime: 9, returns.JobStarts: 4}, CaseloadMax: 23, WaitlistAtMonthEnd: 1},
	}
	var page bytes.Buffer
	if err := web.RenderReport(&page, web.ReportPage{AreaName: "North", From: "2026-10", To: "2026-12", Rows: rows, CSVLink: "/report.csv"}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/assets/", http.StripPrefix("/assets/", http.FileServerFS(web.Assets())))
	mux.HandleFunc("/report", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The actions function's policy, which the report route will share.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		_, _ = w.Write(page.Bytes())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	s := startBrowser(t)
	for _, js := range []bool{true, false} {
		tb := s.tab(t, js)
		res, err := chromedp.Run(tb.ctx, chromedp.NavigateResponse(srv.URL+"/report"))
		if err != nil || res.Status != http.StatusOK {
			t.Fatalf("GET /report: %v, %v", res, err)
		}
		if js { // axe runs in the page: with scripts off, only what the page shows is checked
			tb.checkAxe("report")
		}
		charts, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll('main svg[role="img"][aria-labelledby]').length`))
		if err != nil || charts != 3 {
			t.Errorf("labelled charts = %d, %v; want 3", charts, err)
		}
	}
}
