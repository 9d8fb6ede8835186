package actions

import (
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	full := map[string]string{
		"REFERRALS_TABLE": "refs", "DIRECTORY_TABLE": "dir", "LINK_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:1:secret:link",
		"CONTACT_WORKING_DAYS": "3", "MEETING_WORKING_DAYS": "12",
	}
	tests := []struct {
		name    string
		unset   []string
		set     map[string]string
		wantErr []string // each must appear in the error
		check   func(t *testing.T, c Config)
	}{
		{name: "everything set", check: func(t *testing.T, c Config) {
			if c.Tables.Referrals != "refs" || c.Tables.Directory != "dir" || c.LinkSecretARN != full["LINK_SECRET_ARN"] ||
				c.Policy.ContactWorkingDays != 3 || c.Policy.MeetingWorkingDays != 12 {
				t.Errorf("config = %+v", c)
			}
		}},
		{name: "defaults for working days", unset: []string{"CONTACT_WORKING_DAYS", "MEETING_WORKING_DAYS"}, check: func(t *testing.T, c Config) {
			if c.Policy.ContactWorkingDays != 2 || c.Policy.MeetingWorkingDays != 10 {
				t.Errorf("policy = %+v", c.Policy)
			}
		}},
		{name: "every missing setting is named", unset: []string{"REFERRALS_TABLE", "DIRECTORY_TABLE", "LINK_SECRET_ARN"},
			wantErr: []string{"REFERRALS_TABLE", "DIRECTORY_TABLE", "LINK_SECRET_ARN"}},
		{name: "bad numbers", set: map[string]string{"CONTACT_WORKING_DAYS": "two", "MEETING_WORKING_DAYS": "0"},
			wantErr: []string{"CONTACT_WORKING_DAYS", "MEETING_WORKING_DAYS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			for k, v := range full {
				env[k] = v
			}
			for _, k := range tt.unset {
				delete(env, k)
			}
			for k, v := range tt.set {
				env[k] = v
			}
			c, err := ConfigFromEnv(func(k string) string { return env[k] })
			if (err != nil) != (len(tt.wantErr) > 0) {
				t.Fatalf("err = %v, want errors naming %v", err, tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
