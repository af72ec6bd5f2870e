package tuntest

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	wgtun "golang.zx2c4.com/wireguard/tun"
)

func TestReadBatches(t *testing.T) {
	tests := []struct {
		name     string
		batch    int
		nbufs    int
		injected int
		want     int
	}{
		{"one at a time", 1, 4, 3, 1},
		{"batch takes all queued", 8, 8, 3, 3},
		{"limited by batch size", 2, 8, 5, 2},
		{"limited by buffers", 8, 2, 5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New("tt0", 1420, tt.batch)
			defer d.Close()
			for i := 0; i < tt.injected; i++ {
				if err := d.Inject([]byte{byte(i), 0xAA}); err != nil {
					t.Fatal(err)
				}
			}
			const off = 10
			bufs := make([][]byte, tt.nbufs)
			for i := range bufs {
				bufs[i] = make([]byte, off+16)
			}
			sizes := make([]int, tt.nbufs)
			n, err := d.Read(bufs, sizes, off)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Fatalf("Read returned %d packets, want %d", n, tt.want)
			}
			for i := 0; i < n; i++ {
				if got := bufs[i][off : off+sizes[i]]; !bytes.Equal(got, []byte{byte(i), 0xAA}) {
					t.Errorf("packet %d = %x, want %x", i, got, []byte{byte(i), 0xAA})
				}
			}
		})
	}
}

func TestWriteIsReceivedInOrder(t *testing.T) {
	d := New("tt0", 1420, 4)
	defer d.Close()
	bufs := [][]byte{
		append(make([]byte, 10), 1, 2, 3),
		append(make([]byte, 10), 4, 5),
	}
	n, err := d.Write(bufs, 10)
	if err != nil || n != 2 {
		t.Fatalf("Write = %d, %v; want 2, nil", n, err)
	}
	bufs[0][10] = 99 // the fake must have copied
	for _, want := range [][]byte{{1, 2, 3}, {4, 5}} {
		got, err := d.Receive(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("received %x, want %x", got, want)
		}
	}
	if _, err := d.Receive(time.Millisecond); err == nil {
		t.Error("Receive on an empty queue succeeded, want a timeout error")
	}
}

func TestOffsetAndBufferChecks(t *testing.T) {
	d := New("tt0", 1420, 1)
	d.MinOffset = 10
	defer d.Close()
	tests := []struct {
		name string
		op   func() error
	}{
		{"read offset below minimum", func() error {
			_, err := d.Read([][]byte{make([]byte, 64)}, []int{0}, 4)
			return err
		}},
		{"write offset below minimum", func() error {
			_, err := d.Write([][]byte{make([]byte, 64)}, 0)
			return err
		}},
		{"write offset past buffer", func() error {
			_, err := d.Write([][]byte{make([]byte, 5)}, 10)
			return err
		}},
		{"read into short buffer", func() error {
			if err := d.Inject(make([]byte, 100)); err != nil {
				return nil
			}
			_, err := d.Read([][]byte{make([]byte, 50)}, []int{0}, 10)
			return err
		}},
		{"sizes shorter than bufs", func() error {
			_, err := d.Read([][]byte{make([]byte, 50), make([]byte, 50)}, []int{0}, 10)
			return err
		}},
	}
	for _, tt := range tests {
		if err := tt.op(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestCloseUnblocksReadAndInject(t *testing.T) {
	d := New("tt0", 1420, 1)
	errc := make(chan error, 1)
	go func() {
		_, err := d.Read([][]byte{make([]byte, 64)}, []int{0}, 0)
		errc <- err
	}()
	d.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Read after Close = %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5s after Close")
	}
	if err := d.Inject([]byte{1}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Inject after Close = %v, want os.ErrClosed", err)
	}
	if _, err := d.Write([][]byte{{1}}, 0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v, want os.ErrClosed", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestEvents(t *testing.T) {
	d := New("tt0", 1280, 1)
	if e := <-d.Events(); e != wgtun.EventUp {
		t.Errorf("first event = %v, want EventUp", e)
	}
	if !d.SendEvent(wgtun.EventMTUUpdate) {
		t.Fatal("SendEvent on an open device returned false")
	}
	if e := <-d.Events(); e != wgtun.EventMTUUpdate {
		t.Errorf("event = %v, want EventMTUUpdate", e)
	}
	d.Close()
	if d.SendEvent(wgtun.EventDown) {
		t.Error("SendEvent after Close returned true")
	}
	if _, ok := <-d.Events(); ok {
		t.Error("Events channel still open after Close")
	}
	if mtu, _ := d.MTU(); mtu != 1280 {
		t.Errorf("MTU = %d, want 1280", mtu)
	}
	if name, _ := d.Name(); name != "tt0" {
		t.Errorf("Name = %q, want tt0", name)
	}
}
