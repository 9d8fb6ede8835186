package returns

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
)

// WriteCSV writes rows as SPEC §12's CSV: the fixed header, then one line per row.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return fmt.Errorf("returns csv: %w", err)
	}
	for _, r := range rows {
		if err := cw.Write(r.Values()); err != nil {
			return fmt.Errorf("returns csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("returns csv: %w", err)
	}
	return nil
}

// jsonRow flattens a row into Header's names, so the JSON and the CSV share their vocabulary.
func jsonRow(r Row) map[string]any {
	out := map[string]any{"area": r.Area, "month": r.Month, "caseload_max": r.CaseloadMax,
		"waitlist_at_month_end": r.WaitlistAtMonthEnd, EngagedUnemployed: r.EngagedUnemployed,
		FirstJobStartsUnemployed: r.FirstJobStartsUnemployed}
	for _, c := range Header[2:17] {
		out[c] = r.Flow[c]
	}
	return out
}

// WriteJSON writes rows as {"columns": Header, "rows": [...], "employmentRate": {...}}.
func WriteJSON(w io.Writer, rows []Row) error {
	list := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		list = append(list, jsonRow(r))
	}
	num, den, _ := Rate(rows)
	doc := map[string]any{"columns": Header, "rows": list,
		"employmentRate": map[string]int{"firstJobStartsUnemployed": num, "engagedUnemployed": den}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("returns json: %w", err)
	}
	return nil
}
