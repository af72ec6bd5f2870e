package route

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestConfigDefaultsAndValidation(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		want    Config
		wantErr bool
	}{
		{"defaults", Config{TunName: "iax0"},
			Config{TunName: "iax0", AppPort: 4569, Table: DefaultTable, Priority: DefaultPriority, FwMark: DefaultFwMark}, false},
		{"kept", Config{TunName: "t", AppPort: 5000, Table: 77, Priority: 100, FwMark: 3},
			Config{TunName: "t", AppPort: 5000, Table: 77, Priority: 100, FwMark: 3}, false},
		{"no tun", Config{}, Config{}, true},
		{"main table", Config{TunName: "t", Table: 254}, Config{}, true},
		{"local table", Config{TunName: "t", Table: 255}, Config{}, true},
		{"negative table", Config{TunName: "t", Table: -1}, Config{}, true},
		{"priority after main", Config{TunName: "t", Priority: 32760}, Config{}, true},
		{"negative priority", Config{TunName: "t", Priority: -5}, Config{}, true},
	}
	for _, tt := range tests {
		got, err := tt.in.withDefaults()
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s: error %v, want ErrInvalidConfig", tt.name, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}

func TestStaleErrorMatches(t *testing.T) {
	var err error = &StaleError{Found: []string{"rule pref 4561 ipproto udp sport 4569 lookup 17769"}}
	if !errors.Is(err, ErrStale) {
		t.Error("StaleError does not match ErrStale")
	}
	if msg := err.Error(); !strings.Contains(msg, "iaxcrypt down") || !strings.Contains(msg, "sport 4569") {
		t.Errorf("StaleError message %q should list what was found and say what to do", msg)
	}
}
