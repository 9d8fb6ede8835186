//go:build linux

package localstack

import "syscall"

// setParentDeathSignal makes the kernel kill the child if we die without stopping it (kill -9,
// a crashed test binary), so no emulator or worker is left holding a port.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
