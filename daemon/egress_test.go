package daemon

import (
	"errors"
	"reflect"
	"testing"
)

func TestEgressMover(t *testing.T) {
	var moved []string
	step := func(what string, fail *bool) egressStep {
		return egressStep{what, func(iface string) error {
			if *fail {
				return errors.New("no such interface")
			}
			moved = append(moved, what+"@"+iface)
			return nil
		}}
	}
	ok, bad := false, false
	m := &egressMover{current: "en0", steps: []egressStep{step("udp4", &ok), step("udp6", &bad), step("pf", &ok)}}
	if err := m.Move("en0", "en1"); err != nil || m.Current() != "en1" {
		t.Fatalf("Move: %v, current %q", err, m.Current())
	}
	if want := []string{"udp4@en1", "udp6@en1", "pf@en1"}; !reflect.DeepEqual(moved, want) {
		t.Errorf("steps %v, want %v in order", moved, want)
	}
	moved, bad = nil, true
	err := m.Move("en1", "en7")
	if err == nil || m.Current() != "en1" {
		t.Fatalf("a failing step: %v, current %q; want an error and still en1", err, m.Current())
	}
	if want := []string{"udp4@en7"}; !reflect.DeepEqual(moved, want) {
		t.Errorf("steps after a failure: %v, want %v (stop at the failing one)", moved, want)
	}
	if msg := err.Error(); msg != "move udp6 from en1 to en7: no such interface" {
		t.Errorf("error %q does not say which step failed", msg)
	}
}
