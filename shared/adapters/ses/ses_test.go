package ses

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/ipspc/referrals/shared/render/email"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

const sender = "IPSPC Referrals <no-reply@referrals.example.org>"

// fakeSES is a hand-written SESAPI whose behaviour each test sets.
type fakeSES struct {
	sendEmail func(ctx context.Context, in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error)
}

func (f *fakeSES) SendEmail(ctx context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	return f.sendEmail(ctx, in)
}

var _ SESAPI = (*fakeSES)(nil)

// TestSenderBuildsInput checks, with a fake client, what the emulator cannot show: the
// configuration set, the charsets and the tags.
func TestSenderBuildsInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		kind             email.Kind
		configurationSet string
	}{
		{"assignment in a configuration set", email.Assignment, "ipspc-referrals-prod"},
		{"acknowledgement without a configuration set", email.Acknowledgement, ""},
		{"overdue with a Cc", email.MeetingOverdue, "ipspc-referrals-prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := exampleFor(t, tt.kind)
			want := mustRender(t, m)
			var got *sesv2.SendEmailInput
			client := &fakeSES{sendEmail: func(_ context.Context, in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
				got = in
				return &sesv2.SendEmailOutput{MessageId: aws.String("msg-1")}, nil
			}}
			id, err := outbox(NewSender(client, sender, tt.configurationSet)).Send(context.Background(), m)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if id != "msg-1" {
				t.Errorf("message id = %q, want msg-1", id)
			}
			if got == nil {
				t.Fatal("SendEmail was not called")
			}
			if aws.ToString(got.FromEmailAddress) != sender {
				t.Errorf("From = %q, want %q", aws.ToString(got.FromEmailAddress), sender)
			}
			if got.Destination == nil || !slices.Equal(got.Destination.ToAddresses, m.To) ||
				!slices.Equal(got.Destination.CcAddresses, m.Cc) || len(got.Destination.BccAddresses) != 0 {
				t.Errorf("Destination = %+v, want To %v, Cc %v, no Bcc", got.Destination, m.To, m.Cc)
			}
			if tt.configurationSet == "" && got.ConfigurationSetName != nil {
				t.Errorf("ConfigurationSetName = %q, want none", *got.ConfigurationSetName)
			}
			if tt.configurationSet != "" && aws.ToString(got.ConfigurationSetName) != tt.configurationSet {
				t.Errorf("ConfigurationSetName = %v, want %q", got.ConfigurationSetName, tt.configurationSet)
			}
			wantTags := []types.MessageTag{{Name: aws.String("kind"), Value: aws.String(string(tt.kind))}}
			if !slices.EqualFunc(got.EmailTags, wantTags, func(a, b types.MessageTag) bool {
				return aws.ToString(a.Name) == aws.ToString(b.Name) && aws.ToString(a.Value) == aws.ToString(b.Value)
			}) {
				t.Errorf("EmailTags = %+v, want only kind=%s", got.EmailTags, tt.kind)
			}
			if got.Content == nil || got.Content.Simple == nil || got.Content.Simple.Body == nil ||
				got.Content.Simple.Body.Text == nil || got.Content.Simple.Body.Html == nil || got.Content.Simple.Subject == nil {
				t.Fatalf("Content = %+v, want Simple content with subject, text and HTML", got.Content)
			}
			simple := got.Content.Simple
			for _, c := range []struct {
				part    string
				content *types.Content
				want    string
			}{
				{"subject", simple.Subject, want.Subject},
				{"text", simple.Body.Text, want.Text},
				{"HTML", simple.Body.Html, want.HTML},
			} {
				if aws.ToString(c.content.Data) != c.want {
					t.Errorf("%s = %q, want %q", c.part, aws.ToString(c.content.Data), c.want)
				}
				if aws.ToString(c.content.Charset) != "UTF-8" {
					t.Errorf("%s charset = %v, want UTF-8", c.part, c.content.Charset)
				}
			}
		})
	}
}

