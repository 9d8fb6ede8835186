package lead

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/returns"
)

// memoryReturns is a hand-written fake of the returns table, counting its reads.
type memoryReturns struct {
	facts []returns.Fact
	reads []string
	fail  error
}

func (m *memoryReturns) MonthFacts(_ context.Context, area, month string) ([]returns.Fact, error) {
	m.reads = append(m.reads, area+"#"+month)
	var out []returns.Fact
	for _, f := range m.facts {
		if f.Area == area && f.Month == month {
			out = append(out, f)
		}
	}
	return out, m.fail
}

func (m *memoryReturns) Snapshot(_ context.Context, area, month string) ([]returns.Fact, bool, error) {
	m.reads = append(m.reads, area+"#"+month+"#snapshot")
	return nil, false, m.fail
}

func reportGet(area, token, query string) string {
	q, _ := url.ParseQuery(query)
	if token != "" {
		q.Set("token", token)
	}
	return "/areas/" + area + "/report?" + q.Encode()
}

func TestReport(t *testing.T) {
	store := &memoryReturns{facts: []returns.Fact{
		{Area: "norfolk", Month: "2026-11", Day: "2026-11-03", Referral: "R-7K3M9QX2", Column: returns.Received, Count: 1},
		{Area: "norfolk", Month: "2026-11", Day: "2026-11-04", Referral: "R-7K3M9QX2", Index: 2, Column: returns.ContactedOnTime, Count: 1},
		{Area: "essex", Month: "2026-11", Day: "2026-11-04", Referral: "R-AAAA2222", Column: returns.Received, Count: 1},
	}}
	h, s := newHandler(t, memoryAreas{}, nil)
	h.Returns = store
	own := leadToken(t, s, "norfolk", "nia.lead@example.org", now)
	tests := []struct {
		name, area, token, query string
		status                   int
		contentType, says        string
	}{
		{"page", "norfolk", own, "from=2026-10&to=2026-12", http.StatusOK, "text/html", "Programme return for Norfolk"},
		{"csv", "norfolk", own, "from=2026-11&to=2026-11&format=csv", http.StatusOK, "text/csv",
			strings.Join(returns.Header, ",") + "\nnorfolk,2026-11,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0\n"},
		{"another area's lead link", "essex", own, "from=2026-10&to=2026-12", http.StatusForbidden, "text/html", "not for this area"},
		{"no token", "norfolk", "", "from=2026-10&to=2026-12", http.StatusForbidden, "text/html", ""},
		{"no from", "norfolk", own, "to=2026-12", http.StatusBadRequest, "text/html", "from:"},
		{"bad from", "norfolk", own, "from=2026-13&to=2026-12", http.StatusBadRequest, "text/html", "from:"},
		{"no to", "norfolk", own, "from=2026-10", http.StatusBadRequest, "text/html", "to:"},
		{"bad to", "norfolk", own, "from=2026-10&to=26-12", http.StatusBadRequest, "text/html", "to:"},
		{"to before from", "norfolk", own, "from=2026-10&to=2026-09", http.StatusBadRequest, "text/html", "to:"},
		{"over 24 months", "norfolk", own, "from=2024-01&to=2026-01", http.StatusBadRequest, "text/html", "at most 24 months"},
		{"bad format", "norfolk", own, "from=2026-10&to=2026-12&format=xml", http.StatusBadRequest, "text/html", "format:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.reads = nil
			req := get(reportGet(tt.area, tt.token, tt.query), "")
			req.RawPath, req.RawQueryString, _ = strings.Cut(reportGet(tt.area, tt.token, tt.query), "?")
			res, err := h.Handle(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status || !strings.HasPrefix(res.Headers["Content-Type"], tt.contentType) || !strings.Contains(res.Body, tt.says) {
				t.Errorf("status %d, %s, want %d %s saying %q:\n%s", res.StatusCode, res.Headers["Content-Type"], tt.status, tt.contentType, tt.says, res.Body)
			}
			if tt.status != http.StatusOK && len(store.reads) > 0 {
				t.Errorf("refused request read the returns: %v", store.reads)
			}
			if strings.Contains(res.Body, "R-7K3M9QX2") || strings.Contains(res.Body, "Sam") {
				t.Error("report shows a reference or a name")
			}
		})
	}
	// The CSV is a named download, and the page links it with the same months.
	req := get("", "")
	req.RawPath, req.RawQueryString, _ = strings.Cut(reportGet("norfolk", own, "from=2026-11&to=2026-11&format=csv"), "?")
	res, _ := h.Handle(t.Context(), req)
	if got := res.Headers["Content-Disposition"]; got != `attachment; filename="ipspc-return-norfolk-2026-11-to-2026-11.csv"` {
		t.Errorf("Content-Disposition = %q", got)
	}
	// Reads: the snapshot of the month before, then one partition per month asked for; nothing of essex.
	store.reads = nil
	req.RawPath, req.RawQueryString, _ = strings.Cut(reportGet("norfolk", own, "from=2026-10&to=2026-12"), "?")
	res, _ = h.Handle(t.Context(), req)
	if !strings.Contains(res.Body, "format=csv") {
		t.Error("report page has no CSV link")
	}
	if got := strings.Join(store.reads[len(store.reads)-3:], ","); got != "norfolk#2026-10,norfolk#2026-11,norfolk#2026-12" {
		t.Errorf("month reads = %s", got)
	}
	for _, r := range store.reads {
		if strings.HasPrefix(r, "essex") {
			t.Errorf("norfolk's report read %s", r)
		}
	}
	// A store failure is a 503, never a half page.
	store.fail = errors.New("dynamodb down")
	res, _ = h.Handle(t.Context(), req)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("store failure: status %d, want 503", res.StatusCode)
	}
}

func TestWorklistLinksTheReport(t *testing.T) {
	h, s := newHandler(t, memoryAreas{}, nil)
	own := leadToken(t, s, "norfolk", "nia.lead@example.org", now)
	res, err := h.Handle(t.Context(), get("/areas/norfolk/worklist", own))
	if err != nil {
		t.Fatal(err)
	}
	want := "/areas/norfolk/report?from=2026-01&amp;to=2026-12&amp;token="
	if !strings.Contains(res.Body, want) {
		t.Errorf("worklist has no link to the last 12 months' report (%s):\n%s", want, res.Body)
	}
}
