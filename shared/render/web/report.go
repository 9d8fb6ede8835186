package web

import (
	"fmt"
	"io"
	"time"

	"github.com/ipspc/referrals/shared/domain/returns"
)

// ReportPage is an area's programme return (SPEC §12): counts only, no references or names.
type ReportPage struct {
	AreaName string
	From, To string // YYYY-MM
	Rows     []returns.Row
	CSVLink  string // the same report as CSV; optional
	// Action and Token, when Action is set, add a form (GET) asking for another period: the
	// lead's page. The report command's HTML has none.
	Action, Token string
}

// figureNames are the table's row labels, in Header order.
var figureNames = map[string]string{
	returns.Received:                "Referrals received",
	returns.AssignedAtIntake:        "Assigned when received",
	returns.WaitlistedAtIntake:      "Waitlisted when received",
	returns.ContactedOnTime:         "Contacted on time",
	returns.ContactedLate:           "Contacted late",
	returns.MetOnTime:               "Met on time",
	returns.MetLate:                 "Met late",
	returns.EmployerContactIn30Days: "Employer contact within 30 days of first meeting",
	returns.JobStarts:               "Job starts",
	returns.FirstJobStarts:          "First job starts",
	returns.JobStarts16Hours:        "Job starts of 16 hours a week or more",
	returns.JobOutcomes:             "Sustained job outcomes",
	returns.Closed:                  "Closed",
	returns.WithdrawnRevoked:        "Withdrawn: revoked",
	returns.WithdrawnEnteredInError: "Withdrawn: entered in error",
	"caseload_max":                  "Highest specialist caseload at month end",
	"waitlist_at_month_end":         "Waiting list at month end",
}

type figureRow struct {
	Name   string
	Values []string
}

// Chart geometry is worked out here so chart.write only places shapes.
type bar struct {
	X, Y, W, H int
	Fill       string
	Label      string // for the <title> of the bar: "October 2026, job starts: 3"
}

type legendItem struct {
	Fill, Name string
	X          int
}

type tick struct {
	Y     int
	Label string
}

type chart struct {
	Title, Desc string
	ID          string
	Width       int
	Height      int
	Bars        []bar
	Months      []tick // X positions (in Y) and labels of the months
	Ticks       []tick
	Legend      []legendItem
	LineY       int // a reference line (caseload 20); 0 for none
	LineLabel   string
	PlotBottom  int
	PlotLeft    int
	PlotRight   int
}

type reportView struct {
	layout
	AreaName         string
	Period           string
	Months           []string
	Figures          []figureRow
	Charts           []chart
	RateKnown        bool
	RatePercent      string
	RateNum, RateDen int
	CSVLink          string
	Action, Token    string
	From, To         string
}

// NHS.UK colours: blue, dark pink (for contrast against blue), green.
const (
	colourBlue  = "#005eb8"
	colourPink  = "#7c2855"
	colourGreen = "#007f3b"
	colourRed   = "#d5281b"
)

// RenderReport writes the report page: the table of figures and three charts drawn on the
// server as accessible SVG (role="img", <title>, <desc>; the same data is in the table).
func RenderReport(w io.Writer, p ReportPage) error {
	v := reportView{AreaName: p.AreaName, Period: monthName(p.From) + " to " + monthName(p.To), CSVLink: p.CSVLink,
		Action: p.Action, Token: p.Token, From: p.From, To: p.To}
	v.Title = "Programme return for " + p.AreaName
	for _, r := range p.Rows {
		v.Months = append(v.Months, monthName(r.Month))
	}
	for i, c := range returns.Header[2:] {
		fr := figureRow{Name: figureNames[c]}
		for _, r := range p.Rows {
			fr.Values = append(fr.Values, r.Values()[i+2])
		}
		v.Figures = append(v.Figures, fr)
	}
	num, den, ok := returns.Rate(p.Rows)
	v.RateKnown, v.RateNum, v.RateDen = ok, num, den
	if ok {
		v.RatePercent = fmt.Sprintf("%.0f%%", 100*float64(num)/float64(den))
	}
	flow := func(c string) func(returns.Row) int { return func(r returns.Row) int { return r.Flow[c] } }
	v.Charts = []chart{
		barChart("chart-contact", "Referrals received and contacted on time, by month",
			"Bar chart: for each month, referrals received and referrals contacted on time. The figures are also in the table.",
			p.Rows, []series{{"Received", colourBlue, flow(returns.Received)}, {"Contacted on time", colourPink, flow(returns.ContactedOnTime)}}, 0),
		barChart("chart-jobs", "Job starts and sustained job outcomes, by month",
			"Bar chart: for each month, job starts and sustained job outcomes. The figures are also in the table.",
			p.Rows, []series{{"Job starts", colourBlue, flow(returns.JobStarts)}, {"Sustained job outcomes", colourGreen, flow(returns.JobOutcomes)}}, 0),
		barChart("chart-caseload", "Highest specialist caseload at month end, against the limit of 20",
			"Bar chart: for each month, the highest caseload of any specialist at month end, with a line at 20, the most a specialist should hold under IPS fidelity. The figures are also in the table.",
			p.Rows, []series{{"Highest caseload", colourBlue, func(r returns.Row) int { return r.CaseloadMax }}}, 20),
	}
	return writePage(w, "report.html", v.layout, v.write)
}

