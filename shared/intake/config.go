package intake

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ipspc/referrals/shared/dynamo"
	"github.com/ipspc/referrals/shared/referral"
)

// Config is the intake function's configuration, read from its environment (template.yaml).
type Config struct {
	Tables dynamo.Tables
	Policy referral.Policy
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
	p := referral.DefaultPolicy()
	c := Config{Tables: dynamo.Tables{
		Referrals:   required("REFERRALS_TABLE"),
		Directory:   required("DIRECTORY_TABLE"),
		Idempotency: required("IDEMPOTENCY_TABLE"),
	}}
	p.Rules.MinAge = number("MIN_AGE", p.Rules.MinAge, 0)
	p.ContactWorkingDays = number("CONTACT_WORKING_DAYS", p.ContactWorkingDays, 1)
	p.MeetingWorkingDays = number("MEETING_WORKING_DAYS", p.MeetingWorkingDays, 1)
	p.IdempotencyWindow = time.Duration(number("IDEMPOTENCY_WINDOW_HOURS", int(p.IdempotencyWindow/time.Hour), 1)) * time.Hour
	if v := getenv("REFERRER_EMAIL_DOMAINS"); v != "" {
		p.Rules.ReferrerEmailDomains = nil
		for _, d := range strings.Split(v, ",") {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				p.Rules.ReferrerEmailDomains = append(p.Rules.ReferrerEmailDomains, d)
			}
		}
		if len(p.Rules.ReferrerEmailDomains) == 0 {
			errs = append(errs, errors.New("REFERRER_EMAIL_DOMAINS names no domain"))
		}
	}
	c.Policy = p
	return c, errors.Join(errs...)
}
