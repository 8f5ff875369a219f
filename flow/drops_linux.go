package flow

import (
	"bufio"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// KernelDrops is the number of datagrams the kernel dropped on the Collector's
// sockets because their receive buffers were full (the "drops" of /proc/net/udp and
// udp6), summed; ok is false when it cannot be read.
func (c *Collector) KernelDrops() (drops uint64, ok bool) {
	inodes := map[uint64]bool{}
	for _, conn := range c.conns {
		if ino, ok := socketInode(conn); ok {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return 0, false
	}
	found := 0
	for _, table := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 13 {
				continue
			}
			ino, err1 := strconv.ParseUint(fields[9], 10, 64)
			n, err2 := strconv.ParseUint(fields[12], 10, 64)
			if err1 == nil && err2 == nil && inodes[ino] {
				drops += n
				found++
			}
		}
		f.Close()
	}
	return drops, found > 0
}

func socketInode(conn *net.UDPConn) (uint64, bool) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, false
	}
	var st syscall.Stat_t
	var serr error
	if err := raw.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil || serr != nil {
		return 0, false
	}
	return st.Ino, true
}
