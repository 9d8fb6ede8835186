package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ipspc/referrals/shared/adapters/dynamo"
	"github.com/ipspc/referrals/shared/edges/bounce"
)

const clearFailingUsage = `Usage: directory clear-failing (-id SPECIALIST | -area AREA)
        remove the EMAIL FAILING mark from a specialist's address (-id) or an area lead's (-area),
        once the mailbox works again; correcting the address with specialist update also clears it
`

// parseClearFailing parses "clear-failing -id ID" or "clear-failing -area AREA".
func parseClearFailing(args []string, stdout io.Writer) (action, error) {
	fs := newFlagSet("clear-failing")
	id := fs.String("id", "", "")
	area := fs.String("area", "", "")
	if err := fs.Parse(args); err != nil {
		return nil, flagError(err, clearFailingUsage, stdout)
	}
	switch {
	case fs.NArg() > 0:
		return nil, usagef(clearFailingUsage, "unexpected argument %q", fs.Arg(0))
	case (*id == "") == (*area == ""):
		return nil, usagef(clearFailingUsage, "give one of -id SPECIALIST or -area AREA")
	}
	return func(ctx context.Context, d *dynamo.Directory, stdout, _ io.Writer) error {
		holder, what := bounce.Holder{AreaID: *area}, fmt.Sprintf("lead of %s", *area)
		if *id != "" {
			s, err := d.FindSpecialist(ctx, *id)
			if err != nil {
				return err
			}
			holder, what = bounce.Holder{AreaID: s.AreaID, SpecialistID: s.ID}, fmt.Sprintf("specialist %s", s.ID)
		}
		cleared, err := d.ClearEmailFailing(ctx, holder)
		if err != nil {
			return err
		}
		if !cleared {
			_, err = fmt.Fprintf(stdout, "%s: address was not marked failing; nothing to clear\n", what)
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s: failing mark cleared; emails go to them alone again\n", what)
		return err
	}, nil
}
