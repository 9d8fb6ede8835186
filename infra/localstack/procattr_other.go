//go:build unix && !linux

package localstack

import "syscall"

// setParentDeathSignal has no equivalent outside Linux: there, Close is the only clean-up.
func setParentDeathSignal(*syscall.SysProcAttr) {}
