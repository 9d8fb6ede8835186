package dynamo

import (
	"github.com/ipspc/referrals/shared/edges/bounce"
	"github.com/ipspc/referrals/shared/edges/notify"
)

// The edges declare the interfaces they use, and the adapter imports no edge; these checks keep
// the stores fitting them.
var (
	_ notify.Store     = (*Notifications)(nil)
	_ bounce.Directory = (*Directory)(nil)
)
