package actions

import (
	"time"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/settings"
)

// Config is the actions function's configuration, read from its environment (template.yaml).
type Config struct {
	// Tables: Referrals and Directory (a close releases capacity in the directory).
	Tables dynamo.Tables
	// Policy gives the deadlines of referrals assigned from the waitlist after a close.
	Policy referral.Policy
	// LinkSecretARN names the Secrets Manager secret whose SecretString is the HMAC key of the
	// signed links (read with secrets.LinkSigner, as the notifier does).
	LinkSecretARN string
	// ClosedRetention is how long a closed referral is kept before TTL deletes it (SPEC §8).
	ClosedRetention time.Duration
}

// ConfigFromEnv reads and checks every setting, naming each one that is missing or wrong, so a
// misconfigured deployment fails at start-up with one clear message.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	env := settings.New(getenv)
	c := Config{
		Tables:        dynamo.Tables{Referrals: env.Required("REFERRALS_TABLE"), Directory: env.Required("DIRECTORY_TABLE")},
		Policy:        referral.DefaultPolicy(),
		LinkSecretARN: env.Required("LINK_SECRET_ARN"),
	}
	c.Policy.ContactWorkingDays = env.Number("CONTACT_WORKING_DAYS", c.Policy.ContactWorkingDays, 1)
	c.Policy.MeetingWorkingDays = env.Number("MEETING_WORKING_DAYS", c.Policy.MeetingWorkingDays, 1)
	c.ClosedRetention = env.Days("CLOSED_RETENTION_DAYS", 730)
	return c, env.Err()
}
