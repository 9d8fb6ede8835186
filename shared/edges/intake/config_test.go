package intake

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{"REFERRALS_TABLE": "r", "DIRECTORY_TABLE": "d", "IDEMPOTENCY_TABLE": "i", "LINK_SECRET_ARN": "arn:link"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; empty for success
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", env: base, check: func(t *testing.T, c Config) {
			p := c.Policy
			if p.Rules.MinAge != 18 || p.ContactWorkingDays != 2 || p.MeetingWorkingDays != 10 || p.IdempotencyWindow != 24*time.Hour {
				t.Errorf("defaults = %+v", p)
			}
			if len(p.Rules.ReferrerEmailDomains) != 1 || p.Rules.ReferrerEmailDomains[0] != "nhs.net" {
				t.Errorf("domains = %v", p.Rules.ReferrerEmailDomains)
			}
			if c.Tables.Referrals != "r" || c.Tables.Directory != "d" || c.Tables.Idempotency != "i" {
				t.Errorf("tables = %+v", c.Tables)
			}
			if c.LinkSecretARN != "arn:link" {
				t.Errorf("LinkSecretARN = %q", c.LinkSecretARN)
			}
		}},
		{name: "overrides", env: with(base, map[string]string{"MIN_AGE": "16", "CONTACT_WORKING_DAYS": "3", "MEETING_WORKING_DAYS": "15", "REFERRER_EMAIL_DOMAINS": " NHS.net, example.nhs.uk ,", "IDEMPOTENCY_WINDOW_HOURS": "48"}),
			check: func(t *testing.T, c Config) {
				p := c.Policy
				if p.Rules.MinAge != 16 || p.ContactWorkingDays != 3 || p.MeetingWorkingDays != 15 || p.IdempotencyWindow != 48*time.Hour {
					t.Errorf("policy = %+v", p)
				}
				if strings.Join(p.Rules.ReferrerEmailDomains, "|") != "nhs.net|example.nhs.uk" {
					t.Errorf("domains = %v", p.Rules.ReferrerEmailDomains)
				}
			}},
		{name: "missing table", env: map[string]string{"REFERRALS_TABLE": "r", "DIRECTORY_TABLE": "d", "LINK_SECRET_ARN": "a"}, wantErr: "IDEMPOTENCY_TABLE is not set"},
		{name: "missing link secret", env: map[string]string{"REFERRALS_TABLE": "r", "DIRECTORY_TABLE": "d", "IDEMPOTENCY_TABLE": "i"}, wantErr: "LINK_SECRET_ARN is not set"},
		{name: "bad number", env: with(base, map[string]string{"CONTACT_WORKING_DAYS": "two"}), wantErr: "CONTACT_WORKING_DAYS"},
		{name: "zero days", env: with(base, map[string]string{"MEETING_WORKING_DAYS": "0"}), wantErr: "MEETING_WORKING_DAYS"},
		{name: "empty domains", env: with(base, map[string]string{"REFERRER_EMAIL_DOMAINS": " , "}), wantErr: "names no domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func with(base, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}
