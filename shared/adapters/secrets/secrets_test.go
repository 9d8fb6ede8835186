package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

type fakeAPI func(id string) (string, error)

func (f fakeAPI) GetSecretValue(_ context.Context, id, stage string) (string, error) {
	if stage == StagePrevious {
		return "", fmt.Errorf("%w: no previous version", ErrNotFound)
	}
	return f(id)
}

// stagedAPI answers by version stage, as Secrets Manager does after a rotation.
type stagedAPI map[string]any // stage → string value or error

func (s stagedAPI) GetSecretValue(_ context.Context, _, stage string) (string, error) {
	switch v := s[stage].(type) {
	case string:
		return v, nil
	case error:
		return "", v
	}
	return "", fmt.Errorf("%w: no such version", ErrNotFound)
}

func TestLinkSignerVerifiesThePreviousVersion(t *testing.T) {
	oldSecret, newSecret := strings.Repeat("o", 40), strings.Repeat("n", 40)
	before, err := LinkSigner(context.Background(), stagedAPI{StageCurrent: oldSecret}, "arn:secret")
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	oldLink := before.Sign("R-7K3M9QX2", "ann", exp)
	tests := []struct {
		name    string
		api     stagedAPI
		oldOK   bool
		wantErr string
	}{
		{"after a rotation", stagedAPI{StageCurrent: newSecret, StagePrevious: oldSecret}, true, ""},
		{"after two rotations", stagedAPI{StageCurrent: strings.Repeat("z", 40), StagePrevious: newSecret}, false, ""},
		{"no previous version", stagedAPI{StageCurrent: newSecret}, false, ""},
		{"previous unreadable", stagedAPI{StageCurrent: newSecret, StagePrevious: errors.New("denied")}, false, "denied"},
		{"previous too short", stagedAPI{StageCurrent: newSecret, StagePrevious: "short"}, false, "shorter than 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LinkSigner(context.Background(), tt.api, "arn:secret")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Verify("R-7K3M9QX2", oldLink, time.Now()); (err == nil) != tt.oldOK {
				t.Errorf("old link verifies = %v, want %v", err == nil, tt.oldOK)
			}
			if _, _, err := s.Verify("R-7K3M9QX2", s.Sign("R-7K3M9QX2", "ann", exp), time.Now()); err != nil {
				t.Errorf("a new link does not verify: %v", err)
			}
			if tt.oldOK && s.Sign("R-7K3M9QX2", "ann", exp) == oldLink {
				t.Error("new links are signed with the previous secret")
			}
		})
	}
}

func TestLinkSecret(t *testing.T) {
	long := strings.Repeat("k", 32)
	tests := []struct {
		name    string
		id      string
		api     fakeAPI
		wantErr string
	}{
		{"ok", "arn:secret", func(string) (string, error) {
			return long, nil
		}, ""},
		{"unset", "", nil, "LINK_SECRET_ARN is not set"},
		{"short", "arn:secret", func(string) (string, error) {
			return "short", nil
		}, "shorter than 32"},
		{"binary only", "arn:secret", func(string) (string, error) {
			return "", nil
		}, "shorter than 32"},
		{"api error", "arn:secret", func(string) (string, error) { return "", errors.New("denied") }, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := linkSecretVersion(context.Background(), tt.api, tt.id, StageCurrent)
			if tt.wantErr == "" {
				if err != nil || string(got) != long {
					t.Fatalf("= %q, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestLinkSignerSignsWithTheSecret(t *testing.T) {
	long := strings.Repeat("k", 40)
	api := fakeAPI(func(string) (string, error) {
		return long, nil
	})
	s, err := LinkSigner(context.Background(), api, "arn:secret")
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if id, _, err := s.Verify("R-7K3M9QX2", s.Sign("R-7K3M9QX2", "ann", exp), time.Now()); err != nil || id != "ann" {
		t.Errorf("round trip = %q, %v", id, err)
	}
	if _, err := LinkSigner(context.Background(), api, ""); err == nil {
		t.Error("no secret id: want an error")
	}
}

func TestPatientKeySecret(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", 64)
	tests := []struct {
		name    string
		id      string
		api     fakeAPI
		want    string
		wantErr string
	}{
		{name: "current version", id: "arn:p", api: func(string) (string, error) {
			return long, nil
		}, want: long},
		{name: "not configured", id: "", wantErr: "PATIENT_KEY_SECRET_ARN is not set"},
		{name: "too short", id: "arn:p", api: func(string) (string, error) {
			return "short", nil
		}, wantErr: "patient key secret arn:p (AWSCURRENT) is shorter than 32 characters"},
		{name: "unreadable", id: "arn:p", api: func(string) (string, error) {
			return "", errors.New("access denied")
		}, wantErr: "read patient key secret (AWSCURRENT): access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PatientKeySecret(context.Background(), tt.api, tt.id)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("PatientKeySecret = %q, %v", got, err)
			}
		})
	}
}
