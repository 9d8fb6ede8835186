//go:build unix

package localstack

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// startInGroup starts cmd as the leader of its own process group, so that stopping it stops
// everything it started (the JVM's helpers, node's workers), and a Ctrl-C in the terminal reaches
// only us: we stop children in order.
func startInGroup(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(cmd.SysProcAttr)
	return cmd.Start()
}

// signalGroup sends sig to the process group led by cmd.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// stopGroup asks the group to terminate, then kills it after grace; exited is closed by whoever
// waits for the process.
func stopGroup(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	if grace > 0 {
		_ = signalGroup(cmd, syscall.SIGTERM)
		select {
		case <-exited:
			// The leader is gone; make sure no straggler in its group holds a port.
			_ = signalGroup(cmd, syscall.SIGKILL)
			return
		case <-time.After(grace):
		}
	}
	_ = signalGroup(cmd, syscall.SIGKILL)
	<-exited
}

// processAlive reports whether a process with pid exists (tests use it to prove kills).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}
