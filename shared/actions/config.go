package actions

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ipspc/referrals/shared/dynamo"
	"github.com/ipspc/referrals/shared/referral"
)

// Config is the actions function's configuration, read from its environment (template.yaml).
type Config struct {
	// Tables: Referrals and Directory (a close releases capacity in the directory).
	Tables dynamo.Tables
	// Policy gives the deadlines of referrals assigned from the waitlist after a close.
	Policy referral.Policy
	// LinkSecretARN names the Secrets Manager secret whose SecretString is the HMAC key of the
	// signed links (read with secrets.LinkSecret, as the notifier does).
	LinkSecretARN string
	// ClosedRetention is how long a closed referral is kept before TTL deletes it (SPEC §8).
	ClosedRetention time.Duration
}

// ConfigFromEnv reads and checks every setting, naming each one that is missing or wrong, so a
// misconfigured deployment fails at start-up with one clear message.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var errs []error
	required := func(name string) string {
		v := getenv(name)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
		return v
	}
	number := func(name string, def, least int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < least {
			errs = append(errs, fmt.Errorf("%s must be a whole number of at least %d, not %q", name, least, v))
		}
		return n
	}
	c := Config{
		Tables:        dynamo.Tables{Referrals: required("REFERRALS_TABLE"), Directory: required("DIRECTORY_TABLE")},
		Policy:        referral.DefaultPolicy(),
		LinkSecretARN: required("LINK_SECRET_ARN"),
	}
	c.Policy.ContactWorkingDays = number("CONTACT_WORKING_DAYS", c.Policy.ContactWorkingDays, 1)
	c.Policy.MeetingWorkingDays = number("MEETING_WORKING_DAYS", c.Policy.MeetingWorkingDays, 1)
	c.ClosedRetention = time.Duration(number("CLOSED_RETENTION_DAYS", 730, 1)) * 24 * time.Hour
	return c, errors.Join(errs...)
}
