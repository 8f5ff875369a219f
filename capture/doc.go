// Package capture records short packet captures of the frames of one event (a port
// scan, a sweep, a SYN flood, a DDoS that package detect reported) into pcap files
// that tcpdump and Wireshark read. It is pure Go: Linux's AF_PACKET socket, read with
// recvmsg as gopacket's pcapgo reads it, and the pcap format written directly; no
// libpcap, no cgo. (pcapgo itself is not used: it imports gopacket/layers, whose
// tables are built at the start of every process that links it, 10-40 ms of each
// cron "poll --once" of a binary that captures only now and then.) It knows nothing of
// detectors, events or pages: it is given a name and a Filter.
//
// # Basics
//
// New takes the Options (the local interface, the directory, how long a capture runs,
// how large its file may grow, how long files are kept) and returns a Capturer. Start
// begins a capture of the frames a Filter selects and returns at once with the file's
// name, "20261129T120501Z-NAME.pcap" (the start time in UTC); the capture runs in its
// own goroutine until Options.Duration (30 s) passes, its file would pass
// Options.MaxBytes (10 MiB), or Close. At most Options.MaxActive (4) run at once:
// Start beyond that returns ErrBusy, so that an attack of many events does not start
// a capture for each. Wait waits for a capture's end and tells why it ended; Active
// lists those running; Stats counts frames seen, selected, written and dropped by the
// kernel, for /metrics.
//
// # Filtering
//
// Each capture opens its own socket on the interface (captures are rare and short),
// which receives every frame the interface sends and receives, both directions. The
// Filter is applied in the process: MatchFrame reads the bytes in place (Ethernet, up
// to two 802.1Q or 802.1ad tags, the IPv4 or IPv6 header and IPv6 extension headers,
// TCP or UDP ports, TCP flags) and allocates nothing: 11 to 25 ns a frame with the
// filter of a scan, a sweep or a SYN flood, 60 to 130 with a flood's of 32 sources
// (BenchmarkMatchFrame over a mix of frames, on one core of the 2-core test machine,
// the higher figures while it was busy), far less than the system call that reads
// the frame. Filter.BPF writes the same filter as a pcap-filter(7) expression: over
// the frames of the test mix tcpdump selects exactly the frames MatchFrame does
// (TestBPFAgreesWithTcpdump), except as BPF documents for IPv6 ports behind extension
// headers.
//
// Linux takes the VLAN tag off a received frame (the card does, with VLAN offload, or
// the kernel's receive path, as on veth) and reports it beside the frame; like
// libpcap, a capture puts it back in the frame it writes (as an 802.1Q tag: the tag's
// protocol is not kept), and counts it when it matches, so a file holds what
// MatchFrame and tcpdump select from the file itself (TestLiveVLAN).
//
// # Timing
//
// A blocking recvmsg is not ended by closing its socket from another goroutine: on a
// quiet interface it would block past the deadline, until the next frame. A capture
// instead waits with poll(2) on its socket, made non-blocking, and on an eventfd
// that Close writes to: it ends at its deadline to the millisecond when no frame
// comes, and at once on Close. When ready, a capture reads up to 256 frames without
// waiting; at its end it reads what is still in the socket's queue, so that the
// frames that came before the deadline or Close are in the file. A read error
// (ENETDOWN when the interface goes down; the socket receives again when it comes
// back) does not end a capture unless three come in a row, each within a second of
// the last (TestLiveInterfaceDown). The socket asks for a 4 MiB receive buffer
// (SO_RCVBUFFORCE, or SO_RCVBUF up to net.core.rmem_max); the frames the kernel
// dropped when it was full are counted in Stats.Dropped.
//
// # Files
//
// A capture writes to NAME.pcap.part: the pcap header (microsecond timestamps, link
// type Ethernet, Options.SnapLen), then each selected frame, buffered and written out
// at least every second, so that the running capture can be read by tcpdump -r from
// its ".part" file. When it ends the file is synced and renamed to NAME.pcap: a file
// under its final name is always complete. A crash of the process (kill -9) leaves
// the ".part" file, whole up to its last write but perhaps with a frame cut short at
// its end (a power loss, what of it reached the disk); the next New on the directory
// cuts each such file back to its last whole frame, syncs it and gives it its final
// name (TestLiveCrash), and deletes one without a whole header. A capture's frames are kept to Options.SnapLen bytes (262,144 by
// default, tcpdump's: whole frames, GSO and GRO frames of 64 KiB and more too, which
// the socket sees before segmentation); MaxBytes counts every byte of the file,
// headers included, and the file never passes it. Files are created 0640 and the
// directory 0750: captures hold payloads.
//
// Options.Keep (7 days) is how long files are kept, by the start time in their names;
// New deletes those older, as does each capture when it ends, and Prune when called.
// Other files in the directory are left alone. One Capturer may use a directory at a
// time: New takes a lock (the file LOCK in it) and fails with ErrLocked when another
// holds it.
//
// Durations are measured on the real clock; Options.Now gives the times of names and
// retention, so that tests can move it.
//
// # Caveats
//
// Capturing needs Linux and CAP_NET_RAW, and an interface that carries Ethernet
// frames (Ethernet, veth, a bridge, a bond, a VLAN device, loopback; not tun or
// WireGuard). The socket does not make the interface promiscuous: on a mirror port,
// set the interface promiscuous. Every frame on the interface is copied to the
// process to be filtered (one recvmsg each), not filtered in the kernel: on a busy
// interface a capture costs a share of a core, and in a flood the kernel may drop
// frames (Stats.Dropped). IPv4 fragments other than the first have no ports or flags
// and match only a Filter that reads neither. Frames with three or more VLAN tags
// never match.
package capture
