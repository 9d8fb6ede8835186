// Package secrets reads the service's secrets from AWS Secrets Manager at start-up.
package secrets

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// API is the part of the Secrets Manager client used.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// LinkSecret fetches the signed-link secret named by id (an ARN or name). It must be at least 32
// bytes: a short key would make links guessable.
func LinkSecret(ctx context.Context, client API, id string) ([]byte, error) {
	if id == "" {
		return nil, fmt.Errorf("LINK_SECRET_ARN is not set")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
	if err != nil {
		return nil, fmt.Errorf("read link secret: %w", err)
	}
	if out.SecretString == nil || len(*out.SecretString) < 32 {
		return nil, fmt.Errorf("link secret %s is shorter than 32 characters", id)
	}
	return []byte(*out.SecretString), nil
}

// LinkSigner fetches the signed-link secret and returns the signer built on it: what every
// function that issues or checks specialists' links needs at start-up.
func LinkSigner(ctx context.Context, client API, id string) (*signedlink.Signer, error) {
	secret, err := LinkSecret(ctx, client, id)
	if err != nil {
		return nil, err
	}
	signer, err := signedlink.NewSigner(secret)
	if err != nil {
		return nil, fmt.Errorf("link secret: %w", err)
	}
	return signer, nil
}
