package email

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ipspc/referrals/shared/domain/notification"
)

// transport records what reaches it, and answers with err.
type transport struct {
	sent []notification.Email
	err  error
}

func (t *transport) Send(_ context.Context, e notification.Email) (string, error) {
	t.sent = append(t.sent, e)
	return "msg-1", t.err
}

// Outbox hands the transport exactly what Render made, names what the email is about, and never
// hands over a message that cannot be rendered.
func TestOutboxSend(t *testing.T) {
	good, err := Example(OutcomeCheck)
	if err != nil {
		t.Fatal(err)
	}
	noLink := good
	noLink.Link = ""
	badID := good
	badID.ReferralID = "R-1\nX"
	tests := []struct {
		name      string
		m         Message
		transport error
		wantErr   error
		errHas    string
	}{
		{name: "sent", m: good},
		{name: "unrenderable", m: noLink, wantErr: ErrInvalidMessage, errHas: `send "outcome-check" email for referral ` + good.ReferralID},
		{name: "id quoted in the error", m: badID, wantErr: ErrInvalidMessage, errHas: `referral "R-1\nX"`},
		{name: "outcome unknown passes through", m: good, transport: notification.ErrOutcomeUnknown, wantErr: notification.ErrOutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &transport{err: tt.transport}
			_, err := Outbox{Transport: tr}.Send(context.Background(), tt.m)
			if !errors.Is(err, tt.wantErr) || tt.wantErr == nil && err != nil || !strings.Contains(errText(err), tt.errHas) {
				t.Fatalf("Send = %v, want %v containing %q", err, tt.wantErr, tt.errHas)
			}
			r, rerr := Render(tt.m)
			if rerr != nil {
				if len(tr.sent) != 0 {
					t.Errorf("an unrenderable message reached the transport: %+v", tr.sent)
				}
				return
			}
			want := notification.Email{Kind: tt.m.Kind, About: "referral " + tt.m.ReferralID, To: tt.m.To, Cc: tt.m.Cc,
				Subject: r.Subject, Text: r.Text, HTML: r.HTML}
			if len(tr.sent) != 1 || !reflect.DeepEqual(tr.sent[0], want) {
				t.Errorf("transport got %+v, want %+v", tr.sent, want)
			}
		})
	}
}

func TestOutboxSendDigest(t *testing.T) {
	d := Digest{To: []string{"lead@example.org"}, RecipientName: "Nia Lead", AreaName: "Norfolk",
		Waitlisted: 3, Link: "https://referrals.example.org/areas/norfolk/worklist?token=abc"}
	tr := &transport{}
	if _, err := (Outbox{Transport: tr}).SendDigest(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	r, err := RenderDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	want := notification.Email{Kind: LeadDigest, About: "area Norfolk", To: d.To, Subject: r.Subject, Text: r.Text, HTML: r.HTML}
	if len(tr.sent) != 1 || !reflect.DeepEqual(tr.sent[0], want) {
		t.Errorf("transport got %+v, want %+v", tr.sent, want)
	}

	bad := d
	bad.Link, bad.AreaName = "", "North\nYorkshire"
	_, err = Outbox{Transport: tr}.SendDigest(context.Background(), bad)
	if !errors.Is(err, ErrInvalidMessage) || !strings.Contains(errText(err), `area "North\nYorkshire"`) || len(tr.sent) != 1 {
		t.Errorf("SendDigest(no link) = %v after %d sends, want ErrInvalidMessage naming the area quoted, and no send", err, len(tr.sent))
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
