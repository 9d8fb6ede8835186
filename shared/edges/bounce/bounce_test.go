package bounce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// markCall is one call of MarkEmailFailing.
type markCall struct {
	Addresses []string
	Reason    Reason
	At        time.Time
}

// fakeDirectory records its calls and answers with mark (nil: every address is a specialist's).
type fakeDirectory struct {
	mu    sync.Mutex
	calls []markCall
	mark  func(addresses []string) ([]Holder, error)
}

func (f *fakeDirectory) MarkEmailFailing(_ context.Context, addresses []string, reason Reason, at time.Time) ([]Holder, error) {
	f.mu.Lock()
	f.calls = append(f.calls, markCall{Addresses: slices.Clone(addresses), Reason: reason, At: at})
	f.mu.Unlock()
	if f.mark != nil {
		return f.mark(addresses)
	}
	holders := make([]Holder, len(addresses))
	for i := range addresses {
		holders[i] = Holder{AreaID: "slough", SpecialistID: "slough-1"}
	}
	return holders, nil
}

// fakeCounter sums metrics by name and dimensions ("EmailBounces{BounceType=Permanent}").
type fakeCounter struct {
	mu   sync.Mutex
	sums map[string]float64
}

func (c *fakeCounter) Count(name string, value float64, dims map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sums == nil {
		c.sums = map[string]float64{}
	}
	key := name
	if len(dims) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(dims)) {
			parts = append(parts, k+"="+dims[k])
		}
		key += "{" + strings.Join(parts, ",") + "}"
	}
	c.sums[key] += value
}

// newHandler returns a handler on fakes, logging JSON into the returned buffer.
func newHandler(dir *fakeDirectory) (*Handler, *fakeCounter, *bytes.Buffer) {
	var logs bytes.Buffer
	c := &fakeCounter{}
	h := &Handler{
		Directory: dir,
		Metrics:   c,
		Log:       slog.New(slog.NewJSONHandler(&logs, nil)),
		Now:       func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) },
	}
	return h, c, &logs
}

// mustFixture reads and decodes testdata/name, stopping the test if it is broken.
func mustFixture(tb testing.TB, name string) events.SNSEvent {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("decode fixture %s: %v", name, err)
	}
	if len(ev.Records) == 0 {
		tb.Fatalf("fixture %s has no records", name)
	}
	return ev
}

// snsEvent wraps SES event messages in an SNS event, one record each.
func snsEvent(messages ...string) events.SNSEvent {
	var ev events.SNSEvent
	for i, m := range messages {
		ev.Records = append(ev.Records, events.SNSEventRecord{EventSource: "aws:sns", SNS: events.SNSEntity{
			MessageID: "sns-" + string(rune('a'+i)), Message: m, Timestamp: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC),
		}})
	}
	return ev
}

func TestHandleFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture     string
		wantCalls   []markCall
		wantMetrics map[string]float64
		wantOutcome string
	}{
		{
			fixture: "sns-bounce-permanent.json",
			wantCalls: []markCall{{Addresses: []string{"sam.slough@example.org"}, Reason: ReasonBounce,
				At: time.Date(2026, 11, 24, 9, 15, 4, 0, time.UTC)}},
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Permanent}": 1, "DirectoryEmailsMarkedFailing": 1},
			wantOutcome: "marked failing",
		},
		{
			fixture: "sns-complaint.json",
			wantCalls: []markCall{{Addresses: []string{"lead.slough@example.org"}, Reason: ReasonComplaint,
				At: time.Date(2026, 11, 25, 14, 2, 11, 0, time.UTC)}},
			wantMetrics: map[string]float64{"EmailComplaints": 1, "DirectoryEmailsMarkedFailing": 1},
			wantOutcome: "marked failing",
		},
		{
			fixture:     "sns-bounce-transient.json",
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Transient}": 1},
			wantOutcome: "counted",
		},
		{
			fixture:     "sns-delivery-delay.json",
			wantMetrics: map[string]float64{"EmailDeliveryDelays": 1},
			wantOutcome: "counted",
		},
		{
			fixture:     "sns-reject.json",
			wantMetrics: map[string]float64{"EmailRejects": 1},
			wantOutcome: "counted",
		},
		{
			// SES publishes this once, as plain text, when the destination is created.
			fixture:     "sns-setup-notification.json",
			wantMetrics: map[string]float64{"EmailEventsSkipped": 1},
			wantOutcome: "skipped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			dir := &fakeDirectory{}
			h, counter, logs := newHandler(dir)
			if err := h.Handle(t.Context(), mustFixture(t, tt.fixture)); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if !reflect.DeepEqual(dir.calls, tt.wantCalls) {
				t.Errorf("MarkEmailFailing calls = %+v, want %+v", dir.calls, tt.wantCalls)
			}
			if !maps.Equal(counter.sums, tt.wantMetrics) {
				t.Errorf("metrics = %v, want %v", counter.sums, tt.wantMetrics)
			}
			if got := logField(t, logs, "outcome"); got != tt.wantOutcome {
				t.Errorf("logged outcome %q, want %q\n%s", got, tt.wantOutcome, logs)
			}
		})
	}
}

// TestLogsCarryNoAddress runs every fixture and checks that no recipient address reaches the
// log, while its domain and hash do.
func TestLogsCarryNoAddress(t *testing.T) {
	t.Parallel()
	fixtures, err := filepath.Glob("testdata/*.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range fixtures {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := mustFixture(t, name)
			h, _, logs := newHandler(&fakeDirectory{})
			if err := h.Handle(t.Context(), ev); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			var e Event
			if json.Unmarshal([]byte(ev.Records[0].SNS.Message), &e) != nil {
				return // not an SES event: nothing about recipients to check
			}
			var sent struct {
				Mail struct {
					Destination []string `json:"destination"`
				} `json:"mail"`
			}
			if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &sent); err != nil || len(sent.Mail.Destination) == 0 {
				t.Fatalf("fixture has no mail.destination: %v", err)
			}
			for _, addr := range sent.Mail.Destination {
				local, _, _ := strings.Cut(addr, "@")
				if strings.Contains(logs.String(), local) {
					t.Errorf("log contains the address %s:\n%s", addr, logs)
				}
			}
			for _, addr := range addresses(recipientsOf(e)) {
				if !strings.Contains(logs.String(), Hash(addr)) || !strings.Contains(logs.String(), Domain(addr)) {
					t.Errorf("log lacks the domain and hash of a recipient:\n%s", logs)
				}
			}
		})
	}
}

func recipientsOf(e Event) []Recipient {
	switch {
	case e.Bounce != nil:
		return e.Bounce.BouncedRecipients
	case e.Complaint != nil:
		return e.Complaint.ComplainedRecipients
	case e.DeliveryDelay != nil:
		return e.DeliveryDelay.DelayedRecipients
	}
	return nil
}

