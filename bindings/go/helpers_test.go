package vyomcomm_test

import (
	"net"
	"runtime"
	"testing"
)

// The simulator's only Twilio account (tests/sim/sim.h).
const (
	simTwilioSID   = "AC0123456789abcdef0123456789abcdef"
	simTwilioToken = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func runtimeGC() { runtime.GC() }
