package localstack

import (
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The template's MaximumRetryAttempts wins unless the Config overrides it, and discarded records
// reach Config.OnStreamDiscard with the function's logical id.
func TestTemplateTriggersRetriesAndDiscard(t *testing.T) {
	tmpl := mustLoad(t, "stream.yaml", TemplateOptions{}) // MaximumRetryAttempts: 2
	var heard []string
	for _, tt := range []struct {
		name        string
		cfg         Config
		wantRetries int
		wantDiscard bool
	}{
		{name: "template wins", cfg: Config{StreamMaxRetries: 7}, wantRetries: 2},
		{name: "override", cfg: Config{StreamMaxRetries: 7, StreamRetriesOverride: true}, wantRetries: 7},
		{name: "discard hook", cfg: Config{StreamMaxRetries: 3, OnStreamDiscard: func(fn string, recs []events.DynamoDBEventRecord, reason string) {
			heard = append(heard, fn+" "+recs[0].EventID+" "+reason)
		}}, wantRetries: 2, wantDiscard: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Stack{cfg: tt.cfg, tmpl: tmpl, tables: map[string]string{"ItemsTable": "items"},
				ddb: DynamoDBClient("http://127.0.0.1:9", DefaultRegion), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			triggers := s.templateTriggers(tmpl.Functions)
			if len(triggers) != 1 {
				t.Fatalf("%d triggers, want the one stream", len(triggers))
			}
			p, ok := triggers[0].(*StreamPoller)
			if !ok {
				t.Fatalf("trigger is %T", triggers[0])
			}
			if p.Event.MaximumRetryAttempts != tt.wantRetries {
				t.Errorf("MaximumRetryAttempts = %d, want %d", p.Event.MaximumRetryAttempts, tt.wantRetries)
			}
			if (p.OnDiscard != nil) != tt.wantDiscard {
				t.Fatalf("OnDiscard set = %v, want %v", p.OnDiscard != nil, tt.wantDiscard)
			}
			if p.OnDiscard != nil {
				p.OnDiscard([]events.DynamoDBEventRecord{{EventID: "e1"}}, "why")
				if len(heard) != 1 || heard[0] != "StreamFunction e1 why" {
					t.Errorf("OnStreamDiscard heard %q", heard)
				}
			}
		})
	}
}