func (v reportView) write(m *markup) {
	m.wrap("\n          <span class=\"nhsuk-caption-l\">", v.Period, "</span>\n          <h1>Programme return for ")
	m.wrap("", v.AreaName, "</h1>\n          <p>Counts of referrals and what happened to them, by calendar month. A month's figures count what happened in that month.</p>")
	if v.CSVLink != "" {
		m.raw("\n          <p><a href=\"")
		m.url(v.CSVLink)
		m.raw("\">Download these figures as a CSV file</a></p>")
	}
	m.raw("\n\n          <h2>Employment rate</h2>")
	if v.RateKnown {
		m.wrap("\n          <p>", v.RatePercent, ": ")
		m.num(v.RateNum)
		m.raw(" of ")
		m.num(v.RateDen)
		m.raw(" people who were out of work when referred and had a first meeting in this period started a first job in it.</p>")
	} else {
		m.raw("\n          <p>Nobody who was out of work when referred had a first meeting in this period.</p>")
	}
	m.raw("\n        ")
	for _, c := range v.Charts {
		c.write(m)
	}
	// A year of months is wider than a phone: the table scrolls, so its container takes focus
	// (arrow keys scroll it) and is named by the caption.
	m.raw(`

          <h2>Figures by month</h2>
          
          <div class="nhsuk-table-container" tabindex="0" role="region" aria-labelledby="figures-caption">
            <table class="nhsuk-table">
              <caption class="nhsuk-table__caption" id="figures-caption">`)
	m.wrap("", v.AreaName, ", ")
	m.text(v.Period)
	m.raw(`</caption>
              <thead class="nhsuk-table__head">
                <tr class="nhsuk-table__row">
                  <th class="nhsuk-table__header" scope="col">Figure</th>`)
	for _, month := range v.Months {
		m.wrap("\n                  <th class=\"nhsuk-table__header nhsuk-table__header--numeric\" scope=\"col\">", month, "</th>")
	}
	m.raw("\n                </tr>\n              </thead>\n              <tbody class=\"nhsuk-table__body\">")
	for _, f := range v.Figures {
		m.wrap("\n                <tr class=\"nhsuk-table__row\">\n                  <th class=\"nhsuk-table__header\" scope=\"row\">", f.Name, "</th>")
		for _, value := range f.Values {
			m.wrap("\n                  <td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">", value, "</td>")
		}
		m.raw("\n                </tr>")
	}
	m.raw("\n              </tbody>\n            </table>\n          </div>")
	if v.Action != "" {
		m.raw("\n\n          <h2 id=\"period\">Another period</h2>")
		m.tokenForm("get", v.Action, v.Token)
		m.raw(`
            <div class="nhsuk-form-group">
              <label class="nhsuk-label" for="from">First month</label>
              <div class="nhsuk-hint" id="from-hint">As year and month, for example 2026-04</div>
              <input class="nhsuk-input nhsuk-input--width-10" id="from" name="from" type="text" value="`)
		m.text(v.From)
		m.raw(`" aria-describedby="from-hint" inputmode="numeric">
            </div>
            <div class="nhsuk-form-group">
              <label class="nhsuk-label" for="to">Last month</label>
              <div class="nhsuk-hint" id="to-hint">At most 24 months after the first, for example 2027-03</div>
              <input class="nhsuk-input nhsuk-input--width-10" id="to" name="to" type="text" value="`)
		m.text(v.To)
		m.raw(`" aria-describedby="to-hint" inputmode="numeric">
            </div>
            <button class="nhsuk-button nhsuk-button--secondary" data-module="nhsuk-button" type="submit">Show these months</button>
          </form>`)
	}
	m.raw("\n")
}

// write draws the chart as SVG. Its numbers come from barChart; its words are escaped.
func (c chart) write(m *markup) {
	// attrs writes name="value" pairs of numbers, each preceded by a space.
	attrs := func(kv ...any) {
		for i := 0; i < len(kv); i += 2 {
			m.raw(" ", kv[i].(string), `="`)
			m.num(kv[i+1].(int))
			m.raw(`"`)
		}
	}
	m.wrap("\n          <h2 id=\"", c.ID, `-heading">`)
	m.wrap("", c.Title, "</h2>\n          <svg class=\"nhsuk-u-margin-bottom-5\" viewBox=\"0 0 ")
	m.num(c.Width)
	m.raw(" ")
	m.num(c.Height)
	m.wrap(`" width="100%" role="img" aria-labelledby="`, c.ID, "-title ")
	m.wrap("", c.ID, "-desc\" xmlns=\"http://www.w3.org/2000/svg\">\n            <title id=\"")
	m.wrap("", c.ID, `-title">`)
	m.wrap("", c.Title, "</title>\n            <desc id=\"")
	m.wrap("", c.ID, `-desc">`)
	m.wrap("", c.Desc, "</desc>")
	for _, t := range c.Ticks {
		m.raw("\n            <line")
		attrs("x1", c.PlotLeft, "x2", c.PlotRight, "y1", t.Y, "y2", t.Y)
		m.raw(" stroke=\"#d8dde0\" stroke-width=\"1\"/>\n            <text")
		attrs("x", c.PlotLeft-6, "y", t.Y+4)
		m.wrap(` text-anchor="end" font-size="12" fill="#212b32">`, t.Label, "</text>")
	}
	for _, b := range c.Bars {
		m.raw("\n            <rect")
		attrs("x", b.X, "y", b.Y, "width", b.W, "height", b.H)
		m.wrap(` fill="`, b.Fill, `"><title>`)
		m.wrap("", b.Label, "</title></rect>")
	}
	if c.LineY != 0 {
		m.raw("\n            <line")
		attrs("x1", c.PlotLeft, "x2", c.PlotRight, "y1", c.LineY, "y2", c.LineY)
		m.raw(" stroke=\"#d5281b\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n            <text")
		attrs("x", c.PlotRight, "y", c.LineY-6)
		m.wrap(` text-anchor="end" font-size="12" fill="#d5281b">`, c.LineLabel, "</text>")
	}
	for _, t := range c.Months {
		m.raw("\n            <text")
		attrs("x", t.Y, "y", c.PlotBottom+16)
		m.wrap(` text-anchor="middle" font-size="12" fill="#212b32">`, t.Label, "</text>")
	}
	for _, l := range c.Legend {
		m.raw("\n            <rect")
		attrs("x", l.X, "y", c.PlotBottom+30)
		m.wrap(` width="12" height="12" fill="`, l.Fill, "\"/>\n            <text")
		attrs("x", l.X+16, "y", c.PlotBottom+40)
		m.wrap(` font-size="12" fill="#212b32">`, l.Name, "</text>")
	}
	m.raw("\n          </svg>")
}

type series struct {
	Name  string
	Fill  string
	Value func(returns.Row) int
}

func barChart(id, title, desc string, rows []returns.Row, ss []series, line int) chart {
	const left, top, plotH, group, gap = 40, 30, 160, 60, 16
	c := chart{ID: id, Title: title, Desc: desc, PlotLeft: left, PlotBottom: top + plotH}
	c.Width = left + len(rows)*(group+gap) + gap
	c.Width = max(c.Width, 320)
	c.PlotRight = c.Width - 4
	c.Height = top + plotH + 50
	top2 := line
	for _, r := range rows {
		for _, s := range ss {
			top2 = max(top2, s.Value(r))
		}
	}
	scale := niceMax(top2)
	y := func(n int) int { return top + plotH - n*plotH/scale }
	for i := 0; i <= 4; i++ {
		n := scale * i / 4
		c.Ticks = append(c.Ticks, tick{Y: y(n), Label: fmt.Sprint(n)})
	}
	bw := group / len(ss)
	for i, r := range rows {
		x0 := left + gap + i*(group+gap)
		c.Months = append(c.Months, tick{Y: x0 + group/2, Label: shortMonth(r.Month)})
		for j, s := range ss {
			n := s.Value(r)
			c.Bars = append(c.Bars, bar{X: x0 + j*bw, Y: y(n), W: bw - 2, H: y(0) - y(n), Fill: s.Fill,
				Label: fmt.Sprintf("%s, %s: %d", monthName(r.Month), s.Name, n)})
		}
	}
	for j, s := range ss {
		c.Legend = append(c.Legend, legendItem{Fill: s.Fill, Name: s.Name, X: left + j*170})
	}
	if line > 0 {
		c.LineY, c.LineLabel = y(line), fmt.Sprintf("Limit %d", line)
	}
	return c
}

// niceMax rounds n up to a multiple of 4 (so the four gridlines are whole numbers), at least 4.
func niceMax(n int) int { return max(4, (n+3)/4*4) }

func monthName(m string) string {
	t, err := parseMonth(m)
	if err != nil {
		return m
	}
	return t.Format("January 2006")
}

func shortMonth(m string) string {
	t, err := parseMonth(m)
	if err != nil {
		return m
	}
	return t.Format("Jan 06")
}

func parseMonth(m string) (time.Time, error) { return time.Parse("2006-01", m) }