func TestHandleUnusualMessages(t *testing.T) {
	t.Parallel()
	bounce := func(bounceType, recipients, timestamp string) string {
		return `{"eventType":"Bounce","bounce":{"bounceType":"` + bounceType + `","bouncedRecipients":` + recipients +
			timestamp + `},"mail":{"messageId":"m-1"}}`
	}
	snsTime := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		messages    []string
		wantCalls   []markCall
		wantMetrics map[string]float64
	}{
		{"malformed JSON", []string{`{"eventType":`}, nil, map[string]float64{"EmailEventsSkipped": 1}},
		{"JSON null", []string{`null`}, nil, map[string]float64{"EmailEventsSkipped": 1}},
		{"no event type", []string{`{"bounce":{}}`}, nil, map[string]float64{"EmailEventsSkipped": 1}},
		{"bounce without its object", []string{`{"eventType":"Bounce"}`}, nil, nil},
		{"an event type not subscribed to", []string{`{"eventType":"Delivery","mail":{}}`}, nil, nil},
		{
			name:        "undetermined bounce is counted, not marked",
			messages:    []string{bounce("Undetermined", `[{"emailAddress":"sam.slough@example.org"}]`, "")},
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Undetermined}": 1},
		},
		{
			name:        "unknown bounce type is undetermined",
			messages:    []string{bounce("Squishy", `[{"emailAddress":"sam.slough@example.org"}]`, "")},
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Undetermined}": 1},
		},
		{
			name:        "permanent bounce without readable addresses marks nothing",
			messages:    []string{bounce("Permanent", `[{"emailAddress":"not an address"},{"emailAddress":""}]`, "")},
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Permanent}": 1},
		},
		{
			name:     "display names are dropped and two recipients counted",
			messages: []string{bounce("Permanent", `[{"emailAddress":"Sam <sam.slough@example.org>"},{"emailAddress":"lead.slough@example.org"}]`, `,"timestamp":"2026-11-24T09:15:04Z"`)},
			wantCalls: []markCall{{Addresses: []string{"sam.slough@example.org", "lead.slough@example.org"}, Reason: ReasonBounce,
				At: time.Date(2026, 11, 24, 9, 15, 4, 0, time.UTC)}},
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Permanent}": 2, "DirectoryEmailsMarkedFailing": 2},
		},
		{
			name:        "without a bounce timestamp the SNS timestamp is the time",
			messages:    []string{bounce("Permanent", `[{"emailAddress":"sam.slough@example.org"}]`, "")},
			wantCalls:   []markCall{{Addresses: []string{"sam.slough@example.org"}, Reason: ReasonBounce, At: snsTime}},
			wantMetrics: map[string]float64{"EmailBounces{BounceType=Permanent}": 1, "DirectoryEmailsMarkedFailing": 1},
		},
		{
			name: "identity notifications use notificationType",
			messages: []string{`{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"lead.slough@example.org"}],` +
				`"timestamp":"2026-11-25T14:02:11Z"},"mail":{}}`},
			wantCalls: []markCall{{Addresses: []string{"lead.slough@example.org"}, Reason: ReasonComplaint,
				At: time.Date(2026, 11, 25, 14, 2, 11, 0, time.UTC)}},
			wantMetrics: map[string]float64{"EmailComplaints": 1, "DirectoryEmailsMarkedFailing": 1},
		},
		{
			name:        "a malformed record does not stop the next",
			messages:    []string{`garbage`, `{"eventType":"Reject","reject":{},"mail":{}}`},
			wantMetrics: map[string]float64{"EmailEventsSkipped": 1, "EmailRejects": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := &fakeDirectory{}
			h, counter, _ := newHandler(dir)
			if err := h.Handle(t.Context(), snsEvent(tt.messages...)); err != nil {
				t.Fatalf("Handle returned %v; malformed input must be logged and skipped", err)
			}
			if !reflect.DeepEqual(dir.calls, tt.wantCalls) {
				t.Errorf("MarkEmailFailing calls = %+v, want %+v", dir.calls, tt.wantCalls)
			}
			if !maps.Equal(counter.sums, tt.wantMetrics) {
				t.Errorf("metrics = %v, want %v", counter.sums, tt.wantMetrics)
			}
		})
	}
}

func TestHandleDirectoryFailure(t *testing.T) {
	t.Parallel()
	for _, fixture := range []string{"sns-bounce-permanent.json", "sns-complaint.json"} {
		t.Run(fixture, func(t *testing.T) {
			t.Parallel()
			outage := errors.New("dynamodb: service unavailable")
			dir := &fakeDirectory{mark: func([]string) ([]Holder, error) { return nil, outage }}
			h, counter, logs := newHandler(dir)
			err := h.Handle(t.Context(), mustFixture(t, fixture))
			if !errors.Is(err, outage) {
				t.Fatalf("Handle = %v, want the directory's error (so Lambda retries)", err)
			}
			if strings.Contains(err.Error(), "@") {
				t.Errorf("error names an address: %v", err)
			}
			if len(counter.sums) != 0 {
				t.Errorf("metrics %v counted before the retry that will count them", counter.sums)
			}
			if got := logField(t, logs, "outcome"); got != "failed" {
				t.Errorf("logged outcome %q, want failed", got)
			}
		})
	}
}

