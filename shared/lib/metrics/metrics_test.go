package metrics

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCountWritesEMF(t *testing.T) {
	tests := []struct {
		name string
		dims map[string]string
		want [][]string
	}{
		{"no dimensions", nil, [][]string{{}}},
		{"one dimension", map[string]string{"District": "ZZ1"}, [][]string{{"District"}}},
		{"sorted dimensions", map[string]string{"b": "2", "a": "1"}, [][]string{{"a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := New(&buf)
			w.now = func() time.Time { return time.UnixMilli(1700000000000) }
			w.Count("OutOfAreaReferrals", 1, tt.dims)
			var got struct {
				AWS struct {
					Timestamp         int64
					CloudWatchMetrics []struct {
						Namespace  string
						Dimensions [][]string
						Metrics    []struct{ Name, Unit string }
					}
				} `json:"_aws"`
				Value float64 `json:"OutOfAreaReferrals"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("not one JSON line: %v: %s", err, buf.String())
			}
			if got.AWS.Timestamp != 1700000000000 || got.Value != 1 {
				t.Errorf("timestamp/value = %d/%v", got.AWS.Timestamp, got.Value)
			}
			cw := got.AWS.CloudWatchMetrics
			if len(cw) != 1 || cw[0].Namespace != Namespace || len(cw[0].Metrics) != 1 || cw[0].Metrics[0].Unit != "Count" {
				t.Fatalf("metric directive = %+v", cw)
			}
			if d, _ := json.Marshal(cw[0].Dimensions); string(d) != mustJSON(t, tt.want) {
				t.Errorf("dimensions = %s, want %s", d, mustJSON(t, tt.want))
			}
			for k, v := range tt.dims {
				if !bytes.Contains(buf.Bytes(), []byte(`"`+k+`":"`+v+`"`)) {
					t.Errorf("dimension value %s=%s missing from %s", k, v, buf.String())
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lambdaLevels are Lambda's log levels, least severe first; a JSON line is kept when its level is
// at least the function's ApplicationLogLevel, and a line without a valid level counts as INFO
// (docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
var lambdaLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

func lambdaKeeps(line []byte, applicationLogLevel string) bool {
	var l struct {
		Level string `json:"level"`
	}
	_ = json.Unmarshal(line, &l)
	rank := func(s string) int { return slices.Index(lambdaLevels, strings.ToUpper(s)) }
	got := rank(l.Level)
	if got < 0 {
		got = rank("INFO")
	}
	return got >= rank(applicationLogLevel)
}

// TestMetricsSurviveEveryLogLevel checks an EMF line is kept by Lambda's log-level filter at every
// ApplicationLogLevel, so LogLevel=ERROR cannot silence the custom metrics and their alarms.
func TestMetricsSurviveEveryLogLevel(t *testing.T) {
	var buf bytes.Buffer
	New(&buf).Count("ReferralsReceived", 1, map[string]string{"Area": "norfolk"})
	line := bytes.TrimSpace(buf.Bytes())
	for _, level := range lambdaLevels {
		if !lambdaKeeps(line, level) {
			t.Errorf("ApplicationLogLevel %s drops the metric line %s", level, line)
		}
	}
	// The emulated filter is not vacuous: a line without a level is dropped at WARN.
	if lambdaKeeps([]byte(`{"_aws":{}}`), "WARN") {
		t.Error("a line without a level survives WARN: the filter emulation is wrong")
	}
}
