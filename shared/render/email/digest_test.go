package email

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRenderDigest(t *testing.T) {
	d := Digest{To: []string{"lead@example.org"}, RecipientName: "Nia Lead", AreaName: "Norfolk",
		Waitlisted: 3, OldestWaitDays: 6, Overdue: 2, ReceivedLastWeek: 11, Bouncing: 1,
		Link: "https://referrals.example.org/areas/norfolk/worklist?token=abc"}
	got, err := RenderDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Weekly summary for Norfolk" {
		t.Errorf("subject = %q", got.Subject)
	}
	for _, want := range []string{"Dear Nia Lead,", "Waiting for a specialist: 3 (the longest for 6 days)", "Overdue: 2",
		"Received last week: 11", "bouncing: 1", "not getting through", d.Link} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, got.Text)
		}
	}
	for _, want := range []string{"<strong>3</strong>", "<strong>11</strong>", `href="https://referrals.example.org/areas/norfolk/worklist?token=abc"`} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, got.HTML)
		}
	}

	quiet := d
	quiet.Waitlisted, quiet.OldestWaitDays, quiet.Bouncing = 0, 0, 0
	q, err := RenderDigest(quiet)
	if err != nil || strings.Contains(q.Text, "longest") || strings.Contains(q.Text, "not getting through") {
		t.Errorf("quiet digest = %q, %v", q.Text, err)
	}

	for _, tc := range []struct {
		name string
		edit func(*Digest)
	}{
		{"no recipient", func(d *Digest) { d.To = nil }},
		{"display name", func(d *Digest) { d.To = []string{"Nia <lead@example.org>"} }},
		{"header injection in To", func(d *Digest) { d.To = []string{"lead@example.org\r\nBcc: x@example.org"} }},
		{"no area", func(d *Digest) { d.AreaName = " \n" }},
		{"no link", func(d *Digest) { d.Link = "" }},
		{"relative link", func(d *Digest) { d.Link = "/areas/norfolk/worklist" }},
		{"negative count", func(d *Digest) { d.Overdue = -1 }},
	} {
		bad := d
		tc.edit(&bad)
		if _, err := RenderDigest(bad); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v, want ErrInvalidMessage", tc.name, err)
		}
	}
	injected := d
	injected.AreaName = "Norfolk\r\nBcc: x@example.org"
	if r, err := RenderDigest(injected); err != nil || strings.ContainsAny(r.Subject, "\r\n") {
		t.Errorf("area with CRLF: subject %q, %v", r.Subject, err)
	}
}

// TestDigestGolden keeps a rendered digest in testdata for review (go test -run Golden -update).
func TestDigestGolden(t *testing.T) {
	r, err := RenderDigest(Digest{To: []string{"lead@example.org"}, RecipientName: "Nia Lead", AreaName: "Norfolk",
		Waitlisted: 3, OldestWaitDays: 6, Overdue: 2, ReceivedLastWeek: 11, Bouncing: 1,
		Link: "https://referrals.example.org/areas/norfolk/worklist?token=TOKEN"})
	if err != nil {
		t.Fatal(err)
	}
	for file, got := range map[string]string{"lead-digest.txt": "Subject: " + r.Subject + "\n\n" + r.Text, "lead-digest.html": r.HTML} {
		path := filepath.Join("testdata", file)
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil || got != string(want) {
			t.Errorf("%s is out of date or missing (run with -update): %v; got:\n%s", path, err, got)
		}
	}
}
