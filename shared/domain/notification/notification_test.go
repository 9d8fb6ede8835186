package notification

import "testing"

func TestNoticeString(t *testing.T) {
	tests := []struct {
		n    Notice
		want string
	}{
		{Notice{Kind: Assignment}, "assignment"},
		{Notice{Kind: Withdrawn, Audience: AudienceReferrer}, "withdrawn to referrer"},
		{Notice{Kind: Assignment, Audience: AudienceLead}, "assignment to lead"},
	}
	for _, tt := range tests {
		if got := tt.n.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestKindValid(t *testing.T) {
	for _, k := range Kinds {
		if !k.Valid() {
			t.Errorf("%q.Valid() = false, want true", k)
		}
	}
	for _, k := range []Kind{"", LeadDigest, "Assignment", "nope"} {
		if k.Valid() {
			t.Errorf("%q.Valid() = true, want false", k)
		}
	}
}
