package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

type fakeAPI func(id string) (*secretsmanager.GetSecretValueOutput, error)

func (f fakeAPI) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(*in.SecretId)
}

func TestLinkSecret(t *testing.T) {
	long := strings.Repeat("k", 32)
	tests := []struct {
		name    string
		id      string
		api     fakeAPI
		wantErr string
	}{
		{"ok", "arn:secret", func(string) (*secretsmanager.GetSecretValueOutput, error) {
			return &secretsmanager.GetSecretValueOutput{SecretString: &long}, nil
		}, ""},
		{"unset", "", nil, "LINK_SECRET_ARN is not set"},
		{"short", "arn:secret", func(string) (*secretsmanager.GetSecretValueOutput, error) {
			s := "short"
			return &secretsmanager.GetSecretValueOutput{SecretString: &s}, nil
		}, "shorter than 32"},
		{"binary only", "arn:secret", func(string) (*secretsmanager.GetSecretValueOutput, error) {
			return &secretsmanager.GetSecretValueOutput{SecretBinary: []byte(long)}, nil
		}, "shorter than 32"},
		{"api error", "arn:secret", func(string) (*secretsmanager.GetSecretValueOutput, error) { return nil, errors.New("denied") }, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LinkSecret(context.Background(), tt.api, tt.id)
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
	api := fakeAPI(func(string) (*secretsmanager.GetSecretValueOutput, error) {
		return &secretsmanager.GetSecretValueOutput{SecretString: &long}, nil
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
