// Package bounce handles the events SES publishes for the service's configuration set (bounces,
// complaints, rejects and delivery delays), delivered by SNS. A permanent bounce or a complaint
// marks the address failing in the directory, so the people who run the service can see which
// specialist or area lead is not getting their emails (SES suppresses the address from then on).
// Transient bounces, rejects and delays are counted, never marked.
//
// Addresses never reach a log line or a metric: logs carry the recipient's domain and a short
// one-way hash of the address, enough to tell two recipients apart or to confirm a suspicion.
package bounce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ipspc/referrals/shared/domain/directory"
)

// The failing-address vocabulary is the directory's (domain), which its store also speaks.
type (
	Reason  = directory.FailingReason
	Holder  = directory.Holder
	Failing = directory.Failing
)

const (
	ReasonBounce    = directory.ReasonBounce
	ReasonComplaint = directory.ReasonComplaint
)

// Directory marks the directory entries that use an address as failing.
type Directory interface {
	// MarkEmailFailing marks every entry whose address is one of addresses (compared without
	// regard to case) as failing for reason since at, keeping an earlier since, and returns the
	// entries it marked. An address nobody in the directory uses (a referrer's) marks nothing.
	MarkEmailFailing(ctx context.Context, addresses []string, reason Reason, at time.Time) ([]Holder, error)
}

// Counter records a metric (embedded metric format in production).
type Counter interface {
	Count(name string, value float64, dimensions map[string]string)
}

// Metric names, in the service's namespace. EmailBounces has a BounceType dimension (Permanent,
// Transient or Undetermined); the others have none.
const (
	MetricBounces           = "EmailBounces"
	MetricComplaints        = "EmailComplaints"
	MetricRejects           = "EmailRejects"
	MetricDeliveryDelays    = "EmailDeliveryDelays"
	MetricDirectoryFailing  = "DirectoryEmailsMarkedFailing"
	MetricUnreadableMessage = "EmailEventsSkipped"
)

// maxRecipients bounds the addresses taken from one event; the service's emails have one or two.
const maxRecipients = 50

// Handler is the BounceFunction handler on the SNS topic of SES events.
type Handler struct {
	Directory Directory
	Metrics   Counter
	Log       *slog.Logger
	Now       func() time.Time
}

// Event is the part of an SES event-publishing record the handler reads. Identity notifications
// (the older feedback mechanism) have the same shape with notificationType for eventType, so
// both are accepted.
type Event struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Bounce           *struct {
		BounceType        string      `json:"bounceType"`
		BounceSubType     string      `json:"bounceSubType"`
		BouncedRecipients []Recipient `json:"bouncedRecipients"`
		Timestamp         time.Time   `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []Recipient `json:"complainedRecipients"`
		ComplaintFeedbackType string      `json:"complaintFeedbackType"`
		Timestamp             time.Time   `json:"timestamp"`
	} `json:"complaint"`
	DeliveryDelay *struct {
		DelayType         string      `json:"delayType"`
		DelayedRecipients []Recipient `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
	Mail struct {
		MessageID string              `json:"messageId"`
		Timestamp time.Time           `json:"timestamp"`
		Tags      map[string][]string `json:"tags"`
	} `json:"mail"`
}

// Recipient is one address an event is about.
type Recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// Type is the event's type: Bounce, Complaint, Reject, DeliveryDelay…
func (e Event) Type() string {
	if e.EventType != "" {
		return e.EventType
	}
	return e.NotificationType
}

// Handle processes each SNS record. A message that is not a readable SES event (SES's own
// "Successfully validated SNS topic" message among them) is logged and skipped: retrying cannot
// make it readable. A failure to mark the directory is returned, so Lambda retries the event
// (and, past its retries, sends it to the function's failure queue); marking is idempotent.
func (h *Handler) Handle(ctx context.Context, ev events.SNSEvent) error {
	for _, rec := range ev.Records {
		if err := h.record(ctx, rec.SNS); err != nil {
			return err
		}
	}
	return nil
}

