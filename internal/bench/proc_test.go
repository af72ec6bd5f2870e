package bench

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	for _, tt := range []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"1234 (iaxcrypt) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 8 0 100 0 0", 3250 * time.Millisecond, true},
		{"99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 1 2 0 0", 30 * time.Millisecond, true},
		{"99 (x) R 1 2", 0, false},
		{"garbage", 0, false},
		{"99 (x) R 1 99 99 0 -1 0 0 0 0 0 u s 0 0", 0, false},
	} {
		got, err := parseStatCPU(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%q: %v, %v; want %v ok=%v", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseStatusRSS(t *testing.T) {
	got, err := parseStatusRSS(strings.NewReader("Name:\tx\nVmPeak:\t 100 kB\nVmRSS:\t   12345 kB\n"))
	if err != nil || got != 12345*1024 {
		t.Fatalf("%d, %v", got, err)
	}
	if _, err := parseStatusRSS(strings.NewReader("Name:\tkthread\n")); err == nil {
		t.Fatal("no error without VmRSS")
	}
}

// The readers work on this very process.
func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, err := ProcCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	rss, err := ProcRSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Fatalf("RSS %d, %v", rss, err)
	}
}
