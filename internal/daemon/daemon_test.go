package daemon

import (
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/config"
)

func TestDiffDevices(t *testing.T) {
	d := func(name, host string) config.Device {
		return config.Device{Name: name, Host: host, Interfaces: []string{"*"}}
	}
	was := []config.Device{d("a", "h1"), d("b", "h2"), d("c", "h3")}
	now := []config.Device{d("c", "h3"), d("b", "h9"), d("e", "h5"), d("d", "h4")}
	added, removed, changed := DiffDevices(was, now)
	for _, tt := range []struct {
		name      string
		got, want []string
	}{
		{"added", added, []string{"d", "e"}},
		{"removed", removed, []string{"a"}},
		{"changed", changed, []string{"b"}},
	} {
		if strings.Join(tt.got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}
