package intake

import (
	"errors"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/domain/referral"
	"github.com/ipspc/referrals/shared/lib/settings"
)

// Config is the intake function's configuration, read from its environment (template.yaml).
type Config struct {
	Tables dynamo.Tables
	Policy referral.Policy
	// LinkSecretARN names the signed-link secret: the intake signs and checks the form's hidden
	// token with it (signedlink RoleForm), read with secrets.LinkSigner as the other functions do.
	LinkSecretARN string
}

// ConfigFromEnv reads and checks every setting, naming each one that is missing or wrong, so a
// misconfigured deployment fails at start-up with one clear message.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	env := settings.New(getenv)
	p := referral.DefaultPolicy()
	c := Config{Tables: dynamo.Tables{
		Referrals:   env.Required("REFERRALS_TABLE"),
		Directory:   env.Required("DIRECTORY_TABLE"),
		Idempotency: env.Required("IDEMPOTENCY_TABLE"),
	}, LinkSecretARN: env.Required("LINK_SECRET_ARN")}
	p.Rules.MinAge = env.Number("MIN_AGE", p.Rules.MinAge, 0)
	p.ContactWorkingDays = env.Number("CONTACT_WORKING_DAYS", p.ContactWorkingDays, 1)
	p.MeetingWorkingDays = env.Number("MEETING_WORKING_DAYS", p.MeetingWorkingDays, 1)
	p.IdempotencyWindow = time.Duration(env.Number("IDEMPOTENCY_WINDOW_HOURS", int(p.IdempotencyWindow/time.Hour), 1)) * time.Hour
	if v := env.Optional("REFERRER_EMAIL_DOMAINS"); v != "" {
		p.Rules.ReferrerEmailDomains = nil
		for _, d := range strings.Split(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				p.Rules.ReferrerEmailDomains = append(p.Rules.ReferrerEmailDomains, d)
			}
		}
		if len(p.Rules.ReferrerEmailDomains) == 0 {
			env.Fail(errors.New("REFERRER_EMAIL_DOMAINS names no domain"))
		}
	}
	c.Policy = p
	return c, env.Err()
}