func (h *Handler) record(ctx context.Context, msg events.SNSEntity) error {
	var e Event
	if err := json.Unmarshal([]byte(msg.Message), &e); err != nil || e.Type() == "" {
		h.count(MetricUnreadableMessage, 1, nil)
		// The message itself is not logged: it could hold an address.
		h.Log.WarnContext(ctx, "email event", slog.String("snsMessageId", msg.MessageID),
			slog.String("outcome", "skipped"), slog.String("reason", "not an SES event"))
		return nil
	}
	attrs := []any{slog.String("snsMessageId", msg.MessageID), slog.String("eventType", e.Type()),
		slog.String("sesMessageId", e.Mail.MessageID)}
	if kinds := e.Mail.Tags["kind"]; len(kinds) > 0 {
		attrs = append(attrs, slog.String("emailKind", kinds[0])) // our own tag: the kind of email
	}

	var (
		recipients []string
		reason     Reason
		at         time.Time
		count      func()
	)
	switch {
	case e.Type() == "Bounce" && e.Bounce != nil:
		recipients = addresses(e.Bounce.BouncedRecipients)
		bounceType := e.Bounce.BounceType
		if bounceType != "Permanent" && bounceType != "Transient" {
			bounceType = "Undetermined"
		}
		attrs = append(attrs, slog.String("bounceType", bounceType), slog.String("bounceSubType", e.Bounce.BounceSubType))
		if bounceType == "Permanent" {
			reason, at = ReasonBounce, e.Bounce.Timestamp
		}
		count = func() { h.count(MetricBounces, perRecipient(recipients), map[string]string{"BounceType": bounceType}) }
	case e.Type() == "Complaint" && e.Complaint != nil:
		recipients = addresses(e.Complaint.ComplainedRecipients)
		attrs = append(attrs, slog.String("feedbackType", e.Complaint.ComplaintFeedbackType))
		reason, at = ReasonComplaint, e.Complaint.Timestamp
		count = func() { h.count(MetricComplaints, perRecipient(recipients), nil) }
	case e.Type() == "Reject":
		count = func() { h.count(MetricRejects, 1, nil) }
	case e.Type() == "DeliveryDelay" && e.DeliveryDelay != nil:
		recipients = addresses(e.DeliveryDelay.DelayedRecipients)
		attrs = append(attrs, slog.String("delayType", e.DeliveryDelay.DelayType))
		count = func() { h.count(MetricDeliveryDelays, perRecipient(recipients), nil) }
	default:
		h.Log.InfoContext(ctx, "email event", append(attrs, slog.String("outcome", "ignored"))...)
		return nil
	}
	attrs = append(attrs, slog.Any("recipients", describe(recipients)))

	outcome := "counted"
	if reason != "" && len(recipients) > 0 {
		if at.IsZero() {
			at = firstSet(msg.Timestamp, e.Mail.Timestamp, h.now())
		}
		marked, err := h.Directory.MarkEmailFailing(ctx, recipients, reason, at)
		if err != nil {
			h.Log.ErrorContext(ctx, "email event", append(attrs, slog.String("outcome", "failed"), slog.String("error", err.Error()))...)
			// Nothing is counted yet: the retry counts it once.
			return fmt.Errorf("mark %d address(es) failing after a %s (SES message %s): %w", len(recipients), reason, e.Mail.MessageID, err)
		}
		outcome = "not in directory"
		if len(marked) > 0 {
			outcome = "marked failing"
			h.count(MetricDirectoryFailing, float64(len(marked)), nil)
			names := make([]string, len(marked))
			for i, m := range marked {
				names[i] = m.String()
			}
			attrs = append(attrs, slog.Any("marked", names))
		}
		attrs = append(attrs, slog.String("reason", string(reason)))
	}
	count()
	h.Log.InfoContext(ctx, "email event", append(attrs, slog.String("outcome", outcome))...)
	return nil
}

func (h *Handler) count(name string, value float64, dims map[string]string) {
	if h.Metrics != nil {
		h.Metrics.Count(name, value, dims)
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// addresses returns the well-formed addresses of rs, without display names, at most
// maxRecipients of them.
func addresses(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		a, err := mail.ParseAddress(r.EmailAddress)
		if err != nil {
			continue
		}
		out = append(out, a.Address)
		if len(out) == maxRecipients {
			break
		}
	}
	return out
}

// perRecipient is the value to count for an event about recipients: one per address, and at
// least one (an event whose addresses were unreadable still happened).
func perRecipient(recipients []string) float64 { return float64(max(len(recipients), 1)) }

// RecipientLog is how a recipient appears in logs: never the address.
type RecipientLog struct {
	Domain string `json:"domain"`
	Hash   string `json:"hash"`
}

// describe returns the log form of each address.
func describe(addresses []string) []RecipientLog {
	out := make([]RecipientLog, len(addresses))
	for i, a := range addresses {
		out[i] = RecipientLog{Domain: Domain(a), Hash: Hash(a)}
	}
	return out
}

// Domain returns the lower-case domain of an address.
func Domain(address string) string {
	_, domain, _ := strings.Cut(address, "@")
	return strings.ToLower(domain)
}

// Hash returns a short one-way hash of an address (case-insensitive), for logs: the first 12 hex
// digits of its SHA-256. Hash a suspected address the same way to check it against a log line.
func Hash(address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(address))))
	return hex.EncodeToString(sum[:6])
}

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
