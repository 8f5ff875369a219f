package snmpsim

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mrtgo/mrtgo/internal/testneed"
)

func TestNetSNMPTools(t *testing.T) {
	dev := testDevice()
	a, _ := startAgent(t, dev)
	n := len(dev.Interfaces)
	target := fmt.Sprintf("127.0.0.1:%d", a.Port())
	tests := []struct {
		tool string
		args []string
		want int // varbind lines
	}{
		{"snmpwalk", []string{"-v1", "-c", dev.Community, target, ".1.3.6.1.2.1"}, 6 + 1 + 19*n + 8*n + 1},
		{"snmpwalk", []string{"-v2c", "-c", dev.Community, target, ".1.3.6.1.2.1"}, 6 + 1 + 35*n + 1},
		{"snmpbulkwalk", []string{"-v2c", "-c", dev.Community, target, ".1.3.6.1.2.1"}, 6 + 1 + 35*n + 1},
		{"snmpbulkwalk", []string{"-v2c", "-Cr3", "-c", dev.Community, target, ".1.3.6.1.2.1.31.1.1.1.1"}, n},
		{"snmpget", []string{"-v2c", "-c", dev.Community, target, oidSysName, oidIfHCIn + ".1", oidIfName + ".3"}, 3},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.tool+" "+strings.Join(tt.args[:1], " ")+" "+tt.args[len(tt.args)-1], func(t *testing.T) {
			path := testneed.Program(t, tt.tool, "apt-get install snmp")
			args := append([]string{"-On", "-m", "", "-t", "2", "-r", "1"}, tt.args...)
			cmd := exec.Command(path, args...)
			// Keep net-snmp away from the system's configuration and state.
			cmd.Env = append(os.Environ(), "MIBS=", "SNMPCONFPATH="+dir, "SNMP_PERSISTENT_DIR="+dir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %v: %v\n%s", tt.tool, args, err, out)
			}
			var vbs []string
			for line := range strings.Lines(string(out)) {
				// Walking to the end of the MIB ends with "End of MIB" (v1)
				// or a "No more variables left" line (v2c), as against snmpd.
				if strings.HasPrefix(line, ".1.3.6.1.") && !strings.Contains(line, "No more variables left") {
					vbs = append(vbs, line)
				}
				for _, bad := range []string{"Error", "Timeout", "No Such", "OID not increasing"} {
					if strings.Contains(line, bad) {
						t.Errorf("%s output has %q: %s", tt.tool, bad, line)
					}
				}
			}
			if len(vbs) != tt.want {
				t.Errorf("%s: got %d varbinds, want %d\n%s", tt.tool, len(vbs), tt.want, out)
			}
			if tt.tool == "snmpbulkwalk" && tt.want == n {
				for i, line := range vbs {
					if want := fmt.Sprintf("%q", dev.Interfaces[i].Name); !strings.Contains(line, want) {
						t.Errorf("ifName row %d: got %s, want %s", i, strings.TrimSpace(line), want)
					}
				}
			}
		})
	}
}
