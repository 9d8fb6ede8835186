package lead

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ipspc/referrals/shared/domain/directory"
	"github.com/ipspc/referrals/shared/domain/worklist"
	"github.com/ipspc/referrals/shared/edges/notify"
	"github.com/ipspc/referrals/shared/lib/calendar"
	"github.com/ipspc/referrals/shared/render/email"
)

// claimingAreas adds the digest's claims and counts to memoryAreas.
type claimingAreas struct {
	memoryAreas
	claims map[string]bool
}

func (c *claimingAreas) Areas(context.Context) ([]directory.Area, error) {
	return []directory.Area{
		{ID: "essex", Name: "Essex", Lead: directory.Person{Name: "Eve", Email: "eve@example.org"}},
		{ID: "norfolk", Name: "Norfolk", Lead: directory.Person{Name: "Nia", Email: "Nia.Lead@example.org"}},
		{ID: "surrey", Name: "Surrey"}, // no lead: no digest
	}, nil
}

func (c *claimingAreas) ReceivedBetween(_ context.Context, _ string, from, to calendar.Date) (int, error) {
	if to != from.AddDays(7) || from.Weekday() != time.Monday {
		return 0, errors.New("not a week from Monday")
	}
	return 5, nil
}

func (c *claimingAreas) ClaimDigest(_ context.Context, area, week string, _ time.Time) (bool, error) {
	if c.claims[area+week] {
		return false, nil
	}
	c.claims[area+week] = true
	return true, nil
}

func (c *claimingAreas) ReleaseDigest(_ context.Context, area, week string) error {
	delete(c.claims, area+week)
	return nil
}

type inbox struct {
	sent []email.Digest
	fail map[string]bool // addresses whose send fails
}

func (b *inbox) SendDigest(_ context.Context, d email.Digest) (string, error) {
	if _, err := email.RenderDigest(d); err != nil {
		return "", err
	}
	if b.fail[d.To[0]] {
		return "", errors.New("ses: throttled")
	}
	b.sent = append(b.sent, d)
	return "m", nil
}

// TestDigestRuns walks issue 12's times through the schedule: Sunday 23:00 → none; Monday 08:10
// → one per area with a lead; Monday 09:10 and Wednesday → none more; next Monday → one more.
func TestDigestRuns(t *testing.T) {
	h, signer := newHandler(t, memoryAreas{}, nil)
	store := &claimingAreas{claims: map[string]bool{}}
	mail := &inbox{fail: map[string]bool{}}
	d := &notify.Digests{Areas: store, Store: store, Received: store, Links: signer, Mailer: mail, BaseURL: "https://referrals.example.org/"}
	for _, tc := range []struct {
		name, at string
		failing  string // a lead whose send fails in this run
		want     []string
	}{
		{"Sunday 23:00", "2026-12-06T23:00:00Z", "", nil},
		{"Monday 08:10, Essex's send fails", "2026-12-07T08:10:00Z", "eve@example.org", []string{"Nia.Lead@example.org"}},
		{"Monday 09:10 retries Essex only", "2026-12-07T09:10:00Z", "", []string{"eve@example.org"}},
		{"Wednesday", "2026-12-09T12:10:00Z", "", nil},
		{"next Monday 08:10", "2026-12-14T08:10:00Z", "", []string{"eve@example.org", "Nia.Lead@example.org"}},
	} {
		mail.sent, mail.fail = nil, map[string]bool{tc.failing: true}
		at, _ := time.Parse(time.RFC3339, tc.at)
		n, err := d.Run(context.Background(), at)
		var got []string
		for _, m := range mail.sent {
			got = append(got, m.To[0])
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") || n != len(tc.want) {
			t.Errorf("%s: sent to %v (%d), want %v", tc.name, got, n, tc.want)
		}
		if (err != nil) != (tc.failing != "") {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		for _, m := range mail.sent {
			if m.Waitlisted != 1 || m.OldestWaitDays != worklist.DaysBetween(now.Add(-72*time.Hour), at) || m.ReceivedLastWeek != 5 || m.Bouncing != 1 || m.Overdue != 0 {
				t.Errorf("%s: counts %+v", tc.name, m)
			}
			// The link opens the worklist of the lead's own area, and no other.
			u, err := url.Parse(m.Link)
			if err != nil || u.Host != "referrals.example.org" || !strings.HasPrefix(u.Path, "/areas/") {
				t.Fatalf("link %q", m.Link)
			}
			h.Now = func() time.Time { return at }
			res, _ := h.Handle(context.Background(), get(u.Path, u.Query().Get("token")))
			if res.StatusCode != 200 {
				t.Errorf("%s: the digest's link answers %d", tc.name, res.StatusCode)
			}
			other := strings.Replace(u.Path, "/norfolk/", "/essex/", 1)
			if other == u.Path {
				other = strings.Replace(u.Path, "/essex/", "/norfolk/", 1)
			}
			if res, _ := h.Handle(context.Background(), get(other, u.Query().Get("token"))); res.StatusCode != 403 {
				t.Errorf("%s: the link opens another area's worklist: %d", tc.name, res.StatusCode)
			}
		}
	}
}