func TestSenderErrors(t *testing.T) {
	t.Parallel()
	throttled := errors.New("TooManyRequestsException: Maximum sending rate exceeded")
	tests := []struct {
		name    string
		edit    func(*email.Message)
		sesErr  error
		wantIs  error
		calls   int
		wantMsg string
	}{
		{"SES fails", func(*email.Message) {}, throttled, throttled, 1, `send contact-reminder email for referral R-7K3M9QX2`},
		{"message invalid", func(m *email.Message) { m.Link = "" }, nil, email.ErrInvalidMessage, 0, `send "contact-reminder" email for referral R-7K3M9QX2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			client := &fakeSES{sendEmail: func(context.Context, *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
				calls++
				return nil, tt.sesErr
			}}
			m := exampleFor(t, email.ContactReminder)
			tt.edit(&m)
			id, err := outbox(NewSender(client, sender, "")).Send(context.Background(), m)
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("Send error = %v, want it to wrap %v", err, tt.wantIs)
			}
			if id != "" {
				t.Errorf("Send failed but returned id %q", id)
			}
			if calls != tt.calls {
				t.Errorf("SendEmail called %d times, want %d", calls, tt.calls)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Send error = %q, want it to name kind and referral: %q", err, tt.wantMsg)
			}
			for _, bad := range []string{"Sam", "Taylor", "alex.morgan"} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("Send error %q contains %q", err, bad)
				}
			}
		})
	}
}

// The SES emulator tests run against aws-ses-v2-local (or any SES v2 endpoint) named by
// AWS_ENDPOINT_URL_SESV2, the SDK's own variable; `make test` starts one and sets it.

// newEmulatorClient returns a client for the SES endpoint in AWS_ENDPOINT_URL_SESV2 and the
// endpoint, or skips the test when the variable is unset.
func newEmulatorClient(tb testing.TB) (*sesv2.Client, string) {
	tb.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SESV2")
	if endpoint == "" {
		tb.Skip("set AWS_ENDPOINT_URL_SESV2 (make test does)")
	}
	cfg := aws.Config{
		Region:      "eu-west-2",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	}
	client := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
	return client, strings.TrimRight(endpoint, "/")
}

// storedEmail is one email in the emulator's GET /store answer:
//
//	{"templates": {}, "emails": [{"messageId", "from", "replyTo": [],
//	  "destination": {"to": [], "cc": [], "bcc": []}, "subject",
//	  "body": {"html", "text"}, "attachments": [], "at": <Unix seconds>}]}
type storedEmail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo"`
	Destination struct {
		To  []string `json:"to"`
		Cc  []string `json:"cc"`
		Bcc []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	At int64 `json:"at"`
}

// storedTo returns the emails in the emulator's store addressed to recipient. Tests share one
// emulator, so each filters by a recipient of its own rather than clearing the store.
func storedTo(tb testing.TB, endpoint, recipient string) []storedEmail {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/store", nil)
	if err != nil {
		tb.Fatalf("GET /store: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET /store: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET /store: %s", resp.Status)
	}
	var store struct {
		Emails []storedEmail `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		tb.Fatalf("GET /store: decode: %v", err)
	}
	var out []storedEmail
	for _, e := range store.Emails {
		if slices.Contains(e.Destination.To, recipient) {
			out = append(out, e)
		}
	}
	return out
}

var localPartUnsafe = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueAddress returns an address at example.org no other test or run uses: the test's name
// and a random suffix.
func uniqueAddress(tb testing.TB, role string) string {
	tb.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		tb.Fatalf("random suffix: %v", err)
	}
	name := strings.Trim(localPartUnsafe.ReplaceAllString(strings.ToLower(tb.Name()), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	return role + "." + name + "." + hex.EncodeToString(suffix) + "@example.org"
}

// TestSenderEmulator sends every kind through the SES v2 emulator and checks what arrived.
func TestSenderEmulator(t *testing.T) {
	t.Parallel()
	client, endpoint := newEmulatorClient(t)
	for _, kind := range email.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			m := exampleFor(t, kind)
			m.To = []string{uniqueAddress(t, "to")}
			if len(m.Cc) > 0 {
				m.Cc = []string{uniqueAddress(t, "cc")}
			}
			want := mustRender(t, m)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			id, err := outbox(NewSender(client, sender, "")).Send(ctx, m)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if id == "" {
				t.Error("Send returned an empty message id")
			}
			got := storedTo(t, endpoint, m.To[0])
			if len(got) != 1 {
				t.Fatalf("emulator holds %d emails to %s, want 1", len(got), m.To[0])
			}
			e := got[0]
			if e.MessageID != id {
				t.Errorf("stored message id = %q, Send returned %q", e.MessageID, id)
			}
			if e.From != sender {
				t.Errorf("from = %q, want %q", e.From, sender)
			}
			if !slices.Equal(e.Destination.To, m.To) {
				t.Errorf("to = %v, want %v", e.Destination.To, m.To)
			}
			if !slices.Equal(e.Destination.Cc, m.Cc) {
				t.Errorf("cc = %v, want %v", e.Destination.Cc, m.Cc)
			}
			if len(e.Destination.Bcc) != 0 || len(e.ReplyTo) != 0 {
				t.Errorf("bcc = %v, reply-to = %v, want none", e.Destination.Bcc, e.ReplyTo)
			}
			if e.Subject != want.Subject {
				t.Errorf("subject = %q, want %q", e.Subject, want.Subject)
			}
			if e.Body.Text != want.Text {
				t.Errorf("text = %q, want %q", e.Body.Text, want.Text)
			}
			if e.Body.HTML != want.HTML {
				t.Errorf("HTML = %q, want %q", e.Body.HTML, want.HTML)
			}
			if !strings.Contains(e.Body.Text, "R-7K3M9QX2") || !strings.Contains(e.Body.HTML, "Sam T.") {
				t.Errorf("stored bodies lack the reference or patient name:\n%s\n%s", e.Body.Text, e.Body.HTML)
			}
		})
	}
}

// exampleFor is email.Example for kind, or stops the test.
func exampleFor(tb testing.TB, kind email.Kind) email.Message {
	tb.Helper()
	m, err := email.Example(kind)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// mustRender renders m or stops the test.
func mustRender(tb testing.TB, m email.Message) email.Rendered {
	tb.Helper()
	r, err := email.Render(m)
	if err != nil {
		tb.Fatalf("Render(%s): %v", m.Kind, err)
	}
	return r
}

// TestSenderDigestEmulator sends a lead digest through the SES emulator: tagged lead-digest (the
// fake shows tags), stored as rendered, and a bad digest is refused before SES is called.
func TestSenderDigestEmulator(t *testing.T) {
	t.Parallel()
	client, endpoint := newEmulatorClient(t)
	d := email.Digest{To: []string{uniqueAddress(t, "lead")}, RecipientName: "Nia Lead", AreaName: "Norfolk",
		Waitlisted: 3, OldestWaitDays: 9, Overdue: 2, ReceivedLastWeek: 5, Bouncing: 1,
		Link: "https://referrals.example.org/areas/norfolk/worklist?token=tok"}
	want, err := email.RenderDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, err := outbox(NewSender(client, sender, "")).SendDigest(ctx, d)
	if err != nil || id == "" {
		t.Fatalf("SendDigest = %q, %v; want a message id", id, err)
	}
	got := storedTo(t, endpoint, d.To[0])
	if len(got) != 1 || got[0].MessageID != id || got[0].Subject != want.Subject || got[0].Body.Text != want.Text || got[0].Body.HTML != want.HTML {
		t.Fatalf("emulator holds %+v, want one digest %s as rendered", got, id)
	}

	var tags []types.MessageTag
	fake := &fakeSES{sendEmail: func(_ context.Context, in *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) {
		tags = in.EmailTags
		return &sesv2.SendEmailOutput{MessageId: aws.String("msg-2")}, nil
	}}
	if _, err := outbox(NewSender(fake, sender, "")).SendDigest(ctx, d); err != nil {
		t.Fatal(err)
	}
	if len(tags) != 1 || aws.ToString(tags[0].Name) != "kind" || aws.ToString(tags[0].Value) != "lead-digest" {
		t.Errorf("EmailTags = %+v, want only kind=lead-digest", tags)
	}
	bad := d
	bad.Link = ""
	calls := 0
	fake.sendEmail = func(context.Context, *sesv2.SendEmailInput) (*sesv2.SendEmailOutput, error) { calls++; return nil, nil }
	if _, err := outbox(NewSender(fake, sender, "")).SendDigest(ctx, bad); !errors.Is(err, email.ErrInvalidMessage) || calls != 0 {
		t.Errorf("SendDigest(no link) = %v after %d calls, want ErrInvalidMessage and no call", err, calls)
	}
}

// outbox renders messages and sends them through s, as the functions wire it.
func outbox(s *Sender) email.Outbox { return email.Outbox{Transport: s} }

var _ email.Transport = (*Sender)(nil)
