package web

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/returns"
)

// reportRows are three months of one area; December's caseload is over the limit of 20.
func reportRows() []returns.Row {
	rows := []returns.Row{
		{Area: "north", Month: "2026-10", Flow: map[string]int{returns.Received: 7, returns.ContactedOnTime: 5, returns.JobStarts: 2, returns.JobOutcomes: 1}, CaseloadMax: 12, WaitlistAtMonthEnd: 3, EngagedUnemployed: 4, FirstJobStartsUnemployed: 1},
		{Area: "north", Month: "2026-11", Flow: map[string]int{returns.Received: 0}, CaseloadMax: 19},
		{Area: "north", Month: "2026-12", Flow: map[string]int{returns.Received: 9, returns.ContactedOnTime: 9, returns.JobStarts: 4}, CaseloadMax: 23, WaitlistAtMonthEnd: 1},
	}
	return rows
}

func TestReportPage(t *testing.T) {
	var b bytes.Buffer
	if err := RenderReport(&b, ReportPage{AreaName: "North", From: "2026-10", To: "2026-12", Rows: reportRows(), CSVLink: "?format=csv"}); err != nil {
		t.Fatal(err)
	}
	p := parsePage(t, b.String())

	// Three charts, each an image with a title and a description it is labelled by.
	svgs := p.find("svg", "role", "img")
	if len(svgs) != 4 { // the NHS logo and three charts
		t.Fatalf("%d svg images, want 4", len(svgs))
	}
	for _, svg := range svgs[1:] {
		ids := strings.Fields(svg.Attrs["aria-labelledby"])
		if len(ids) != 2 {
			t.Errorf("chart labelled by %q, want title and desc", svg.Attrs["aria-labelledby"])
			continue
		}
		title, desc := p.byID(t, ids[0]), p.byID(t, ids[1])
		if title.Tag != "title" || title.Text == "" || desc.Tag != "desc" || desc.Text == "" {
			t.Errorf("chart title %+v desc %+v", title, desc)
		}
	}
	// The caseload chart draws the limit line at 20, above November's 19 and below December's 23.
	caseload := p.byID(t, "chart-caseload-title")
	var bars []element
	var limit element
	for _, e := range p.children(p.Elements[caseload.Parent]) {
		switch {
		case e.Tag == "rect" && len(p.children(e)) == 1 && strings.Contains(p.children(e)[0].Text, "Highest caseload"):
			bars = append(bars, e)
		case e.Tag == "line" && e.Attrs["stroke"] == colourRed:
			limit = e
		}
	}
	if len(bars) != 3 || limit.Tag == "" {
		t.Fatalf("caseload chart: %d bars, limit %+v", len(bars), limit)
	}
	y := func(e element, attr string) int {
		n, err := strconv.Atoi(e.Attrs[attr])
		if err != nil {
			t.Fatalf("<%s %s=%q>: %v", e.Tag, attr, e.Attrs[attr], err)
		}
		return n
	}
	// SVG's y grows downwards: a shorter bar's top is lower on the page, so its y is larger.
	if !(y(bars[1], "y") > y(limit, "y1") && y(bars[2], "y") < y(limit, "y1")) {
		t.Errorf("bars at y %s and %s, limit line at %s", bars[1].Attrs["y"], bars[2].Attrs["y"], limit.Attrs["y1"])
	}

	// The data is also in the table: one row per figure, one column per month.
	table := p.one(t, "table", "class", "nhsuk-table")
	var cells []string
	for _, e := range p.Elements[table.Index:] {
		if e.Tag == "td" {
			cells = append(cells, e.Text)
		}
	}
	if want := (len(returns.Header) - 2) * 3; len(cells) != want {
		t.Errorf("%d cells, want %d", len(cells), want)
	}
	if got := strings.Join(cells[:3], ","); got != "7,0,9" {
		t.Errorf("received row = %s, want 7,0,9", got)
	}
	if !strings.Contains(b.String(), "25%: 1 of 4 people") {
		t.Errorf("employment rate missing")
	}
	// Counts only: no area id, reference or specialist reaches the page besides the area's name.
	if strings.Contains(b.String(), "north") {
		t.Errorf("page shows the area id")
	}
}