func TestHandleNotInDirectory(t *testing.T) {
	t.Parallel()
	dir := &fakeDirectory{mark: func([]string) ([]Holder, error) { return nil, nil }}
	h, counter, logs := newHandler(dir)
	if err := h.Handle(t.Context(), mustFixture(t, "sns-bounce-permanent.json")); err != nil {
		t.Fatal(err)
	}
	if want := map[string]float64{"EmailBounces{BounceType=Permanent}": 1}; !maps.Equal(counter.sums, want) {
		t.Errorf("metrics = %v, want %v", counter.sums, want)
	}
	if got := logField(t, logs, "outcome"); got != "not in directory" {
		t.Errorf("logged outcome %q", got)
	}
}

// TestFixturesRoundTrip checks each fixture is an SNS event that survives decoding and encoding
// unchanged (so it is what `sam local invoke -e` sends), with an SES event as its message.
func TestFixturesRoundTrip(t *testing.T) {
	t.Parallel()
	fixtures, err := filepath.Glob("testdata/*.json")
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range fixtures {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			ev := mustFixture(t, filepath.Base(path))
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var again events.SNSEvent
			if err := json.Unmarshal(b, &again); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev, again) {
				t.Errorf("round trip changed the event:\n%+v\n%+v", ev, again)
			}
			if ev.Records[0].EventSource != "aws:sns" || ev.Records[0].SNS.Type != "Notification" {
				t.Errorf("not an SNS notification record: %+v", ev.Records[0])
			}
			if strings.Contains(path, "setup") {
				return
			}
			var e Event
			if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &e); err != nil || e.Type() == "" || e.Mail.MessageID == "" {
				t.Errorf("message is not an SES event (%v): %.80s", err, ev.Records[0].SNS.Message)
			}
		})
	}
}

func TestHashAndDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b     string
		sameHash bool
		domain   string
	}{
		{"Sam.Slough@Example.ORG", "sam.slough@example.org", true, "example.org"},
		{" sam.slough@example.org", "sam.slough@example.org", true, "example.org"},
		{"sam.slough@example.org", "jo.slough@example.org", false, "example.org"},
		{"no-at-sign", "no-at-sign", true, ""},
	}
	for _, tt := range tests {
		if got := Hash(tt.a) == Hash(tt.b); got != tt.sameHash {
			t.Errorf("Hash(%q) == Hash(%q) is %v, want %v", tt.a, tt.b, got, tt.sameHash)
		}
		if len(Hash(tt.a)) != 12 {
			t.Errorf("Hash(%q) = %q, want 12 hex digits", tt.a, Hash(tt.a))
		}
		if got := Domain(tt.a); got != tt.domain {
			t.Errorf("Domain(%q) = %q, want %q", tt.a, got, tt.domain)
		}
	}
}

func TestHolderString(t *testing.T) {
	t.Parallel()
	for h, want := range map[Holder]string{
		{AreaID: "slough"}:                           "lead slough",
		{AreaID: "slough", SpecialistID: "slough-1"}: "specialist slough/slough-1",
	} {
		if got := h.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", h, got, want)
		}
	}
}

// logField returns a field of the last log line, stopping the test if there is none.
func logField(tb testing.TB, logs *bytes.Buffer, field string) string {
	tb.Helper()
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		tb.Fatalf("last log line is not JSON: %v\n%s", err, logs)
	}
	s, _ := last[field].(string)
	return s
}
