package load

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// Two Runs over real loopback sockets: every call set up, voice both ways
// without loss, the caller ends on its own and the callee when told.
func TestRunOverLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real calls for 2 s")
	}
	for _, trunk := range []bool{false, true} {
		cc, err := Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		callee := netip.MustParseAddrPort(cc.(*udpBatch).c.LocalAddr().String())
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		calleeCtx, stopCallee := context.WithCancel(ctx)
		calleeRep := make(chan *Report, 1)
		go func() {
			r, err := Run(calleeCtx, Config{Role: Callee, Trunk: trunk}, cc)
			if err != nil {
				t.Errorf("callee: %v", err)
			}
			calleeRep <- r
		}()
		ca, err := Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		rc, err := Run(ctx, Config{Role: Caller, Target: callee, Calls: 20, Hold: time.Second, Trunk: trunk}, ca)
		if err != nil {
			t.Fatalf("caller: %v", err)
		}
		stopCallee()
		rb := <-calleeRep
		p, err := Merge(rc, rb)
		if err != nil {
			t.Fatal(err)
		}
		if p.Setup.Answered != 20 || p.Setup.Failed+p.Setup.Unfinished != 0 {
			t.Fatalf("trunk %v: setup %+v", trunk, p.Setup)
		}
		// Loopback on a shared machine may lose a frame to a full buffer,
		// never many, and never damages or duplicates one.
		if p.Both.LossPct > 1 || p.Both.Corrupt+p.Both.Misrouted+p.Both.Duplicates != 0 || p.CallerTo.Sent < 20*50 {
			t.Fatalf("trunk %v: %+v", trunk, p.Both)
		}
		if rc.CPUUserS+rc.CPUSysS <= 0 || rc.ElapsedS < 1 {
			t.Errorf("cpu %v+%v elapsed %v", rc.CPUUserS, rc.CPUSysS, rc.ElapsedS)
		}
	}
}
