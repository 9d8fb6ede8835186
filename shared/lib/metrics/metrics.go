// Package metrics writes CloudWatch embedded metric format (EMF) lines: one JSON object per line
// on the function's output, which CloudWatch turns into metrics without an API call.
// Never pass patient data as a dimension or property.
package metrics

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Namespace is where every metric of the service lives.
const Namespace = "IPSPC/Referrals"

// Level is the "level" every EMF line carries. Lambda's log-level filter (JSON log format) treats
// a line without a level as INFO, so LogLevel=WARN or ERROR would drop every metric and the alarms
// on them would go quiet. FATAL is the most severe level: no ApplicationLogLevel filters it out.
// Error searches use level = "ERROR", so metric lines do not show up there.
const Level = "FATAL"

// Writer emits EMF lines. Safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	out io.Writer
	now func() time.Time
}

// New returns a Writer on out (os.Stdout in a Lambda).
func New(out io.Writer) *Writer { return &Writer{out: out, now: time.Now} }

// Count emits one metric with unit Count under the given dimensions (nil for none).
func (w *Writer) Count(name string, value float64, dimensions map[string]string) {
	w.Emit(map[string]float64{name: value}, "Count", dimensions)
}

// Emit writes one EMF line with the given metrics, all of the same unit.
func (w *Writer) Emit(values map[string]float64, unit string, dimensions map[string]string) {
	if w == nil || w.out == nil {
		return
	}
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	line := map[string]any{"level": Level}
	names := slices.Sorted(maps.Keys(values))
	defs := make([]metric, 0, len(names))
	for _, n := range names {
		defs = append(defs, metric{Name: n, Unit: unit})
		line[n] = values[n]
	}
	dims := append([]string{}, slices.Sorted(maps.Keys(dimensions))...) // [[]] not [null]: EMF wants a list
	for _, d := range dims {
		line[d] = dimensions[d]
	}
	line["_aws"] = map[string]any{
		"Timestamp": w.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{dims},
			"Metrics":    defs,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return // map of strings and floats: cannot fail
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, _ = w.out.Write(append(b, '\n'))
}
