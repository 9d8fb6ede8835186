// Package secrets reads the service's secrets from AWS Secrets Manager at start-up.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/ipspc/referrals/shared/lib/signedlink"
)

// API is the part of the Secrets Manager client used.
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Version stages Secrets Manager keeps through a rotation.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// LinkSecret fetches the current signed-link secret named by id (an ARN or name). It must be at
// least 32 bytes: a short key would make links guessable.
func LinkSecret(ctx context.Context, client API, id string) ([]byte, error) {
	secret, _, err := linkSecretVersion(ctx, client, id, StageCurrent)
	return secret, err
}

// PatientKeySecret fetches the patient-key secret named by id (PATIENT_KEY_SECRET_ARN): the key of
// the keyed hashes that stand for NHS numbers and idempotency keys in stored keys. Only its
// current version is read: it is never rotated (docs/operations.md), since a new key would orphan
// every open case already stored.
func PatientKeySecret(ctx context.Context, client API, id string) ([]byte, error) {
	secret, _, err := secretVersion(ctx, client, "patient key secret", "PATIENT_KEY_SECRET_ARN", id, StageCurrent)
	return secret, err
}

// LinkSecrets fetches the current signed-link secret and, when there has been a rotation, the
// previous one (SPEC §8: a link signed before a rotation works until it expires).
func LinkSecrets(ctx context.Context, client API, id string) (current, previous []byte, err error) {
	if current, _, err = linkSecretVersion(ctx, client, id, StageCurrent); err != nil {
		return nil, nil, err
	}
	previous, found, err := linkSecretVersion(ctx, client, id, StagePrevious)
	if err != nil || !found {
		return current, nil, err // a secret never rotated has no previous version
	}
	return current, previous, nil
}

// linkSecretVersion fetches one version stage of the secret; found is false when the secret has
// no version in that stage.
func linkSecretVersion(ctx context.Context, client API, id, stage string) (secret []byte, found bool, err error) {
	return secretVersion(ctx, client, "link secret", "LINK_SECRET_ARN", id, stage)
}

func secretVersion(ctx context.Context, client API, what, env, id, stage string) (secret []byte, found bool, err error) {
	if id == "" {
		return nil, false, fmt.Errorf("%s is not set", env)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id, VersionStage: aws.String(stage)})
	var nf *smtypes.ResourceNotFoundException
	switch {
	case stage != StageCurrent && errors.As(err, &nf):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("read %s (%s): %w", what, stage, err)
	}
	if out.SecretString == nil || len(*out.SecretString) < 32 {
		return nil, false, fmt.Errorf("%s %s (%s) is shorter than 32 characters", what, id, stage)
	}
	return []byte(*out.SecretString), true, nil
}

// LinkSigner fetches the signed-link secrets and returns the signer built on them, signing with
// the current version and verifying with it and the previous one: what every function that
// issues or checks links needs at start-up.
func LinkSigner(ctx context.Context, client API, id string) (*signedlink.Signer, error) {
	current, previous, err := LinkSecrets(ctx, client, id)
	if err != nil {
		return nil, err
	}
	var older [][]byte
	if previous != nil {
		older = append(older, previous)
	}
	signer, err := signedlink.NewSigner(current, older...)
	if err != nil {
		return nil, fmt.Errorf("link secret: %w", err)
	}
	return signer, nil
}
